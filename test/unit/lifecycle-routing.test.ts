/**
 * The conversation's side of routing (SPEC section 4): which decisions ask the router for an agent,
 * which report who holds the conversation, how `routed` and `release` inputs land, and that under the
 * default manual policy the router never hears from a conversation.
 */
import fc from 'fast-check';
import type { Actor, ConversationState, Effect, Input } from '../../workflows/conversation/core/lifecycle';
import { autoCloseAt, decide } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import type { Offer, RouterState } from '../../workflows/routing/routing';
import { manualRouting, reportAssignment, requestRouting } from '../../workflows/routing/routing';
import {
  HOUR,
  MINUTE,
  T0,
  accepted,
  admin,
  agentA,
  agentB,
  assign,
  customer,
  customerMessage,
  deepFreeze,
  events,
  fresh,
  ids,
  manager,
  owner,
  rejected,
  reply,
  resolve,
  service,
  system,
  takeOver,
  template,
  timer,
} from './lifecycle-fixtures';
import { agent, router } from './routing-fixtures';

const autoCloseAfterMs = 48 * HOUR;
const serviceWindowMs = 24 * HOUR;
const roundRobin: Policy = { ...defaultPolicy, autoCloseAfterMs, serviceWindowMs, routing: { ...manualRouting, mode: 'round_robin' } };
const leastLoaded: Policy = { ...defaultPolicy, autoCloseAfterMs, serviceWindowMs, routing: { ...manualRouting, mode: 'least_loaded', sticky: true } };

const routed = (assigneeId: string, rule = 'rules[0]'): Input => ({ type: 'routed', assigneeId, rule });
const release = (userId: string, reason = 'agent_offline'): Input => ({ type: 'release', userId, reason });

type RoutingEffect = Extract<Effect, { type: 'requestRouting' | 'reportAssignment' }>;
const routingEffects = (effects: Effect[]): RoutingEffect[] =>
  effects.filter((e): e is RoutingEffect => e.type === 'requestRouting' || e.type === 'reportAssignment');

function decideUnder(policy: Policy, state: ConversationState, input: Input, actor: Actor, now: number) {
  return accepted(decide(deepFreeze(state), input, actor, policy, now));
}
const step = (policy: Policy, state: ConversationState, input: Input, actor: Actor, now: number) => decideUnder(policy, state, input, actor, now).state;

const attributes = { lang: 'pt', department: 'sales' };

/** Episode 1, open after a customer message with attributes, under `policy`. */
const openUnder = (policy: Policy, at = T0) => step(policy, fresh(), customerMessage({ attributes }), customer, at);
/** Episode 1, assigned to agent A by the router a minute after opening. */
const routedToA = (policy: Policy = roundRobin) => step(policy, openUnder(policy), routed('agent-a'), system, T0 + MINUTE);
/** Episode 1, closed: agent A resolved it. */
const closedAfterA = (policy: Policy = roundRobin) => step(policy, routedToA(policy), resolve, agentA, T0 + 2 * MINUTE);

describe.each([
  ['round_robin', roundRobin],
  ['least_loaded', leastLoaded],
])('under %s routing', (_, policy) => {
  describe('asking for an agent', () => {
    test('the first customer message asks the router for an agent with the message’s channel and attributes', () => {
      const { state, effects } = decideUnder(policy, fresh(), customerMessage({ attributes }), customer, T0);
      expect(state.status).toBe('open');
      expect(routingEffects(effects)).toEqual([
        { type: 'requestRouting', request: { channel: ids.channel, attributes, previousAssigneeId: null, since: T0, team: null } },
      ]);
    });

    test('a first message without attributes asks with none', () => {
      const { effects } = decideUnder(policy, fresh(), customerMessage(), customer, T0);
      expect(routingEffects(effects)).toEqual([{ type: 'requestRouting', request: { channel: ids.channel, attributes: {}, previousAssigneeId: null, since: T0, team: null } }]);
    });

    test('more customer messages while open or assigned ask nothing again', () => {
      const more = customerMessage({ attributes: { lang: 'en' } });
      expect(routingEffects(decideUnder(policy, openUnder(policy), more, customer, T0 + MINUTE).effects)).toEqual([]);
      expect(routingEffects(decideUnder(policy, routedToA(policy), more, customer, T0 + 2 * MINUTE).effects)).toEqual([]);
    });

    test('a redelivered message asks nothing', () => {
      const first = customerMessage({ attributes });
      const open = step(policy, fresh(), first, customer, T0);
      const again = accepted(decide(open, first, customer, policy, T0 + MINUTE));
      expect(again.changed).toBe(false);
      expect(again.effects).toEqual([]);
    });

    test('reopening a closed conversation asks again, naming the previous assignee and the new message’s attributes', () => {
      const reopenAt = T0 + 3 * HOUR;
      const { state, effects } = decideUnder(policy, closedAfterA(policy), customerMessage({ attributes: { lang: 'en' } }), customer, reopenAt);
      expect(state).toMatchObject({ status: 'open', episode: 2, assigneeId: null, lastAssigneeId: 'agent-a' });
      expect(routingEffects(effects)).toEqual([
        { type: 'requestRouting', request: { channel: ids.channel, attributes: { lang: 'en' }, previousAssigneeId: 'agent-a', since: reopenAt, team: null } },
      ]);
    });

    test('the previous assignee is whoever held it last, also after a manual reassignment', () => {
      const reassigned = step(policy, routedToA(policy), assign('agent-b'), manager, T0 + 2 * MINUTE);
      const closed = step(policy, reassigned, resolve, agentB, T0 + 3 * MINUTE);
      const { effects } = decideUnder(policy, closed, customerMessage(), customer, T0 + HOUR);
      expect(routingEffects(effects)).toMatchObject([{ type: 'requestRouting', request: { previousAssigneeId: 'agent-b' } }]);
    });
  });

  describe('the router’s offer (`routed`)', () => {
    test('on an open conversation assigns it with reason routing and the rule, and reports the holder', () => {
      const at = T0 + MINUTE;
      const { state, effects } = decideUnder(policy, openUnder(policy), routed('agent-a', 'rules[2]'), system, at);
      expect(state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', assignedAt: at, lastAssigneeId: 'agent-a' });
      expect(events(effects)).toEqual([
        {
          seq: 2,
          at,
          episode: 1,
          from: 'open',
          to: 'assigned',
          reason: 'routing',
          actor: { kind: 'system', id: null, role: null },
          assigneeBefore: null,
          assigneeAfter: 'agent-a',
          rule: 'rules[2]',
          details: null,
        },
      ]);
      expect(routingEffects(effects)).toEqual([{ type: 'reportAssignment', assigneeId: 'agent-a' }]);
    });

    test('the fallback rule is named too', () => {
      const { effects } = decideUnder(policy, openUnder(policy), routed('agent-a', 'fallback'), system, T0 + MINUTE);
      expect(events(effects).map((e) => e.rule)).toEqual(['fallback']);
    });

    test('an automatic assignment starts the inactivity clock like a claim does', () => {
      const state = routedToA(policy);
      expect(autoCloseAt(state, policy)).toBe(T0 + MINUTE + autoCloseAfterMs);
      const closed = decideUnder(policy, state, timer, system, T0 + MINUTE + autoCloseAfterMs);
      expect(closed.state.status).toBe('closed');
    });

    test('on a conversation someone claimed first changes no status and reports the real holder', () => {
      const claimed = step(policy, openUnder(policy), assign('agent-b'), agentB, T0 + MINUTE);
      const decision = decideUnder(policy, claimed, routed('agent-a'), system, T0 + 2 * MINUTE);
      expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-b', assignedAt: T0 + MINUTE, eventSeq: claimed.eventSeq });
      expect(events(decision.effects)).toEqual([]);
      expect(decision.effects).toEqual([{ type: 'reportAssignment', assigneeId: 'agent-b' }]);
    });

    test('on an offer that reaches the agent who already holds it, reports them again', () => {
      const decision = decideUnder(policy, routedToA(policy), routed('agent-a'), system, T0 + 2 * MINUTE);
      expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a' });
      expect(decision.effects).toEqual([{ type: 'reportAssignment', assigneeId: 'agent-a' }]);
    });

    test('on a closed conversation changes no status and reports nobody, giving the slot back', () => {
      const closed = closedAfterA(policy);
      const decision = decideUnder(policy, closed, routed('agent-b'), system, T0 + HOUR);
      expect(decision.state).toMatchObject({ status: 'closed', assigneeId: null, episode: 1, closedReason: 'resolved' });
      expect(decision.effects).toEqual([{ type: 'reportAssignment', assigneeId: null }]);
    });

    test.each([
      ['owner', owner],
      ['admin', admin],
      ['agent', agentA],
      ['service', service],
      ['customer', customer],
    ])('from %s is forbidden: only the router assigns automatically', (__, actor) => {
      expect(rejected(decide(openUnder(policy), routed('agent-a'), actor, policy, T0 + MINUTE)).code).toBe('forbidden');
    });
  });

  describe('release', () => {
    test('of the assignee returns the conversation to open, reports nobody, then asks for an agent again', () => {
      const at = T0 + 2 * MINUTE;
      const { state, effects } = decideUnder(policy, routedToA(policy), release('agent-a', 'agent_offline'), system, at);
      expect(state).toMatchObject({ status: 'open', assigneeId: null, assignedAt: null, episode: 1, lastAssigneeId: 'agent-a' });
      expect(events(effects)).toMatchObject([{ from: 'assigned', to: 'open', reason: 'agent_offline', assigneeBefore: 'agent-a', assigneeAfter: null, rule: null }]);
      expect(routingEffects(effects)).toEqual([
        { type: 'reportAssignment', assigneeId: null },
        { type: 'requestRouting', request: { channel: ids.channel, attributes, previousAssigneeId: 'agent-a', since: at, team: null } },
      ]);
    });

    test('of the assignee of a manual claim works the same way', () => {
      const claimed = step(policy, openUnder(policy), assign('agent-b'), agentB, T0 + MINUTE);
      const { effects } = decideUnder(policy, claimed, release('agent-b', 'agent_deactivated'), system, T0 + 2 * MINUTE);
      expect(routingEffects(effects).map((e) => e.type)).toEqual(['reportAssignment', 'requestRouting']);
    });

    test.each<[string, () => ConversationState]>([
      ['assigned to another user', () => routedToA(policy)],
      ['open', () => openUnder(policy)],
      ['closed', () => closedAfterA(policy)],
      ['not started', fresh],
    ])('for a user who does not hold it (%s) changes nothing', (__, build) => {
      const state = build();
      const decision = accepted(decide(deepFreeze(state), release('agent-b'), system, policy, T0 + HOUR));
      expect(decision).toEqual({ ok: true, state, effects: [], changed: false });
    });

    test.each([
      ['owner', owner],
      ['agent', agentA],
      ['service', service],
      ['customer', customer],
    ])('from %s is forbidden: only the router releases', (__, actor) => {
      expect(rejected(decide(routedToA(policy), release('agent-a'), actor, policy, T0 + HOUR)).code).toBe('forbidden');
    });
  });

  describe('every change of holder is reported', () => {
    test('resolving an assigned conversation reports nobody and asks for no agent', () => {
      const { effects } = decideUnder(policy, routedToA(policy), resolve, agentA, T0 + 2 * MINUTE);
      expect(routingEffects(effects)).toEqual([{ type: 'reportAssignment', assigneeId: null }]);
    });

    test('auto-closing for inactivity reports nobody', () => {
      const state = routedToA(policy);
      const { state: closed, effects } = decideUnder(policy, state, timer, system, T0 + MINUTE + autoCloseAfterMs);
      expect(closed).toMatchObject({ status: 'closed', closedReason: 'inactivity' });
      expect(routingEffects(effects)).toEqual([{ type: 'reportAssignment', assigneeId: null }]);
    });

    test('a supervisor resolving an open conversation reports nobody, so the router drops it from its queue', () => {
      const { effects } = decideUnder(policy, openUnder(policy), resolve, manager, T0 + MINUTE);
      expect(routingEffects(effects)).toEqual([{ type: 'reportAssignment', assigneeId: null }]);
    });

    test.each<[string, () => ConversationState, Input, Actor, string]>([
      ['an agent claiming an open conversation', () => openUnder(policy), assign('agent-b'), agentB, 'agent-b'],
      ['a supervisor assigning an open conversation', () => openUnder(policy), assign('agent-b'), admin, 'agent-b'],
      ['a reply from the open bucket', () => openUnder(policy), reply(), agentB, 'agent-b'],
      ['a template from the open bucket', () => openUnder(policy), template(), agentB, 'agent-b'],
      ['a supervisor reassigning', () => routedToA(policy), assign('agent-b'), manager, 'agent-b'],
      ['a supervisor taking over', () => routedToA(policy), takeOver, owner, 'owner-1'],
    ])('%s reports the new holder', (__, build, input, actor, holder) => {
      const { effects } = decideUnder(policy, build(), input, actor, T0 + 2 * MINUTE);
      expect(routingEffects(effects)).toEqual([{ type: 'reportAssignment', assigneeId: holder }]);
    });

    test.each<[string, Input, Actor]>([
      ['the assignee replying', reply(), agentA],
      ['the assignee sending a template', template(), agentA],
      ['the window expiring', timer, system],
    ])('%s reports nothing: the holder did not change', (__, input, actor) => {
      const at = input.type === 'timer' ? T0 + serviceWindowMs : T0 + 2 * MINUTE;
      const { effects } = decideUnder(policy, routedToA(policy), input, actor, at);
      expect(routingEffects(effects)).toEqual([]);
    });
  });
});

describe('under the default manual policy', () => {
  test('a policy carried from before routing existed counts as manual', () => {
    const legacy: Policy = { preset: 'default', autoCloseAfterMs, serviceWindowMs, version: 3 };
    const { effects } = decideUnder(legacy, fresh(), customerMessage({ attributes }), customer, T0);
    expect(routingEffects(effects)).toEqual([]);
  });

  test('opening, claiming, releasing, resolving and reopening never involve the router', () => {
    const p = defaultPolicy;
    const all: Effect[] = [];
    let state = fresh();
    const go = (input: Input, actor: Actor, at: number) => {
      const decision = decideUnder(p, state, input, actor, at);
      all.push(...decision.effects);
      state = decision.state;
    };
    go(customerMessage({ attributes }), customer, T0);
    go(assign('agent-a'), agentA, T0 + MINUTE);
    go(release('agent-a'), system, T0 + 2 * MINUTE);
    expect(state.status).toBe('open');
    go(reply(), agentB, T0 + 3 * MINUTE);
    go(resolve, agentB, T0 + 4 * MINUTE);
    go(customerMessage(), customer, T0 + HOUR);
    go(assign('agent-a'), admin, T0 + HOUR);
    go(timer, system, T0 + HOUR + 48 * HOUR);
    expect(state.status).toBe('closed');
    expect(routingEffects(all)).toEqual([]);
  });

  test('a late offer on an open conversation still assigns it, with reason routing, but reports nothing', () => {
    // The router switched to manual after sending it; the router does not count loads under manual.
    const open = step(defaultPolicy, fresh(), customerMessage(), customer, T0);
    const { state, effects } = decideUnder(defaultPolicy, open, routed('agent-a', 'rules[0]'), system, T0 + MINUTE);
    expect(state.assigneeId).toBe('agent-a');
    expect(events(effects).map((e) => [e.reason, e.rule])).toEqual([['routing', 'rules[0]']]);
    expect(routingEffects(effects)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Random histories

const numRuns = 300;
const maxSteps = 60;

const users: Actor[] = [owner, manager, agentA, agentB];
const userIds = ['owner-1', 'manager-1', 'agent-a', 'agent-b'];

type Step = { input: Input; actor: Actor; gap: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ lang: fc.constantFrom('en', 'pt'), id: fc.integer({ min: 0, max: 20 }) }).map(({ lang, id }) => ({ input: { type: 'customerMessage' as const, message: { messageId: `m${id}`, text: 't', attributes: { lang } } }, actor: customer })) },
  { weight: 2, arbitrary: fc.constantFrom(...users).map((actor) => ({ input: reply(), actor })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...userIds), fc.constantFrom(...users)).map(([id, actor]) => ({ input: assign(id), actor })) },
  { weight: 1, arbitrary: fc.constantFrom(...users).map((actor) => ({ input: takeOver, actor })) },
  { weight: 2, arbitrary: fc.constantFrom(...users).map((actor) => ({ input: resolve, actor })) },
  { weight: 2, arbitrary: fc.constant({ input: timer, actor: system }) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...userIds), fc.constantFrom('rules[0]', 'fallback')).map(([id, rule]) => ({ input: routed(id, rule), actor: system })) },
  { weight: 2, arbitrary: fc.constantFrom(...userIds).map((id) => ({ input: release(id), actor: system })) },
).chain((s) => fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 * MINUTE }), fc.integer({ min: HOUR, max: 50 * HOUR })).map((gap) => ({ ...s, gap })));

const historyArb = fc.array(stepArb, { minLength: 1, maxLength: maxSteps, size: 'max' });

/** Replays a history under `policy`, handing each accepted decision's before, after, input and effects to `check`. */
function replay(policy: Policy, history: Step[], check: (before: ConversationState, after: ConversationState, input: Input, effects: Effect[]) => void): void {
  let state = fresh();
  let now = T0;
  for (const { input, actor, gap } of history) {
    now += gap;
    const before = deepFreeze(state);
    const decision = decide(before, input, actor, policy, now);
    if (!decision.ok) continue;
    // The shell runs effects only for a changed decision.
    check(before, decision.state, input, decision.changed ? decision.effects : []);
    state = decision.state;
  }
}

const holder = (s: ConversationState) => (s.status === 'assigned' ? s.assigneeId : null);

describe('routing effects over random histories', () => {
  test('under the default manual policy no decision asks for an agent, and the only report answers a stale offer', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        replay(defaultPolicy, history, (before, _after, input, effects) => {
          for (const effect of routingEffects(effects)) {
            expect(effect.type).toBe('reportAssignment');
            // A `routed` input that finds the conversation no longer open must hand the router's reserved slot back.
            expect(input.type).toBe('routed');
            expect(before.status).not.toBe('open');
          }
        });
      }),
      { numRuns },
    );
  });

  test('under routing the last reported holder is always the real holder, and a request follows every return to open', () => {
    fc.assert(
      fc.property(historyArb, fc.constantFrom(roundRobin, leastLoaded), (history, policy) => {
        let reported: string | null = null;
        replay(policy, history, (before, after, _input, effects) => {
          const requestsMade = routingEffects(effects).filter((e) => e.type === 'requestRouting');
          for (const effect of routingEffects(effects)) if (effect.type === 'reportAssignment') reported = effect.assigneeId;
          expect(reported).toBe(holder(after));
          const becameOpen = after.status === 'open' && (before.status !== 'open' || before.episode !== after.episode);
          expect(requestsMade).toHaveLength(becameOpen ? 1 : 0);
          // A report comes before the request in the same decision, so the router frees before it re-routes.
          const types = routingEffects(effects).map((e) => e.type);
          if (types.length === 2) expect(types).toEqual(['reportAssignment', 'requestRouting']);
        });
      }),
      { numRuns },
    );
  });
});

/**
 * Several conversations and one router, joined the way the workflows join them: a conversation's
 * routing effects go to the router, the router's offers come back as `routed` inputs, possibly late
 * (after claims, closes and reopenings in between).
 */
class Exchange {
  readonly conversations = new Map<string, ConversationState>();
  readonly inFlight: Offer[] = [];
  router: RouterState;
  now = T0;

  constructor(
    readonly policy: Policy,
    agentIds: string[],
    readonly capacity: number,
  ) {
    this.router = router(agentIds.map((id) => agent(id, { maxConcurrent: capacity })), policy.routing!);
  }

  act(conversationId: string, input: Input, actor: Actor): void {
    this.now += MINUTE;
    const decision = decide(this.conversations.get(conversationId) ?? { ...fresh(), conversationId }, input, actor, this.policy, this.now);
    if (!decision.ok || !decision.changed) return;
    this.conversations.set(conversationId, decision.state);
    for (const effect of routingEffects(decision.effects)) {
      const outcome =
        effect.type === 'requestRouting'
          ? requestRouting(this.router, { conversationId, ...effect.request })
          : reportAssignment(this.router, { conversationId, assigneeId: effect.assigneeId });
      this.router = outcome.state;
      this.inFlight.push(...outcome.offers);
      // Automatic offers never take an agent past capacity (manual claims may, on purpose).
      for (const offer of outcome.offers) expect(this.router.agents[offer.userId]!.load.length).toBeLessThanOrEqual(this.capacity);
    }
  }

  /** Delivers the offer at `index` (default: the oldest) to its conversation. */
  deliver(index = 0): Offer {
    const [offer] = this.inFlight.splice(index, 1);
    this.act(offer!.conversationId, routed(offer!.userId, offer!.rule), system);
    return offer!;
  }

  deliverAll(): void {
    while (this.inFlight.length > 0) this.deliver();
  }

  assignedTo(userId: string): string[] {
    return [...this.conversations.values()].filter((c) => c.status === 'assigned' && c.assigneeId === userId).map((c) => c.conversationId);
  }
}

describe('conversations and router together', () => {
  type SimStep =
    | { kind: 'message'; conversation: number }
    | { kind: 'claim'; conversation: number; user: number }
    | { kind: 'resolve'; conversation: number }
    | { kind: 'deliver'; pick: number }
    | { kind: 'release'; conversation: number };

  const convIds = ['conv-0', 'conv-1', 'conv-2', 'conv-3', 'conv-4'];
  const agentIds = ['agent-a', 'agent-b', 'agent-c'];
  const simStepArb: fc.Arbitrary<SimStep> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('message' as const), conversation: fc.nat(convIds.length - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('claim' as const), conversation: fc.nat(convIds.length - 1), user: fc.nat(agentIds.length - 1) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('resolve' as const), conversation: fc.nat(convIds.length - 1) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), conversation: fc.nat(convIds.length - 1) }) },
  );

  test('once every offer is delivered, the router’s loads equal the conversations’ assignees, and offers kept within capacity', () => {
    fc.assert(
      fc.property(
        fc.array(simStepArb, { minLength: 1, maxLength: 80, size: 'max' }),
        fc.constantFrom(roundRobin, leastLoaded),
        fc.integer({ min: 1, max: 2 }),
        (steps, policy, capacity) => {
          const exchange = new Exchange(policy, agentIds, capacity);
          for (const s of steps) {
            switch (s.kind) {
              case 'message':
                exchange.act(convIds[s.conversation]!, customerMessage(), customer);
                break;
              case 'claim':
                exchange.act(convIds[s.conversation]!, assign(agentIds[s.user]!), manager);
                break;
              case 'resolve':
                exchange.act(convIds[s.conversation]!, resolve, manager);
                break;
              case 'release': {
                const holderId = exchange.conversations.get(convIds[s.conversation]!)?.assigneeId;
                if (holderId) exchange.act(convIds[s.conversation]!, release(holderId), system);
                break;
              }
              case 'deliver':
                if (exchange.inFlight.length > 0) exchange.deliver(s.pick % exchange.inFlight.length);
                break;
            }
          }
          exchange.deliverAll();
          for (const id of agentIds) expect([...exchange.router.agents[id]!.load].sort()).toEqual(exchange.assignedTo(id).sort());
        },
      ),
      { numRuns },
    );
  });

  test('200 conversations for 5 agents of capacity 3: 15 assigned by routing, the rest open until agents resolve theirs, then assigned in arrival order', () => {
    const agents = ['a1', 'a2', 'a3', 'a4', 'a5'];
    const exchange = new Exchange(roundRobin, agents, 3);
    const ids = Array.from({ length: 200 }, (_, i) => `conv-${i}`);
    for (const id of ids) exchange.act(id, customerMessage(), customer);
    exchange.deliverAll();
    for (const id of agents) expect(exchange.assignedTo(id)).toHaveLength(3);
    expect([...exchange.conversations.values()].filter((c) => c.status === 'open')).toHaveLength(185);

    const assignedOrder: string[] = [];
    while ([...exchange.conversations.values()].some((c) => c.status !== 'closed')) {
      // Every agent resolves the conversation they have held longest.
      for (const id of agents) {
        const oldest = exchange.assignedTo(id)[0];
        if (oldest === undefined) continue;
        exchange.act(oldest, resolve, { kind: 'user', userId: id, role: 'agent' });
        for (const offer of [...exchange.inFlight]) assignedOrder.push(offer.conversationId);
        exchange.deliverAll();
        for (const a of agents) expect(exchange.assignedTo(a).length).toBeLessThanOrEqual(3);
      }
    }
    expect(assignedOrder).toEqual(ids.slice(15));
    const lastAssignees = [...exchange.conversations.values()].map((c) => c.lastAssigneeId);
    expect(lastAssignees.every((id) => id !== null && agents.includes(id))).toBe(true);
  });

  // A conversation closed from `open` (nobody held it before or after) still tells the router, so it
  // leaves the queue and the next free slot goes to a conversation that really waits.
  test('a waiting conversation closed from open leaves the router’s queue, so the next free slot goes to a real waiter', () => {
    const exchange = new Exchange(roundRobin, ['agent-a'], 1);
    exchange.act('busy', customerMessage(), customer);
    exchange.deliverAll();
    exchange.act('abandoned', customerMessage(), customer);
    exchange.act('waiting', customerMessage(), customer);
    exchange.act('abandoned', resolve, manager);
    expect(queuedIds(exchange.router)).toEqual(['waiting']);
    exchange.act('busy', resolve, agentA);
    expect(exchange.inFlight.map((o) => o.conversationId)).toEqual(['waiting']);
  });

  test('the abandoned conversation gets no offer and the real waiter holds the freed slot', () => {
    const exchange = new Exchange(roundRobin, ['agent-a'], 1);
    exchange.act('busy', customerMessage(), customer);
    exchange.deliverAll();
    exchange.act('abandoned', customerMessage(), customer);
    exchange.act('waiting', customerMessage(), customer);
    exchange.act('abandoned', resolve, manager);
    exchange.act('busy', resolve, agentA);
    exchange.deliverAll();
    expect(exchange.conversations.get('abandoned')!.status).toBe('closed');
    expect(exchange.assignedTo('agent-a')).toEqual(['waiting']);
    expect(exchange.router.agents['agent-a']!.load).toEqual(['waiting']);
  });
});

const queuedIds = (state: RouterState) => state.queue.map((w) => w.conversationId);
