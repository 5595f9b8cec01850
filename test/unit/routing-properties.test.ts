/**
 * Invariants of the routing core over random histories: requests, confirmations, closes, lost races,
 * manual assignments, agent changes and config changes in any order. Every step is checked against
 * the state before it, so a failure shrinks to the shortest history that breaks a rule.
 */
import fc from 'fast-check';
import type { AgentPatch, AgentRecord, Offer, RouterState, RoutingConfig, RoutingRule, Waiting } from '../../workflows/routing/routing';
import { isEligible, matchRule, reportAssignment, requestRouting } from '../../workflows/routing/routing';
import type { RouterInput } from './routing-fixtures';
import { agent, apply, config, conversations, deepFreeze, offerCounts, request, requests, router, run } from './routing-fixtures';

/** Runs per property; the history property runs histories of up to `maxSteps` inputs. */
const numRuns = 300;
const maxSteps = 80;

const userIds = ['a', 'b', 'c', 'd'];
/** A user the router has not heard of until a report or a profile change names them. */
const latecomer = 'e';
const conversationPool = conversations(12);
const teams = ['sales', 'support'];
const skills = ['en', 'pt'];

const rulePool: RoutingRule[] = [
  { match: { lang: 'pt' }, team: 'sales', skills: ['pt'] },
  { match: { department: 'support' }, team: 'support' },
  { match: { channel: 'sms' }, team: 'support', skills: ['en'] },
  { match: {}, team: 'sales' },
];

const configArb: fc.Arbitrary<RoutingConfig> = fc.record({
  mode: fc.constantFrom('manual', 'round_robin', 'round_robin', 'least_loaded', 'least_loaded'),
  rules: fc.subarray(rulePool),
  sticky: fc.boolean(),
  fallbackTeam: fc.constantFrom(null, 'sales', 'support'),
  releaseOnOffline: fc.boolean(),
});

const capacityArb = fc.option(fc.integer({ min: 0, max: 3 }), { nil: null, freq: 3 });
const presenceArb = fc.constantFrom('online', 'online', 'online', 'away', 'offline');

const agentsArb: fc.Arbitrary<AgentRecord[]> = fc.tuple(
  ...userIds.map((userId) =>
    fc.record({ teams: fc.subarray(teams), skills: fc.subarray(skills), maxConcurrent: capacityArb, active: fc.boolean(), presence: presenceArb }).map((fields) => agent(userId, fields)),
  ),
);

const patchArb: fc.Arbitrary<AgentPatch> = fc.record(
  {
    userId: fc.constantFrom(...userIds, latecomer),
    teams: fc.subarray(teams),
    skills: fc.subarray(skills),
    maxConcurrent: capacityArb,
    active: fc.boolean(),
    presence: presenceArb,
  },
  { requiredKeys: ['userId'] },
);

/**
 * A step of a history. Reports about conversations someone holds are picked at run time (by index into
 * the current holders), because which conversations are held depends on the history so far.
 */
type Step =
  | { kind: 'request'; conversation: string; channel: string; lang: string | null; department: string | null; previous: string | null; jitter: number; avoid: string[] }
  | { kind: 'confirm' | 'close' | 'steal'; pick: number; thief: string }
  | { kind: 'report'; conversation: string; assigneeId: string | null }
  | { kind: 'agent'; patch: AgentPatch }
  | { kind: 'config'; config: RoutingConfig };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('request' as const),
      conversation: fc.constantFrom(...conversationPool),
      channel: fc.constantFrom('wa', 'sms'),
      lang: fc.constantFrom(null, 'en', 'pt'),
      department: fc.constantFrom(null, 'sales', 'support'),
      previous: fc.constantFrom(null, ...userIds),
      // Requests mostly arrive in the order they were made, sometimes a little late.
      jitter: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 50 }) }),
      // Users who left the conversation unanswered this episode (SPEC 9): usually nobody.
      avoid: fc.oneof({ weight: 3, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.subarray(userIds) }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('confirm' as const), pick: fc.nat(), thief: fc.constantFrom(...userIds) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('close' as const), pick: fc.nat(), thief: fc.constantFrom(...userIds) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('steal' as const), pick: fc.nat(), thief: fc.constantFrom(...userIds, latecomer) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      conversation: fc.constantFrom(...conversationPool, 'manual-1', 'manual-2'),
      assigneeId: fc.constantFrom(null, ...userIds, latecomer),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('agent' as const), patch: patchArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('config' as const), config: configArb }) },
);

/** Histories of any length up to `maxSteps`, long ones as likely as short ones. */
const historyArb = fc.array(stepArb, { minLength: 1, maxLength: maxSteps, size: 'max' });

function toInput(state: RouterState, step: Step, index: number): RouterInput {
  switch (step.kind) {
    case 'request': {
      const attributes: Record<string, string> = {};
      if (step.lang) attributes['lang'] = step.lang;
      if (step.department) attributes['department'] = step.department;
      return { type: 'request', request: request(step.conversation, index * 10 + step.jitter, { channel: step.channel, attributes, previousAssigneeId: step.previous, avoid: step.avoid }) };
    }
    case 'confirm':
    case 'close':
    case 'steal': {
      const held = Object.values(state.agents).flatMap((a) => a.load.map((conversationId) => ({ conversationId, userId: a.userId })));
      if (held.length === 0) return { type: 'report', conversationId: conversationPool[step.pick % conversationPool.length]!, assigneeId: null };
      const { conversationId, userId } = held[step.pick % held.length]!;
      const assigneeId = step.kind === 'confirm' ? userId : step.kind === 'close' ? null : step.thief;
      return { type: 'report', conversationId, assigneeId };
    }
    case 'report':
      return { type: 'report', conversationId: step.conversation, assigneeId: step.assigneeId };
    case 'agent':
      return { type: 'agent', patch: step.patch };
    case 'config':
      return { type: 'config', config: step.config };
  }
}

const capacityOf = (a: AgentRecord) => a.maxConcurrent ?? Infinity;

/** What the step asked the router to wait for, by conversation: the queue before plus a new request. */
function waitingBefore(state: RouterState, input: RouterInput): Map<string, Pick<Waiting, 'team' | 'skills' | 'rule'>> {
  const waiting = new Map<string, Pick<Waiting, 'team' | 'skills' | 'rule'>>(state.queue.map((w) => [w.conversationId, w]));
  if (input.type === 'request') waiting.set(input.request.conversationId, matchRule(state.config, input.request));
  return waiting;
}

function checkStep(before: RouterState, input: RouterInput, after: RouterState, offers: Offer[]): void {
  const agents = Object.values(after.agents);

  // Each conversation is counted once at most: in one agent's load, or waiting, never both.
  const counted = [...agents.flatMap((a) => a.load), ...after.queue.map((w) => w.conversationId)];
  expect(new Set(counted).size).toBe(counted.length);

  // The queue stays ordered by when each conversation started waiting.
  const sinces = after.queue.map((w) => w.since);
  expect(sinces).toEqual([...sinces].sort((x, y) => x - y));

  if (after.config.mode === 'manual') {
    expect(offers).toEqual([]);
    expect(after.queue).toEqual([]);
    return;
  }

  // Nobody waits while an agent who could take them is free: the queue is drained after every input.
  for (const waiting of after.queue) {
    expect(agents.filter((a) => isEligible(a, waiting)).map((a) => a.userId)).toEqual([]);
  }

  // Offers go to agents who were eligible for that conversation's rule, and stay within capacity.
  const asked = waitingBefore(before, input);
  for (const offer of offers) {
    const target = after.agents[offer.userId]!;
    const waiting = asked.get(offer.conversationId)!;
    expect(waiting).toBeDefined();
    expect(offer.rule).toBe(waiting.rule);
    expect(isEligible({ ...target, maxConcurrent: null }, waiting)).toBe(true);
    expect(target.load).toContain(offer.conversationId);
    expect(target.load.length).toBeLessThanOrEqual(capacityOf(target));
  }

  // Only a report naming the agent (a manual assignment) can take them past capacity, by that one conversation.
  for (const a of agents) {
    if (a.load.length <= capacityOf(a)) continue;
    expect(offers.filter((o) => o.userId === a.userId)).toEqual([]);
    const named = input.type === 'report' && input.assigneeId === a.userId ? 1 : 0;
    expect(a.load.length).toBeLessThanOrEqual((before.agents[a.userId]?.load.length ?? 0) + named);
  }
}

function checkReport(input: RouterInput, after: RouterState): void {
  if (input.type !== 'report') return;
  const holders = Object.values(after.agents).filter((a) => a.load.includes(input.conversationId));
  expect(holders.map((a) => a.userId)).toEqual(input.assigneeId === null ? [] : [input.assigneeId]);
}

describe('routing invariants over random histories', () => {
  test('capacity is never exceeded by offers, every offer goes to an eligible agent, and nobody eligible idles while someone waits', () => {
    fc.assert(
      fc.property(agentsArb, configArb, historyArb, (agents, routing, steps) => {
        let state = deepFreeze(router(agents, routing));
        steps.forEach((step, index) => {
          const input = toInput(state, step, index);
          const { state: after, offers } = apply(state, input);
          checkStep(state, input, after, offers);
          checkReport(input, after);
          state = deepFreeze(after);
        });
      }),
      { numRuns },
    );
  });

  test('the same history gives the same offers whatever order the agents were registered in', () => {
    fc.assert(
      fc.property(agentsArb, configArb, historyArb, (agents, routing, steps) => {
        let forward = router(agents, routing);
        let backward = router([...agents].reverse(), routing);
        steps.forEach((step, index) => {
          const input = toInput(forward, step, index);
          const one = apply(forward, input);
          const other = apply(backward, input);
          expect(other.offers).toEqual(one.offers);
          forward = one.state;
          backward = other.state;
        });
      }),
      { numRuns },
    );
  });
});

describe('avoiding users who left a conversation unanswered (SPEC 9)', () => {
  test('an avoided user gets the conversation only when nobody else is eligible; someone eligible always gets it', () => {
    fc.assert(
      fc.property(agentsArb, configArb, fc.subarray(userIds), fc.constantFrom(null, ...userIds), fc.boolean(), (agents, routing, avoid, previous, withQueue) => {
        const base = router(agents, { ...routing, mode: routing.mode === 'manual' ? 'round_robin' : routing.mode });
        // Optionally someone else waits first (and may take the last free slot).
        const state = withQueue ? requestRouting(base, request('earlier', 0)).state : base;
        const asked = request('c-unanswered', 10, { previousAssigneeId: previous, avoid });
        const { offers } = requestRouting(state, asked);
        const waiting = matchRule(state.config, asked);
        const eligible = Object.values(state.agents).filter((a) => isEligible(a, waiting));
        const others = eligible.filter((a) => !avoid.includes(a.userId));
        const offer = offers.find((o) => o.conversationId === 'c-unanswered');
        if (eligible.length === 0) expect(offer).toBeUndefined();
        else if (others.length > 0) expect(others.map((a) => a.userId)).toContain(offer?.userId);
        else expect(avoid).toContain(offer?.userId);
      }),
      { numRuns },
    );
  });

  test('a request that avoids nobody is routed exactly as one without the field', () => {
    fc.assert(
      fc.property(agentsArb, configArb, fc.constantFrom(null, ...userIds), (agents, routing, previous) => {
        const state = router(agents, routing);
        const without = requestRouting(state, request('c1', 0, { previousAssigneeId: previous }));
        const empty = requestRouting(state, request('c1', 0, { previousAssigneeId: previous, avoid: [] }));
        expect(empty).toEqual(without);
      }),
      { numRuns },
    );
  });
});

describe('fairness properties', () => {
  test('round robin: N conversations over k eligible agents give each floor(N/k) or ceil(N/k), whatever reports come in between', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.record({ reports: fc.array(fc.record({ pick: fc.nat(), close: fc.boolean() }), { maxLength: 2 }) }), { minLength: 1, maxLength: 60, size: 'max' }),
        (k, ineligible, arrivals) => {
          // The ineligible agents (away, offline, deactivated) must not take turns or count.
          const absent: Partial<AgentRecord>[] = [{ presence: 'away' }, { presence: 'offline' }, { active: false }, { maxConcurrent: 0 }];
          const agents = [
            ...Array.from({ length: k }, (_, i) => agent(`agent-${i}`)),
            ...absent.slice(0, ineligible).map((change, i) => agent(`absent-${i}`, change)),
          ];
          let state = router(agents);
          const offers: Offer[] = [];
          arrivals.forEach(({ reports }, i) => {
            const outcome = requestRouting(state, request(`c${i}`, i));
            state = outcome.state;
            offers.push(...outcome.offers);
            for (const { pick, close } of reports) {
              const offer = offers[pick % offers.length]!;
              const next = reportAssignment(state, { conversationId: offer.conversationId, assigneeId: close ? null : offer.userId });
              expect(next.offers).toEqual([]);
              state = next.state;
            }
          });
          const n = arrivals.length;
          expect(offers).toHaveLength(n);
          const counts = offerCounts(offers);
          for (const a of agents.slice(0, k)) expect([Math.floor(n / k), Math.ceil(n / k)]).toContain(counts[a.userId] ?? 0);
          expect(Object.keys(counts).every((id) => id.startsWith('agent-'))).toBe(true);
        },
      ),
      { numRuns },
    );
  });

  test('least loaded: every offer goes to an eligible agent with the fewest conversations at that moment', () => {
    fc.assert(
      fc.property(agentsArb, historyArb, (agents, steps) => {
        let state = router(agents, config({ mode: 'least_loaded' }));
        steps.forEach((step, index) => {
          if (step.kind === 'config') return;
          const input = toInput(state, step, index);
          const outcome = apply(state, input);
          if (input.type === 'request' && outcome.offers.length === 1 && outcome.offers[0]!.conversationId === input.request.conversationId) {
            const waiting = matchRule(state.config, input.request);
            // Loads as they were just before the offer: the request itself may have freed a slot it held.
            const without = Object.values(state.agents).map((a) => ({ ...a, load: a.load.filter((c) => c !== input.request.conversationId) }));
            const all = without.filter((a) => isEligible(a, waiting));
            // Users to avoid (SPEC 9) count only when nobody else is eligible.
            const others = all.filter((a) => !(input.request.avoid ?? []).includes(a.userId));
            const eligible = others.length > 0 ? others : all;
            const fewest = Math.min(...eligible.map((a) => a.load.length));
            const chosen = without.find((a) => a.userId === outcome.offers[0]!.userId)!;
            expect(chosen.load.length).toBe(fewest);
          }
          state = outcome.state;
        });
      }),
      { numRuns },
    );
  });

  test('M conversations for k agents of capacity c: min(M, k·c) offers at once, then closes in any order drain the rest by arrival', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 80 }),
        fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
        (k, capacity, m, closePicks) => {
          const ids = conversations(m);
          const agents = Array.from({ length: k }, (_, i) => agent(`agent-${i}`, { maxConcurrent: capacity }));
          let { state, offers } = run(router(agents), requests(ids.map((id, i) => request(id, i))));
          expect(offers).toHaveLength(Math.min(m, k * capacity));
          const held = offers.map((o) => o.conversationId);
          const drained: string[] = [];
          let turn = 0;
          while (held.length > 0) {
            const [closing] = held.splice(closePicks[turn++ % closePicks.length]! % held.length, 1);
            const waiting = state.queue.length;
            ({ state, offers } = reportAssignment(state, { conversationId: closing!, assigneeId: null }));
            expect(offers).toHaveLength(waiting > 0 ? 1 : 0);
            held.push(...offers.map((o) => o.conversationId));
            drained.push(...offers.map((o) => o.conversationId));
            for (const a of Object.values(state.agents)) expect(a.load.length).toBeLessThanOrEqual(capacity);
          }
          expect(drained).toEqual(ids.slice(k * capacity));
        },
      ),
      { numRuns },
    );
  });
});
