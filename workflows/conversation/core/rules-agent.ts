/**
 * What users of the account do (SPEC sections 2 and 3). Each rule checks, in this order: who may ever
 * do it (`forbidden`), whether the conversation has ended (`conversation_closed`), whether it is the
 * caller's (`not_assignee`), then timing (`window_expired`) and state or policy (`conflict`).
 */
import { windowExpiresAt } from './deadlines';
import type { Context } from './draft';
import { Draft, reject, unchanged } from './draft';
import type { Actor, Decision, SendRequest } from './model';
import type { SessionContent, TemplateContent } from './outbound';
import type { SlaPriority } from './sla';
import { isEnded, isNew, isSupervisor } from './model';

type User = Extract<Actor, { kind: 'user' }>;

/** The caller as a user of the account, or the rejection for anyone else. */
function userOf(ctx: Context, what: string): User | Decision {
  return ctx.actor.kind === 'user' ? ctx.actor : reject('forbidden', `only users of the account ${what}`);
}

const isDecision = (value: User | Decision): value is Decision => 'ok' in value;

/** The holder or a supervisor may act on a conversation that is someone's (assigned, waiting, wrap-up). */
function mayActAsHolder(ctx: Context, user: User): boolean {
  return isSupervisor(user.role) || ctx.state.assigneeId === user.userId;
}

const notAssignee = (ctx: Context, what: string) => reject('not_assignee', `only the assignee (${ctx.state.assigneeId}) ${what}`);

export function onReply(ctx: Context, input: { content: SessionContent; replyTo?: string }): Decision {
  const user = userOf(ctx, 'reply');
  if (isDecision(user)) return user;
  const { state, now } = ctx;
  if (isNew(state)) return reject('conversation_closed', 'the customer has not written yet');
  if (isEnded(state.status)) return reject('conversation_closed', 'the conversation is closed; send a template instead');
  if (state.status === 'in_flow') return reject('conflict', 'an automation is running this conversation');
  if (state.status !== 'open' && state.assigneeId !== user.userId) return notAssignee(ctx, 'can reply');
  if (state.status === 'waiting' || state.status === 'wrap_up') return reject('conflict', `the conversation is in ${state.status}; revive it first`);
  if (state.status === 'snoozed') return reject('conflict', 'the conversation is snoozed; unsnooze it first');
  const expires = windowExpiresAt(state, ctx.policy);
  if (expires === null || now >= expires) {
    return reject('window_expired', 'the 24-hour customer-service window has passed; send a template instead');
  }
  return sendOutbound(ctx, user, 'reply', { content: input.content, replyTo: input.replyTo ?? null });
}

export function onTemplate(ctx: Context, input: { content: TemplateContent }): Decision {
  const user = userOf(ctx, 'send templates here');
  if (isDecision(user)) return user;
  const { state } = ctx;
  if (isNew(state)) return reject('conversation_closed', 'the customer has not written yet; use a campaign');
  if (state.status === 'in_flow') return reject('conflict', 'an automation is running this conversation');
  if (['assigned', 'waiting', 'wrap_up'].includes(state.status) && state.assigneeId !== user.userId) return notAssignee(ctx, 'can message the customer');
  // Templates are allowed outside the window and in closed, where they are recorded but do not reopen.
  return sendOutbound(ctx, user, 'template', { content: input.content, replyTo: null });
}

/** `reason`: the transition's reason when the message claims an open conversation — which rule sent it, not the content's kind. */
function sendOutbound(ctx: Context, user: User, reason: 'reply' | 'template', request: SendRequest): Decision {
  const draft = new Draft(ctx);
  // "Replying from the Open bucket immediately sets the assigned agent" (seed 000).
  if (ctx.state.status === 'open') {
    draft.transition('assigned', reason, { assigneeId: user.userId, assignedAt: ctx.now, routeTeam: null });
  }
  // A user's reply or template answers whoever waited; system messages (surveys, broadcasts) do not.
  draft.set({ unreadCount: 0, lastActivityAt: ctx.now, waitingSince: null });
  draft.send(request, user.userId);
  return draft.done();
}

export function onAssign(ctx: Context, input: { assigneeId: string }): Decision {
  const user = userOf(ctx, 'assign');
  if (isDecision(user)) return user;
  const { state } = ctx;
  if (isEnded(state.status)) return reject('conversation_closed', 'the conversation is closed');
  if (state.status === 'in_flow') return reject('conflict', 'an automation is running this conversation; end the flow to assign');
  const supervisor = isSupervisor(user.role);
  if (state.status === 'open' && !supervisor && input.assigneeId !== user.userId) {
    return reject('forbidden', 'agents can only claim open conversations for themselves');
  }
  if (state.status !== 'open' && !mayActAsHolder(ctx, user)) return notAssignee(ctx, 'or a supervisor can reassign');
  const reason = state.status === 'open' && input.assigneeId === user.userId ? 'claimed' : 'assigned';
  return assignTo(ctx, input.assigneeId, reason);
}

export function onTakeOver(ctx: Context): Decision {
  const user = userOf(ctx, 'take over');
  if (isDecision(user)) return user;
  if (!isSupervisor(user.role)) return reject('forbidden', 'only owners, admins and managers take over');
  if (isEnded(ctx.state.status)) return reject('conversation_closed', 'the conversation is closed');
  if (ctx.state.status === 'in_flow') return reject('conflict', 'an automation is running this conversation; end the flow to take over');
  return assignTo(ctx, user.userId, 'take_over');
}

/** Assigns (or reassigns) to a user; from waiting or wrap-up it brings the conversation back to assigned. */
function assignTo(ctx: Context, assigneeId: string, reason: string): Decision {
  const { state, now } = ctx;
  if (state.status === 'assigned' && state.assigneeId === assigneeId) return unchanged(state);
  const draft = new Draft(ctx);
  draft.transition('assigned', reason, {
    assigneeId,
    // The inactivity clock starts when the conversation becomes assigned, not at each reassignment.
    assignedAt: state.status === 'assigned' ? state.assignedAt : now,
    disconnectedAt: null,
    routeTeam: null,
  });
  draft.set({ lastActivityAt: now });
  return draft.done();
}

/** "Mark as Resolved": closes, or — with CSAT on — sends the survey and waits in `resolved`. */
export function onResolve(ctx: Context): Decision {
  const user = userOf(ctx, 'resolve');
  if (isDecision(user)) return user;
  const { state, policy } = ctx;
  if (isEnded(state.status)) return reject('conversation_closed', 'the conversation is already closed');
  const supervisor = isSupervisor(user.role);
  if ((state.status === 'open' || state.status === 'in_flow') && !supervisor) return reject('forbidden', 'agents claim a conversation before resolving it');
  if (!mayActAsHolder(ctx, user)) return notAssignee(ctx, 'or a supervisor can resolve');
  const draft = new Draft(ctx);
  if (policy.csat.enabled) {
    draft.transition('resolved', 'resolved', { assigneeId: null, routeTeam: null, disconnectedAt: null });
    const survey = draft.send({ content: { kind: 'template', template: { name: policy.csat.template } }, replyTo: null }, null);
    draft.set({ csatMessageId: survey.messageId });
  } else {
    draft.close('resolved');
  }
  return draft.done();
}

/** Seed 004 "End": assigned goes to wrap-up (or closes when the policy has none); ending wrap-up closes. */
export function onEnd(ctx: Context): Decision {
  const user = userOf(ctx, 'end conversations');
  if (isDecision(user)) return user;
  const { state, policy } = ctx;
  if (isEnded(state.status)) return reject('conversation_closed', 'the conversation is already closed');
  if (state.status !== 'assigned' && state.status !== 'wrap_up') return reject('conflict', `a conversation in ${state.status} cannot be ended; resolve it`);
  if (!mayActAsHolder(ctx, user)) return notAssignee(ctx, 'or a supervisor can end it');
  const draft = new Draft(ctx);
  if (state.status === 'assigned' && policy.wrapUpCapacity !== null) draft.transition('wrap_up', 'ended');
  else draft.close('ended');
  return draft.done();
}

/** Seed 004: the agent leaves without ending; the conversation waits and consumes no capacity. */
export function onLeave(ctx: Context): Decision {
  const user = userOf(ctx, 'leave conversations');
  if (isDecision(user)) return user;
  const { state, policy } = ctx;
  if (isEnded(state.status)) return reject('conversation_closed', 'the conversation is closed');
  if (policy.waitingTimeoutMs === null) return reject('conflict', "this account's policy has no waiting state");
  if (state.status !== 'assigned') return reject('conflict', `only an assigned conversation can be left waiting, not one in ${state.status}`);
  if (!mayActAsHolder(ctx, user)) return notAssignee(ctx, 'or a supervisor can leave it waiting');
  const draft = new Draft(ctx);
  draft.transition('waiting', 'left_by_agent', { disconnectedAt: null });
  draft.set({ lastActivityAt: ctx.now });
  return draft.done();
}

/** Seed 004: the agent revives a waiting conversation back to assigned. */
export function onRevive(ctx: Context): Decision {
  const user = userOf(ctx, 'revive conversations');
  if (isDecision(user)) return user;
  const { state } = ctx;
  if (isEnded(state.status)) return reject('conversation_closed', 'closed is final for agents; only the customer starts a new episode');
  if (state.status !== 'waiting') return reject('conflict', `only a waiting conversation can be revived, not one in ${state.status}`);
  if (!mayActAsHolder(ctx, user)) return notAssignee(ctx, 'or a supervisor can revive it');
  const draft = new Draft(ctx);
  draft.transition('assigned', 'revived', { assigneeId: isSupervisor(user.role) && state.assigneeId === null ? user.userId : state.assigneeId, assignedAt: ctx.now });
  draft.set({ lastActivityAt: ctx.now });
  return draft.done();
}

/** Seed 004: release to the queue, or transfer to another team's queue: back to open, routed again. */
export function onReleaseToQueue(ctx: Context): Decision {
  return backToQueue(ctx, 'released', null);
}

/**
 * SPEC 9: any user of the account sets the priority, in any status (it carries into the next episode);
 * the SLA clock takes it from the input (conversation-sla.ts) and the due times follow. A run from before
 * the `sla-clocks` patch keeps no SLA state: it refuses, and its next run takes priorities.
 */
export function onPriority(ctx: Context, input: { priority: SlaPriority }): Decision {
  const user = userOf(ctx, 'set the priority');
  if (isDecision(user)) return user;
  const { state } = ctx;
  if (state.sla === undefined) return reject('conflict', 'this conversation runs on code from before SLA clocks; priorities apply from its next run');
  if ((state.sla.priority ?? 'normal') === input.priority) return unchanged(state);
  return new Draft(ctx).done();
}

export function onTransfer(ctx: Context, input: { team: string }): Decision {
  return backToQueue(ctx, 'transferred', input.team);
}

function backToQueue(ctx: Context, reason: string, team: string | null): Decision {
  const user = userOf(ctx, 'release conversations');
  if (isDecision(user)) return user;
  const { state } = ctx;
  if (isEnded(state.status)) return reject('conversation_closed', 'the conversation is closed');
  if (state.status === 'open' && team !== null && isSupervisor(user.role)) {
    // A supervisor may move a waiting-for-agent conversation to another team's queue.
  } else if (state.status !== 'assigned') {
    return reject('conflict', `only an assigned conversation can be ${reason}, not one in ${state.status}`);
  } else if (!mayActAsHolder(ctx, user)) {
    return notAssignee(ctx, `or a supervisor can do that`);
  }
  const draft = new Draft(ctx);
  draft.transition('open', reason, { assigneeId: null, assignedAt: null, disconnectedAt: null, routeTeam: team });
  draft.set({ lastActivityAt: ctx.now });
  return draft.done();
}

/** Tags may be added at any time; removing them after closing fails when the policy locks them (seed 002). */
export function onTags(ctx: Context, input: { add: string[]; remove: string[] }): Decision {
  const user = userOf(ctx, 'tag conversations');
  if (isDecision(user)) return user;
  const { state, policy } = ctx;
  if (isNew(state)) return reject('conversation_closed', 'the customer has not written yet');
  const removing = input.remove.filter((tag) => state.tags.includes(tag));
  if (removing.length > 0 && isEnded(state.status) && policy.lockTagsOnClose) {
    return reject('conversation_closed', `tags are locked once the conversation is closed: cannot remove ${removing.join(', ')}`);
  }
  const tags = [...state.tags.filter((tag) => !input.remove.includes(tag))];
  for (const tag of input.add) if (!tags.includes(tag)) tags.push(tag);
  if (tags.length === state.tags.length && tags.every((tag, i) => tag === state.tags[i])) return unchanged(state);
  const draft = new Draft(ctx);
  draft.set({ tags });
  return draft.done();
}
