/**
 * Invariants of the pure core under every preset (SPEC section 3), over random histories: every input
 * type from random actors (mostly the one that would really send it) at never-decreasing times, with
 * timers fired just before, at and after the next deadline. Each step is checked against the state
 * before it, so a failure shrinks to the shortest history that breaks the rule.
 */
import fc from 'fast-check';
import type { Actor, ConversationState, Decision, Effect, Input, Status } from '../../workflows/conversation/core/lifecycle';
import { capacityHolder, decide, nextDeadline } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { effective, presets } from '../../workflows/conversation/core/policy';
import { manualRouting } from '../../workflows/routing/routing';
import { HOUR, MINUTE, SECOND, T0, admin, agentA, agentB, customer, deepFreeze, fresh, manager, owner, service, system } from './lifecycle-fixtures';

/** Runs per property and preset; each run is a history of up to `maxSteps` inputs. */
const numRuns = 300;
const maxSteps = 60;

const preset = (name: 'default' | 'status_inbox' | 'work_items', overrides: Partial<Policy> = {}): Policy => ({ preset: name, ...presets[name], ...overrides, version: 1 });
const roundRobin = { ...manualRouting, mode: 'round_robin' as const };

const policies: [string, Policy][] = [
  ['default', preset('default')],
  ['status_inbox', preset('status_inbox')],
  ['status_inbox with idle close and auto-archive under round robin', preset('status_inbox', { idleCloseAfterMs: 2 * HOUR, autoArchive: true, routing: roundRobin })],
  ['work_items', preset('work_items')],
  ['work_items with wrap-up capacity never under round robin', preset('work_items', { wrapUpCapacity: 'never', routing: roundRobin })],
  ['work_items with wrap-up capacity 10m under round robin', preset('work_items', { wrapUpCapacity: 10 * MINUTE, routing: roundRobin })],
];

const agentC: Actor = { kind: 'user', userId: 'agent-c', role: 'agent' };
const actors: Actor[] = [owner, admin, manager, agentA, agentB, agentC, service, customer, system];
const userIds = ['owner-1', 'manager-1', 'agent-a', 'agent-b', 'agent-c'];
const tagPool = ['vip', 'lead', 'billing', 'spam'];

const customerMessageArb: fc.Arbitrary<Input> = fc
  .integer({ min: 0, max: 25 })
  .map((id) => ({ type: 'customerMessage' as const, message: { messageId: `m${id}`, text: `text ${id}` } }));
const userIdArb = fc.constantFrom(...userIds);
const tagsArb = fc.subarray(tagPool, { maxLength: 2 });

const inputArb: fc.Arbitrary<Input> = fc.oneof(
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
function naturalActor(input: Input): Actor | undefined {
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
    case 'note':
    case 'sendOutcome':
    case 'receipt':
      return undefined;
  }
}

// Gaps around every timeout of the presets: 5m reconnect, 10m wrap-up block, 2h idle, 24h waiting and CSAT.
const gapArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 15 * MINUTE }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 30 * HOUR }) },
  { weight: 1, arbitrary: fc.constantFrom(5 * MINUTE, 10 * MINUTE, 2 * HOUR, 24 * HOUR, 24 * HOUR - 1) },
);

type Step =
  | { kind: 'act'; input: Input; actor: Actor; natural: boolean; asAssignee: boolean; gap: number }
  | { kind: 'deadline'; offset: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
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
const historyArb = fc.array(stepArb, { minLength: 1, maxLength: maxSteps, size: 'max' });

interface Observed {
  before: ConversationState;
  after: ConversationState | null;
  input: Input;
  actor: Actor;
  now: number;
  decision: Decision;
  /** The state as JSON just before `decide` ran on it. */
  snapshot: string;
}

function replay(policy: Policy, history: Step[], check: (o: Observed) => void, snapshots: boolean): void {
  let state = fresh();
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

const reports = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'reportAssignment' ? [e.assigneeId] : []));

describe.each(policies)('preset invariants over random histories: %s', (_name, policy) => {
  const fields = effective(policy);

  function holdsFor(check: (o: Observed) => void, { snapshots = false } = {}): void {
    fc.assert(
      fc.property(historyArb, (history) => replay(policy, history, check, snapshots)),
      { numRuns },
    );
  }

  /** The statuses this policy can reach: the default three plus those its fields switch on. */
  const reachable = new Set<Status>([
    'open',
    'assigned',
    'closed',
    ...(fields.flows ? (['in_flow'] as const) : []),
    ...(fields.csat.enabled ? (['resolved'] as const) : []),
    ...(fields.waitingTimeoutMs !== null ? (['waiting'] as const) : []),
    ...(fields.wrapUpCapacity !== null ? (['wrap_up'] as const) : []),
  ]);

  it('counts every customer message recorded, whatever the lifecycle: inboundCount is the number of inbound records so far, each carrying the count through itself', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        let recorded = 0;
        let accepted = 0;
        replay(
          policy,
          history,
          ({ before, input, decision }) => {
            if (!decision.ok) return;
            // Told apart from the records: a customer message that changed the conversation (not a redelivery).
            if (input.type === 'customerMessage' && decision.changed) accepted += 1;
            let running = before.inboundCount;
            for (const effect of decision.effects) {
              if (effect.type !== 'recordMessage') continue;
              if (effect.message.direction === 'inbound') {
                recorded += 1;
                running += 1;
              }
              // Every record, outbound ones too, carries the count through itself: what a read mark takes.
              expect(effect.message.inboundCount).toBe(running);
            }
            expect(decision.state.inboundCount).toBe(recorded);
            expect(decision.state.inboundCount).toBe(accepted);
            expect(decision.state.inboundCountFromStart).toBe(true);
          },
          false,
        );
      }),
      { numRuns },
    );
  });

  it('reaches only the statuses the policy switches on', () => {
    holdsFor(({ after }) => {
      if (after) expect(reachable).toContain(after.status);
    });
  });

  it('holds capacity only in the states the preset says: assigned always, wrap-up per wrapUpCapacity, never in waiting, open, closed, in_flow or resolved', () => {
    holdsFor(({ after, now, decision }) => {
      if (!after) return;
      if (after.status === 'assigned') expect(after.heldBy).toBe(after.assigneeId);
      else if (after.status !== 'wrap_up') expect(after.heldBy).toBeNull();
      else if (fields.wrapUpCapacity === 'always') expect(after.heldBy).toBe(after.assigneeId);
      else if (fields.wrapUpCapacity === 'never') expect(after.heldBy).toBeNull();
      // Every change brings heldBy up to date with the clock (a 10m block ends on the next decision at the latest).
      if (decision.ok && decision.changed) expect(after.heldBy).toBe(capacityHolder(after, fields, now));
    });
  });

  it('tells the router of every change of capacity when routing is on, and never when it is manual', () => {
    holdsFor(({ before, after, input, decision }) => {
      if (!after || !decision.ok) return;
      const told = reports(decision.effects);
      // A router offer is answered even under manual (one may be in flight when routing is switched off).
      if (fields.routing.mode === 'manual') {
        if (input.type !== 'routed') expect(told).toEqual([]);
      } else if (after.heldBy !== before.heldBy) {
        expect(told.at(-1)).toBe(after.heldBy);
      }
    });
  });

  it('lets nothing leave closed but a customer message, or a flow when the policy has flows', () => {
    holdsFor(({ before, after, input }) => {
      if (!after || before.status !== 'closed' || after.status === 'closed') return;
      expect(input.type === 'customerMessage' || (input.type === 'flowStart' && fields.flows)).toBe(true);
      expect(after.episode).toBe(before.episode + 1);
    });
  });

  it('never loses a tag once the conversation is closed or resolved when tags lock on close', () => {
    holdsFor(({ before, after }) => {
      if (!fields.lockTagsOnClose || (before.status !== 'closed' && before.status !== 'resolved')) return;
      if (after) expect(after.tags).toEqual(expect.arrayContaining(before.tags));
    });
  });

  it('keeps an assignee in assigned, waiting and wrap-up, and none in open, closed, in_flow or resolved', () => {
    holdsFor(({ after }) => {
      if (!after) return;
      if (after.status === 'assigned' || after.status === 'waiting' || after.status === 'wrap_up') {
        expect(typeof after.assigneeId).toBe('string');
        expect(after.assigneeId).not.toBe('');
      } else {
        expect(after.assigneeId).toBeNull();
      }
    });
  });

  it('changes nothing on a rejected decision', () => {
    holdsFor(({ before, decision, snapshot }) => {
      if (decision.ok) return;
      expect(decision).not.toHaveProperty('state');
      expect(decision.code).toMatch(/^(forbidden|not_assignee|conversation_closed|window_expired|validation_failed|conflict)$/);
      // The state is frozen, so a rule writing to it throws; and the next step starts from it unchanged.
      expect(JSON.stringify(before)).toBe(snapshot);
    }, { snapshots: true });
  });

  it('bumps the version by exactly one per changed decision and keeps the very state otherwise', () => {
    holdsFor(({ before, after, decision, now }) => {
      if (!after || !decision.ok) return;
      if (decision.changed) {
        expect(after.version).toBe(before.version + 1);
        expect(after.updatedAt).toBe(now);
      } else {
        expect(after).toBe(before);
        expect(decision.effects).toEqual([]);
      }
    });
  });

  it('keeps the state plain JSON, safe across continue-as-new', () => {
    holdsFor(({ after }) => {
      if (after) expect(JSON.parse(JSON.stringify(after))).toStrictEqual(after);
    });
  });
});
