/** What the customer does: write, leave, answer the satisfaction survey. */
import type { Context } from './draft';
import { Draft, reject, unchanged } from './draft';
import type { ConversationState, Decision, InboundMessage } from './model';
import { dedupeWindow, isNew } from './model';
import { sendOutOfOffice } from './out-of-office';
import { wake } from './rules-snooze';

export function onCustomerMessage(ctx: Context, input: { message: InboundMessage }): Decision {
  const { state, actor, now } = ctx;
  const message = input.message;
  if (actor.kind !== 'customer') return reject('forbidden', 'only the customer sends customer messages');
  if (state.recentMessageIds.includes(message.messageId)) return unchanged(state);
  const score = state.status === 'resolved' ? surveyAnswer(message, state) : null;

  // The window runs from when the customer wrote; a provider clock ahead of ours is clamped to now.
  const at = message.sentAt !== undefined && message.sentAt < now ? message.sentAt : now;
  const draft = new Draft(ctx);
  const newEpisode = {
    episode: state.episode + 1,
    assigneeId: null,
    assignedAt: null,
    closedReason: null,
    closedAt: null,
    unreadCount: 0,
    archived: false,
    csatScore: null,
    routeTeam: null,
    disconnectedAt: null,
    campaignId: message.replyTo?.campaignId ?? null,
    routingAttributes: message.attributes ?? {},
    windowExpiryRecordedFor: null,
  };
  switch (state.status) {
    case 'closed':
    case 'resolved':
      if (score !== null) {
        // Seed 002: the answer to the survey closes the episode with its score instead of opening the next.
        draft.close('resolved', { csatScore: score, csatMessageId: null }, { csatScore: score });
      } else {
        // Only a customer message reopens; an unanswered survey simply ends with the episode.
        draft.transition('open', isNew(state) ? 'first_customer_message' : 'customer_message', newEpisode);
      }
      break;
    case 'waiting':
      // Seed 004: the customer revives a waiting conversation; it goes back to the queue.
      draft.transition('open', 'customer_returned', { assigneeId: null, assignedAt: null });
      break;
    case 'snoozed':
      // SPEC 9: the customer wakes it, back to its assignee (or to open when nobody holds it).
      wake(draft, 'customer_message', now);
      break;
    case 'open':
    case 'assigned':
    case 'in_flow': // recorded; the automation owns the conversation until it ends
    case 'wrap_up': // recorded for the agent finishing up; the episode is over but not yet closed
      break;
  }
  draft.set({
    unreadCount: state.status === 'in_flow' || score !== null ? draft.state.unreadCount : draft.state.unreadCount + 1,
    lastCustomerMessageAt: Math.max(state.lastCustomerMessageAt ?? at, at),
    lastActivityAt: now,
    customerName: message.customerName ?? state.customerName,
    recentMessageIds: [...state.recentMessageIds, message.messageId].slice(-dedupeWindow),
    // The customer wrote: whatever the provider said about the old window, a new one is open.
    windowClosedAt: null,
    // Waiting since the oldest unanswered message of the episode (Draft.done clears it if this closed it).
    waitingSince: draft.state.episode !== state.episode || state.waitingSince === null ? at : Math.min(state.waitingSince, at),
  });
  draft.record({
    messageId: message.messageId,
    direction: 'inbound',
    kind: message.kind ?? 'text',
    text: message.text ?? null,
    template: null,
    content: message.content ?? null,
    delivery: null,
    authorId: null,
    sentAt: message.sentAt ?? null,
    replyTo: message.replyTo ?? null,
    attributes: message.attributes ?? null,
    ...(message.truncated ? { truncated: true as const } : {}),
  });
  // SPEC 9: outside business hours the system answers (at most once per cooldown; out-of-office.ts).
  sendOutOfOffice(draft, ctx);
  return draft.done();
}

/**
 * The score when a message answers the satisfaction survey waiting in `resolved`: a button or list
 * reply (to the survey, or with no context) whose choice is a score 1-5, or a text that is just a digit
 * 1-5. Anything else is a new question and starts the next episode.
 */
export function surveyAnswer(message: InboundMessage, state: ConversationState): number | null {
  const kind = message.kind ?? 'text';
  if (kind === 'text') return scoreOf(message.text ?? '', /^\s*([1-5])\s*$/);
  if (kind !== 'button' && kind !== 'interactive') return null;
  // A reply quoting another message is not an answer; one quoting the survey before its send reported
  // (the provider's id not known yet) is given the benefit of the doubt.
  const surveyId = state.outbox.find((e) => e.messageId === state.csatMessageId)?.providerMessageId ?? null;
  const answered = message.replyTo?.messageId;
  if (answered !== undefined && surveyId !== null && answered !== surveyId) return null;
  const choice = message.content?.choice;
  return scoreOf(choice?.id ?? '', /^\D*([1-5])\D*$/) ?? scoreOf(choice?.title ?? message.text ?? '', /^\D*([1-5])\D*$/);
}

function scoreOf(text: string, pattern: RegExp): number | null {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : null;
}

/**
 * Seed 004: a customer who leaves (ends the chat, disconnects) before assignment closes the conversation;
 * after assignment it ends it (wrap-up when the policy has one). Other presets ignore it.
 */
export function onCustomerLeft(ctx: Context): Decision {
  const { state, actor, policy } = ctx;
  if (actor.kind !== 'customer' && actor.kind !== 'service') return reject('forbidden', 'only the customer (through a service) leaves');
  if (!policy.customerLeaveEnds) return unchanged(state);
  const draft = new Draft(ctx);
  if (state.status === 'open') draft.close('customer_left');
  else if (state.status === 'assigned' && policy.wrapUpCapacity !== null) draft.transition('wrap_up', 'customer_left');
  else if (state.status === 'assigned') draft.close('customer_left');
  else return unchanged(state);
  return draft.done();
}

/** Seed 002: the survey's answer closes a resolved conversation and keeps the score. */
export function onCsatAnswer(ctx: Context, input: { score: number }): Decision {
  const { state, actor } = ctx;
  if (actor.kind !== 'customer' && actor.kind !== 'service') return reject('forbidden', 'only the customer (through a service) answers surveys');
  if (!Number.isFinite(input.score)) return reject('validation_failed', 'score must be a number');
  if (state.status !== 'resolved') return reject('conflict', 'no satisfaction survey is waiting for an answer');
  const draft = new Draft(ctx);
  draft.close('resolved', { csatScore: input.score }, { csatScore: input.score });
  return draft.done();
}
