/**
 * The conversation lifecycle as a pure function (SPEC sections 2 and 3): state + input + actor +
 * policy + the current time in, the next state and its effects, or a rejection with a stable code,
 * out. No Temporal, MongoDB or Express import and no clock: the workflow shell calls `decide` and runs
 * the effects, the tests call it directly. Presets are policy data; the rules read policy fields.
 * See DESIGN.md beside this file for the choices behind the rules.
 */
import type { Context } from './draft';
import type { Actor, ConversationState, Decision, Input, InputType } from './model';
import type { Policy } from './policy';
import { effective } from './policy';
import { withSla } from './conversation-sla';
import { onAssign, onEnd, onLeave, onPriority, onReleaseToQueue, onReply, onResolve, onRevive, onTags, onTakeOver, onTemplate, onTransfer } from './rules-agent';
import { onCsatAnswer, onCustomerLeft, onCustomerMessage } from './rules-customer';
import { onReceipt, onSendOutcome } from './rules-delivery';
import { onSnooze, onUnsnooze } from './rules-snooze';
import { onNote } from './rules-notes';
import { onAgentPresence, onBroadcast, onFlowEnd, onFlowStart, onRelease, onRouted, onTimer } from './rules-system';

export * from './model';
export { autoCloseAt, capacityHolder, deadlines, nextDeadline, windowExpiresAt } from './deadlines';

type Handler<T extends InputType> = (ctx: Context, input: Extract<Input, { type: T }>) => Decision;

// Exhaustive by construction: adding an input type without a rule does not compile.
const handlers: { [T in InputType]: Handler<T> } = {
  customerMessage: onCustomerMessage,
  customerLeft: onCustomerLeft,
  csatAnswer: onCsatAnswer,
  reply: onReply,
  template: onTemplate,
  assign: onAssign,
  takeOver: onTakeOver,
  resolve: onResolve,
  end: onEnd,
  leave: onLeave,
  revive: onRevive,
  releaseToQueue: onReleaseToQueue,
  transfer: onTransfer,
  tags: onTags,
  flowStart: onFlowStart,
  flowEnd: onFlowEnd,
  broadcast: onBroadcast,
  timer: onTimer,
  routed: onRouted,
  release: onRelease,
  agentPresence: onAgentPresence,
  sendOutcome: onSendOutcome,
  receipt: onReceipt,
  priority: onPriority,
  snooze: onSnooze,
  unsnooze: onUnsnooze,
  note: onNote,
};

/** Decides what an input does. Never throws for a rule: a rejection is a value with a stable code. */
export function decide(state: ConversationState, input: Input, actor: Actor, policy: Policy, now: number): Decision {
  const handler = handlers[input.type] as Handler<InputType>;
  const decision = handler({ state, actor, policy: effective(policy), now }, input);
  // The SLA clock follows what the rule decided (a no-op for a state without `sla`).
  return decision.ok ? withSla(decision, input, actor, policy, now) : decision;
}
