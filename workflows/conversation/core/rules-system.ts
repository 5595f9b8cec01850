/**
 * What automations and the system do: flows and broadcasts (seed 002), timers, the router's offers,
 * releases of an unavailable agent's conversations, and agent disconnects (seed 004).
 */
import { capacityHolder, dueDeadline } from './deadlines';
import type { DeadlineKind } from './deadlines';
import type { Context } from './draft';
import { Draft, reject, unchanged } from './draft';
import type { ClosedReason, Decision, FlowTarget, TemplateRef } from './model';
import { isNew, isSupervisor } from './model';
import { wake } from './rules-snooze';

/** Automations and broadcasts are started by a backend service or a supervisor. */
function mayAutomate(ctx: Context): boolean {
  return ctx.actor.kind === 'service' || (ctx.actor.kind === 'user' && isSupervisor(ctx.actor.role));
}

/**
 * Seed 002: an automation takes the conversation over. Flows run on new (open) and closed
 * conversations; one with an agent is interrupted only with priority.
 */
export function onFlowStart(ctx: Context, input: { priority: boolean }): Decision {
  const { state, policy } = ctx;
  if (!mayAutomate(ctx)) return reject('forbidden', 'only a service or a supervisor starts automations');
  if (!policy.flows) return reject('conflict', "this account's policy has no automations (flows)");
  if (isNew(state)) return reject('conversation_closed', 'the customer has not written yet');
  if (state.status === 'in_flow') return reject('conflict', 'an automation is already running');
  if (!input.priority && state.status !== 'open' && state.status !== 'closed') {
    return reject('conflict', `a conversation in ${state.status} is with an agent; start the flow with priority to interrupt`);
  }
  const draft = new Draft(ctx);
  const fromClosed = state.status === 'closed' || state.status === 'resolved';
  draft.transition('in_flow', 'flow_started', {
    assigneeId: null,
    assignedAt: null,
    disconnectedAt: null,
    ...(fromClosed ? { episode: state.episode + 1, closedReason: null, closedAt: null, archived: false, unreadCount: 0, csatScore: null } : {}),
  });
  draft.set({ lastActivityAt: ctx.now });
  return draft.done();
}

/** Seed 002: the flow ends by assigning a user or a team (which marks the conversation unread), or by closing it. */
export function onFlowEnd(ctx: Context, input: { assignTo: FlowTarget | null }): Decision {
  const { state } = ctx;
  if (!mayAutomate(ctx)) return reject('forbidden', 'only a service or a supervisor ends automations');
  if (state.status !== 'in_flow') return reject('conflict', 'no automation is running');
  const draft = new Draft(ctx);
  const unread = { unreadCount: Math.max(1, state.unreadCount), lastActivityAt: ctx.now };
  if (input.assignTo === null) draft.close('flow_ended');
  else if ('userId' in input.assignTo) draft.transition('assigned', 'flow_assigned', { assigneeId: input.assignTo.userId, assignedAt: ctx.now, ...unread });
  else draft.transition('open', 'flow_assigned_team', { routeTeam: input.assignTo.team, ...unread });
  return draft.done();
}

/** Seed 002: broadcasts reach closed conversations only, unless sent with priority (when the policy says so). */
export function onBroadcast(ctx: Context, input: { template: TemplateRef; priority: boolean }): Decision {
  const { state, policy } = ctx;
  if (!mayAutomate(ctx)) return reject('forbidden', 'only a service or a supervisor sends broadcasts');
  if (isNew(state)) return reject('conversation_closed', 'the customer has not written yet');
  if (policy.broadcastsOnlyToClosed && !input.priority && state.status !== 'closed') {
    return reject('conflict', `the conversation is ${state.status}; broadcasts reach only closed conversations unless sent with priority`);
  }
  const draft = new Draft(ctx);
  draft.send({ content: { kind: 'template', template: input.template }, replyTo: null }, null);
  return draft.done();
}

/**
 * What each deadline does when it falls due, one entry per `DeadlineKind`: a kind without an entry does
 * not compile (an unhandled one used to fall through to `done()`, bump the version and stay due).
 */
const onDeadline: { [K in DeadlineKind]: (draft: Draft, ctx: Context) => Decision } = {
  autoClose: (draft) => closed(draft, 'inactivity'),
  waitingClose: (draft) => closed(draft, 'inactivity'),
  idleClose: (draft) => closed(draft, 'idle'),
  csatTimeout: (draft) => closed(draft, 'csat_timeout'),
  agentReconnect: (draft) => {
    draft.transition('open', 'agent_disconnected', { assigneeId: null, assignedAt: null, disconnectedAt: null });
    return draft.done();
  },
  // SPEC 9: the assignee left a customer unanswered: back to open, routed again (not to them while anyone
  // else is eligible: `Draft` sends the episode's list with the request); under manual routing it waits.
  answerWithin: (draft, { state }) => {
    const answer = state.answer ?? { assigneeSince: null, unansweredBy: [] };
    const by = state.assigneeId;
    const unansweredBy = by !== null && !answer.unansweredBy.includes(by) ? [...answer.unansweredBy, by] : answer.unansweredBy;
    draft.transition('open', 'unanswered', { assigneeId: null, assignedAt: null, disconnectedAt: null, answer: { ...answer, unansweredBy } });
    return draft.done();
  },
  // No transition: the agent's capacity is released while wrap-up goes on (Draft reports it).
  wrapUpCapacity: (draft, { state, policy, now }) => (capacityHolder(state, policy, now) === state.heldBy ? unchanged(state) : draft.done()),
  // Not a state change, but the moment free-form replies stop is worth a line in the event log.
  windowExpiry: (draft, { state }) => {
    draft.transition(state.status, 'window_expired', { windowExpiryRecordedFor: state.lastCustomerMessageAt });
    return draft.done();
  },
  // SPEC 9: the snooze ends; back to its assignee, or to open when nobody holds it (rules-snooze.ts).
  snoozeEnd: (draft, { now }) => {
    wake(draft, 'snooze_ended', now);
    return draft.done();
  },
  // The SLA clock fires its warnings and breaches from the timer input (conversation-sla.ts `withSla`);
  // the rule only marks the decision as a change so that happens.
  sla: (draft) => draft.done(),
};

function closed(draft: Draft, reason: ClosedReason): Decision {
  draft.close(reason);
  return draft.done();
}

export function onTimer(ctx: Context): Decision {
  const { state, now, policy } = ctx;
  if (ctx.actor.kind !== 'system') return reject('forbidden', 'only the system fires timers');
  const due = dueDeadline(state, policy, now);
  if (!due) return unchanged(state);
  return onDeadline[due.kind](new Draft(ctx), ctx);
}

export function onRouted(ctx: Context, input: { assigneeId: string; rule: string }): Decision {
  const { state } = ctx;
  if (ctx.actor.kind !== 'system') return reject('forbidden', 'only the router assigns automatically');
  const draft = new Draft(ctx);
  if (state.status === 'open') {
    draft.transition('assigned', 'routing', { assigneeId: input.assigneeId, assignedAt: ctx.now, routeTeam: null }, { rule: input.rule });
  } else {
    // Someone claimed it first, or it moved on: the router reserved a slot it must be told about.
    draft.effects.push({ type: 'reportAssignment', assigneeId: state.heldBy });
  }
  return draft.done();
}

/**
 * The agent became unavailable (deactivated, or offline under a releasing policy): back to open. A
 * snoozed conversation stays snoozed but leaves them (SPEC 9): nobody holds it, so it wakes to open.
 */
export function onRelease(ctx: Context, input: { userId: string; reason: string }): Decision {
  const { state } = ctx;
  if (ctx.actor.kind !== 'system') return reject('forbidden', 'only the system releases conversations');
  if (state.status === 'snoozed' && state.assigneeId === input.userId) {
    const draft = new Draft(ctx);
    draft.transition('snoozed', input.reason, { assigneeId: null });
    return draft.done();
  }
  if (state.status !== 'assigned' || state.assigneeId !== input.userId) return unchanged(state);
  const draft = new Draft(ctx);
  draft.transition('open', input.reason, { assigneeId: null, assignedAt: null, disconnectedAt: null });
  return draft.done();
}

/** Seed 004: an agent's disconnect starts the reconnect timeout on their assigned conversations; a reconnect stops it. */
export function onAgentPresence(ctx: Context, input: { userId: string; online: boolean }): Decision {
  const { state, policy, now } = ctx;
  if (ctx.actor.kind !== 'system') return reject('forbidden', 'only the system reports presence');
  if (state.status !== 'assigned' || state.assigneeId !== input.userId || policy.agentReconnectTimeoutMs === null) return unchanged(state);
  if (input.online === (state.disconnectedAt === null)) return unchanged(state);
  const draft = new Draft(ctx);
  draft.set({ disconnectedAt: input.online ? null : now });
  return draft.done();
}
