/**
 * Random lifecycles for the pure core's property tests (SPEC sections 2-4): every input type from random
 * actors (mostly the one that would really send it) at never-decreasing times, with timers fired just
 * before, at and after the next deadline, under every preset. Shared by test/unit/presets-properties.test.ts
 * and test/unit/episode-fold.test.ts.
 */
import fc from 'fast-check';
import type { Actor, ConversationState, Decision, Input } from '../../workflows/conversation/core/lifecycle';
import { decide, nextDeadline } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { presets } from '../../workflows/conversation/core/policy';
import { manualRouting } from '../../workflows/routing/routing';
import { HOUR, MINUTE, SECOND, T0, admin, agentA, agentB, customer, deepFreeze, fresh, manager, owner, service, system } from './lifecycle-fixtures';

/** Each random history is up to `maxSteps` inputs. */
export const maxSteps = 60;

export const preset = (name: 'default' | 'status_inbox' | 'work_items', overrides: Partial<Policy> = {}): Policy => ({ preset: name, ...presets[name], ...overrides, version: 1 });
export const roundRobin = { ...manualRouting, mode: 'round_robin' as const };

export const policies: [string, Policy][] = [
  ['default', preset('default')],
  ['status_inbox', preset('status_inbox')],
  ['status_inbox with idle close and auto-archive under round robin', preset('status_inbox', { idleCloseAfterMs: 2 * HOUR, autoArchive: true, routing: roundRobin })],
  ['work_items', preset('work_items')],
  ['work_items with wrap-up capacity never under round robin', preset('work_items', { wrapUpCapacity: 'never', routing: roundRobin })],
  ['work_items with wrap-up capacity 10m under round robin', preset('work_items', { wrapUpCapacity: 10 * MINUTE, routing: roundRobin })],
];

export const agentC: Actor = { kind: 'user', userId: 'agent-c', role: 'agent' };
export const actors: Actor[] = [owner, admin, manager, agentA, agentB, agentC, service, customer, system];
export const userIds = ['owner-1', 'manager-1', 'agent-a', 'agent-b', 'agent-c'];
export const tagPool = ['vip', 'lead', 'billing', 'spam'];

export const customerMessageArb: fc.Arbitrary<Input> = fc
  .integer({ min: 0, max: 25 })
  .map((id) => ({ type: 'customerMessage' as const, message: { messageId: `m${id}`, text: `text ${id}` } }));
export const userIdArb = fc.constantFrom(...userIds);
export const tagsArb = fc.subarray(tagPool, { maxLength: 2 });

export const inputArb: fc.Arbitrary<Input> = fc.oneof(
  { weight: 5, arbitrary: customerMessageArb },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'customerLeft' }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).map((score): Input => ({ type: 'csatAnswer', score })) },
  { weight: 2, arbitrary: fc.constant<Input>({ type: 'reply', content: { kind: 'text', text: 'hi' } }) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'template', content: { kind: 'template', template: { name: 'follow_up' } } }) },
  { weight: 3, arbitrary: userIdArb.map((assigneeId): Input => ({ type: 'assign', assigneeId })) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'takeOver' }) },
  { weight: 2, arbitrary: fc.constant<Input>({ type: 'resolve' }) },
  { weight: 2, arbitrary: fc.constant<Input>({ type: 'end' }) },
  { weight: 2, arbitrary: fc.constant<Input>({ type: 'leave' }) },
  { weight: 2, arbitrary: fc.constant<Input>({ type: 'revive' }) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'releaseToQueue' }) },
  { weight: 1, arbitrary: fc.constantFrom('sales', 'billing').map((team): Input => ({ type: 'transfer', team })) },
  { weight: 3, arbitrary: fc.record({ add: tagsArb, remove: tagsArb }).map(({ add, remove }): Input => ({ type: 'tags', add, remove })) },
  { weight: 2, arbitrary: fc.boolean().map((priority): Input => ({ type: 'flowStart', priority })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.constant(null), userIdArb.map((userId) => ({ userId })), fc.constantFrom('sales', 'billing').map((team) => ({ team })))
      .map((assignTo): Input => ({ type: 'flowEnd', assignTo })),
  },
  { weight: 1, arbitrary: fc.boolean().map((priority): Input => ({ type: 'broadcast', template: { name: 'promo' }, priority })) },
  { weight: 2, arbitrary: fc.constant<Input>({ type: 'timer' }) },
  { weight: 2, arbitrary: userIdArb.map((assigneeId): Input => ({ type: 'routed', assigneeId, rule: 'rules[0]' })) },
  { weight: 1, arbitrary: userIdArb.map((userId): Input => ({ type: 'release', userId, reason: 'agent_offline' })) },
  { weight: 2, arbitrary: fc.record({ userId: userIdArb, online: fc.boolean() }).map((p): Input => ({ type: 'agentPresence', ...p })) },
);

/** Who would really send each input; a random actor is tried the rest of the time. */
export function naturalActor(input: Input): Actor | undefined {
  switch (input.type) {
    case 'customerMessage':
    case 'customerLeft':
    case 'csatAnswer':
      return customer;
    case 'flowStart':
    case 'flowEnd':
    case 'broadcast':
      return service;
    case 'timer':
    case 'routed':
    case 'release':
    case 'agentPresence':
      return system;
    // Users' actions and delivery reports: a random actor is tried, the rules decide who may.
    case 'reply':
    case 'template':
    case 'assign':
    case 'takeOver':
    case 'resolve':
    case 'end':
    case 'leave':
    case 'revive':
    case 'releaseToQueue':
    case 'transfer':
    case 'tags':
    case 'priority':
    case 'snooze':
    case 'unsnooze':
    case 'sendOutcome':
    case 'receipt':
    case 'note':
      return undefined;
  }
}

// Gaps around every timeout of the presets: 5m reconnect, 10m wrap-up block, 2h idle, 24h waiting and CSAT.
export const gapArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 15 * MINUTE }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 30 * HOUR }) },
  { weight: 1, arbitrary: fc.constantFrom(5 * MINUTE, 10 * MINUTE, 2 * HOUR, 24 * HOUR, 24 * HOUR - 1) },
);

export type Step =
  | { kind: 'act'; input: Input; actor: Actor; natural: boolean; asAssignee: boolean; gap: number }
  | { kind: 'deadline'; offset: number };

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('act' as const),
      input: inputArb,
      actor: fc.constantFrom(...actors),
      // Mostly the sender the input really comes from, so the histories get far; sometimes anyone.
      natural: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
      asAssignee: fc.boolean(),
      gap: gapArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deadline' as const), offset: fc.constantFrom(-1, 0, 0, SECOND, 5 * HOUR) }) },
);

// size 'max': without it fast-check keeps arrays to about ten items, too short to visit every state.
export const historyArb = fc.array(stepArb, { minLength: 1, maxLength: maxSteps, size: 'max' });

export interface Observed {
  before: ConversationState;
  after: ConversationState | null;
  input: Input;
  actor: Actor;
  now: number;
  decision: Decision;
  /** The state as JSON just before `decide` ran on it. */
  snapshot: string;
}

export function replay(policy: Policy, history: Step[], check: (o: Observed) => void, snapshots: boolean, initial: ConversationState = fresh()): void {
  let state = initial;
  let now = T0;
  for (const step of history) {
    let input: Input;
    let actor: Actor;
    if (step.kind === 'act') {
      now += step.gap;
      input = step.input;
      actor = (step.natural ? naturalActor(input) : undefined) ?? step.actor;
      const assignee = actors.find((a) => a.kind === 'user' && a.userId === state.assigneeId);
      if (step.asAssignee && assignee && naturalActor(input) === undefined) actor = assignee;
    } else {
      const due = nextDeadline(state, policy);
      if (due === null) continue;
      now = Math.max(now, due + step.offset);
      input = { type: 'timer' };
      actor = system;
    }
    const snapshot = snapshots ? JSON.stringify(state) : '';
    const before = deepFreeze(state);
    const decision = decide(before, input, actor, policy, now);
    check({ before, after: decision.ok ? decision.state : null, input, actor, now, decision, snapshot });
    if (decision.ok) state = decision.state;
  }
}

