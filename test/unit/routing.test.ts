/**
 * SPEC section 4 and issue 4, rule by rule, against the pure routing core: fairness of round robin,
 * least loaded and its tie-break, capacity and the waiting queue, eligibility and rule matching,
 * sticky routing, manual mode, and how assignment reports keep the load true.
 */
import type { AgentRecord, RouterState } from '../../workflows/routing/routing';
import { hasCapacity, isEligible, matchRule, reportAssignment, requestRouting, updateAgent, updateConfig } from '../../workflows/routing/routing';
import {
  T0,
  agent,
  config,
  conversations,
  deepFreeze,
  loads,
  offerCounts,
  offeredConversations,
  offeredTo,
  queued,
  report,
  request,
  requests,
  router,
  run,
} from './routing-fixtures';

const threeAgents = () => [agent('a'), agent('b'), agent('c')];

describe('round robin', () => {
  test.each([
    [1, 1],
    [3, 5],
    [5, 5],
    [7, 3],
    [10, 4],
    [11, 4],
    [100, 7],
    [200, 6],
  ])('%i conversations over %i eligible agents give each the count rounded down or up', (n, k) => {
    const agents = Array.from({ length: k }, (_, i) => agent(`agent-${i}`));
    const { state, offers } = run(router(agents), requests(conversations(n).map((id, i) => request(id, i))));
    expect(offers).toHaveLength(n);
    expect(queued(state)).toEqual([]);
    const counts = offerCounts(offers);
    for (const a of agents) {
      expect([Math.floor(n / k), Math.ceil(n / k)]).toContain(counts[a.userId] ?? 0);
    }
  });

  test('agents take turns in a fixed rotation, starting from the lowest user id', () => {
    const { offers } = run(router([agent('c'), agent('a'), agent('b')]), requests(conversations(7).map((id, i) => request(id, i))));
    expect(offeredTo(offers)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(offers.every((o) => o.rule === 'fallback')).toBe(true);
  });

  test('the rotation continues across interleaved confirmations and closes', () => {
    const { offers } = run(router(threeAgents()), [
      { type: 'request', request: request('c1', 1) },
      report('c1', 'a'),
      { type: 'request', request: request('c2', 2) },
      report('c1', null),
      report('c2', 'b'),
      { type: 'request', request: request('c3', 3) },
      { type: 'request', request: request('c4', 4) },
      report('c3', null),
      { type: 'request', request: request('c5', 5) },
    ]);
    expect(offers.map((o) => `${o.conversationId}->${o.userId}`)).toEqual(['c1->a', 'c2->b', 'c3->c', 'c4->a', 'c5->b']);
  });

  test('manual assignments count as load but do not move the rotation', () => {
    const { state, offers } = run(router(threeAgents()), [
      report('m1', 'a'),
      report('m2', 'a'),
      { type: 'request', request: request('c1', 1) },
      { type: 'request', request: request('c2', 2) },
    ]);
    expect(offeredTo(offers)).toEqual(['a', 'b']);
    expect(loads(state)).toEqual({ a: 3, b: 1, c: 0 });
  });

  test('an agent who joins later is served next, then takes their place in the rotation', () => {
    let { state } = run(router([agent('a'), agent('b')]), requests(conversations(4).map((id, i) => request(id, i))));
    const joined = updateAgent(state, { userId: 'z', presence: 'online' });
    expect(joined.offers).toEqual([]);
    state = joined.state;
    const { offers } = run(state, requests(['c5', 'c6', 'c7', 'c8'].map((id, i) => request(id, 10 + i))));
    expect(offeredTo(offers)).toEqual(['z', 'a', 'b', 'z']);
  });

  test('an ineligible agent loses no turns: they are next when they come back', () => {
    let { state, offers } = run(router(threeAgents()), requests([request('c1', 1)]));
    expect(offeredTo(offers)).toEqual(['a']);
    state = updateAgent(state, { userId: 'b', presence: 'away' }).state;
    ({ state, offers } = run(state, requests([request('c2', 2), request('c3', 3)])));
    expect(offeredTo(offers)).toEqual(['c', 'a']);
    state = updateAgent(state, { userId: 'b', presence: 'online' }).state;
    ({ offers } = run(state, requests([request('c4', 4)])));
    expect(offeredTo(offers)).toEqual(['b']);
  });
});

describe('least loaded', () => {
  /** a holds 2, b holds 0, c holds 1, all through manual assignments. */
  const unevenlyLoaded = () => run(router(threeAgents(), config({ mode: 'least_loaded' })), [report('m1', 'a'), report('m2', 'a'), report('m3', 'c')]).state;

  test('picks the agent with the fewest conversations counted against them', () => {
    const { offers } = requestRouting(unevenlyLoaded(), request('c1', 1));
    expect(offeredTo(offers)).toEqual(['b']);
  });

  test('counts offers not yet confirmed, so a burst spreads out', () => {
    const { state, offers } = run(unevenlyLoaded(), requests(conversations(6).map((id, i) => request(id, i))));
    // Loads a2 b0 c1: b (c1). b1 c1 tie, c never routed: c (c2). a2 b1 c2: b (c3). All at 2, a never
    // routed: a (c4). b2 c2 tie, c routed before b: c (c5). Then b (c6).
    expect(offeredTo(offers)).toEqual(['b', 'c', 'b', 'a', 'c', 'b']);
    expect(loads(state)).toEqual({ a: 3, b: 3, c: 3 });
  });

  test('ties go to the least recently routed agent', () => {
    let state = router(threeAgents(), config({ mode: 'least_loaded' }));
    let offers;
    ({ state, offers } = run(state, [{ type: 'request', request: request('c1', 1) }, { type: 'request', request: request('c2', 2) }, report('c1', null), report('c2', null)]));
    expect(offeredTo(offers)).toEqual(['a', 'b']);
    // All three hold nothing now; c was never routed, then a (routed before b).
    ({ offers } = run(state, requests([request('c3', 3), request('c4', 4), request('c5', 5)])));
    expect(offeredTo(offers)).toEqual(['c', 'a', 'b']);
  });

  test('among agents never routed and equally loaded, the lowest user id wins', () => {
    const { offers } = requestRouting(router([agent('zed'), agent('amy'), agent('bob')], config({ mode: 'least_loaded' })), request('c1', 1));
    expect(offeredTo(offers)).toEqual(['amy']);
  });

  test('the same inputs give the same outputs, whatever order agents were registered in', () => {
    const inputs = [
      report('m1', 'b'),
      ...requests(conversations(5).map((id, i) => request(id, i))),
      report('c2', null),
      report('c3', 'a'),
      ...requests([request('c6', 6), request('c7', 7)]),
    ];
    const agents = [agent('a', { maxConcurrent: 2 }), agent('b'), agent('c', { maxConcurrent: 3 }), agent('d')];
    const first = run(router(agents, config({ mode: 'least_loaded' })), inputs);
    const again = run(router(agents, config({ mode: 'least_loaded' })), inputs);
    const reversed = run(router([...agents].reverse(), config({ mode: 'least_loaded' })), inputs);
    expect(again).toEqual(first);
    expect(reversed.offers).toEqual(first.offers);
    expect(loads(reversed.state)).toEqual(loads(first.state));
  });
});

describe('capacity', () => {
  const fiveAgentsOfThree = () => ['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => agent(id, { maxConcurrent: 3 }));
  const twoHundred = conversations(200);

  test('200 conversations for 5 agents with capacity 3: exactly 15 offers, the other 185 wait in arrival order', () => {
    const { state, offers } = run(router(fiveAgentsOfThree()), requests(twoHundred.map((id, i) => request(id, i))));
    expect(offers).toHaveLength(15);
    expect(offeredConversations(offers)).toEqual(twoHundred.slice(0, 15));
    expect(offerCounts(offers)).toEqual({ a1: 3, a2: 3, a3: 3, a4: 3, a5: 3 });
    expect(queued(state)).toEqual(twoHundred.slice(15));
  });

  test('confirming the 15 offers changes nothing, and each close drains exactly one waiting conversation, oldest first', () => {
    let { state, offers } = run(router(fiveAgentsOfThree()), requests(twoHundred.map((id, i) => request(id, i))));
    const holders = new Map(offers.map((o) => [o.conversationId, o.userId]));
    for (const [conversationId, userId] of holders) {
      const confirmed = reportAssignment(state, { conversationId, assigneeId: userId });
      expect(confirmed.state).toBe(state);
      expect(confirmed.offers).toEqual([]);
    }
    // Agents resolve in an order unrelated to arrival: always the most recently assigned conversation first.
    const drained: string[] = [];
    while (holders.size > 0) {
      const [conversationId, userId] = [...holders].at(-1)!;
      holders.delete(conversationId);
      ({ state, offers } = reportAssignment(state, { conversationId, assigneeId: null }));
      expect(offers.length).toBeLessThanOrEqual(1);
      for (const offer of offers) {
        expect(offer.userId).toBe(userId);
        holders.set(offer.conversationId, offer.userId);
        drained.push(offer.conversationId);
      }
      for (const a of Object.values(state.agents)) expect(a.load.length).toBeLessThanOrEqual(3);
    }
    expect(drained).toEqual(twoHundred.slice(15));
    expect(state.queue).toEqual([]);
    expect(loads(state)).toEqual({ a1: 0, a2: 0, a3: 0, a4: 0, a5: 0 });
  });

  test('requests that arrive out of order still wait and drain by when they started waiting', () => {
    // The router sees the 20 requests shuffled; `since` says when each conversation opened.
    const ids = conversations(20);
    const shuffled = [7, 3, 19, 0, 12, 5, 18, 1, 9, 14, 2, 16, 11, 4, 17, 6, 13, 8, 15, 10];
    let { state, offers } = run(router([agent('a', { maxConcurrent: 2 })]), requests(shuffled.map((i) => request(ids[i]!, i))));
    expect(offeredConversations(offers)).toEqual(['c8', 'c4']);
    const expectedOrder = ids.filter((id) => id !== 'c8' && id !== 'c4');
    expect(queued(state)).toEqual(expectedOrder);
    const drained: string[] = [];
    let holding = offeredConversations(offers);
    while (holding.length > 0) {
      const [closing, ...rest] = holding;
      ({ state, offers } = reportAssignment(state, { conversationId: closing!, assigneeId: null }));
      holding = [...rest, ...offeredConversations(offers)];
      drained.push(...offeredConversations(offers));
    }
    expect(drained).toEqual(expectedOrder);
  });

  test('requests with the same `since` drain in the order they reached the router', () => {
    const { state } = run(router([agent('a', { maxConcurrent: 0 })]), requests([request('x', 5), request('y', 5), request('w', 1), request('z', 5)]));
    expect(queued(state)).toEqual(['w', 'x', 'y', 'z']);
  });

  test('a manual assignment may put an agent over capacity, and they get no offers until below it again', () => {
    let { state, offers } = run(router([agent('a', { maxConcurrent: 2 })]), [
      ...requests([request('c1', 1), request('c2', 2)]),
      report('c1', 'a'),
      report('c2', 'a'),
      // A supervisor assigns a third and a fourth conversation on purpose.
      report('m1', 'a'),
      report('m2', 'a'),
      ...requests([request('c3', 3), request('c4', 4)]),
    ]);
    expect(offeredTo(offers)).toEqual(['a', 'a']);
    expect(loads(state)).toEqual({ a: 4 });
    expect(queued(state)).toEqual(['c3', 'c4']);

    ({ state, offers } = reportAssignment(state, { conversationId: 'm1', assigneeId: null }));
    expect(offers).toEqual([]);
    ({ state, offers } = reportAssignment(state, { conversationId: 'c1', assigneeId: null }));
    expect(offers).toEqual([]);
    ({ state, offers } = reportAssignment(state, { conversationId: 'm2', assigneeId: null }));
    expect(offeredConversations(offers)).toEqual(['c3']);
    expect(loads(state)).toEqual({ a: 2 });
  });

  test('a reserved slot counts: an offer not yet confirmed takes the last free slot', () => {
    const { state, offers } = run(router([agent('a', { maxConcurrent: 1 }), agent('b', { maxConcurrent: 1 })]), requests([request('c1', 1), request('c2', 2), request('c3', 3)]));
    expect(offeredTo(offers)).toEqual(['a', 'b']);
    expect(queued(state)).toEqual(['c3']);
  });

  test('capacity null means no limit and capacity 0 means never routed to', () => {
    expect(hasCapacity(agent('a', { maxConcurrent: null, load: conversations(1000) }))).toBe(true);
    expect(hasCapacity(agent('a', { maxConcurrent: 0 }))).toBe(false);
    expect(hasCapacity(agent('a', { maxConcurrent: 2, load: ['x'] }))).toBe(true);
    expect(hasCapacity(agent('a', { maxConcurrent: 2, load: ['x', 'y'] }))).toBe(false);
  });

  test('lowering capacity takes nothing away but stops offers until the load is below the new limit', () => {
    let { state } = run(router([agent('a', { maxConcurrent: 3 })]), requests([request('c1', 1), request('c2', 2), request('c3', 3)]));
    state = updateAgent(state, { userId: 'a', maxConcurrent: 1 }).state;
    expect(loads(state)).toEqual({ a: 3 });
    let offers;
    ({ state, offers } = run(state, [{ type: 'request', request: request('c4', 4) }, report('c1', null), report('c2', null)]));
    expect(offers).toEqual([]);
    ({ offers } = reportAssignment(state, { conversationId: 'c3', assigneeId: null }));
    expect(offeredConversations(offers)).toEqual(['c4']);
  });
});

describe('eligibility', () => {
  const waiting = { team: 'sales', skills: ['pt'] };
  const able = agent('a', { teams: ['sales', 'support'], skills: ['en', 'pt'], maxConcurrent: 1 });

  test.each<[string, Partial<AgentRecord>]>([
    ['offline', { presence: 'offline' }],
    ['away', { presence: 'away' }],
    ['inactive (deactivated)', { active: false }],
    ['not in the rule’s team', { teams: ['support'] }],
    ['missing one of the rule’s skills', { skills: ['en'] }],
    ['at capacity', { load: ['x'] }],
  ])('an agent who is %s is skipped', (_, change) => {
    expect(isEligible(able, waiting)).toBe(true);
    expect(isEligible({ ...able, ...change }, waiting)).toBe(false);
    const routing = config({ rules: [{ match: {}, team: 'sales', skills: ['pt'] }] });
    const { state, offers } = requestRouting(router([{ ...able, ...change }], routing), request('c1', 1));
    expect(offers).toEqual([]);
    expect(queued(state)).toEqual(['c1']);
  });

  test('the skipped agents are passed over for an eligible one', () => {
    const routing = config({ rules: [{ match: {}, team: 'sales', skills: ['pt'] }] });
    const agents = [
      agent('a-offline', { teams: ['sales'], skills: ['pt'], presence: 'offline' }),
      agent('b-away', { teams: ['sales'], skills: ['pt'], presence: 'away' }),
      agent('c-inactive', { teams: ['sales'], skills: ['pt'], active: false }),
      agent('d-other-team', { teams: ['support'], skills: ['pt'] }),
      agent('e-no-skill', { teams: ['sales'], skills: ['en'] }),
      agent('f-full', { teams: ['sales'], skills: ['pt'], maxConcurrent: 0 }),
      agent('z-eligible', { teams: ['sales'], skills: ['pt', 'en'] }),
    ];
    const { offers } = run(router(agents, routing), requests(conversations(3).map((id, i) => request(id, i))));
    expect(offeredTo(offers)).toEqual(['z-eligible', 'z-eligible', 'z-eligible']);
  });

  test('a rule without skills and a fallback without a team accept any agent who is online with room', () => {
    expect(isEligible(agent('a'), { team: null, skills: [] })).toBe(true);
    expect(isEligible(agent('a', { teams: ['x'] }), { team: 'x', skills: [] })).toBe(true);
  });

  describe('someone becoming eligible drains the oldest waiting conversation they can take', () => {
    const routing = config({
      rules: [
        { match: { department: 'sales' }, team: 'sales' },
        { match: { department: 'support' }, team: 'support' },
      ],
    });
    /** c1 (sales), c2 (support), c3 (sales), c4 (support) are waiting; nobody is online. */
    const waitingForTeams = (agents: AgentRecord[]) =>
      run(
        router(agents, routing),
        requests([
          request('c1', 1, { attributes: { department: 'sales' } }),
          request('c2', 2, { attributes: { department: 'support' } }),
          request('c3', 3, { attributes: { department: 'sales' } }),
          request('c4', 4, { attributes: { department: 'support' } }),
        ]),
      ).state;

    test('an agent coming online', () => {
      const state = waitingForTeams([agent('s', { teams: ['support'], presence: 'offline', maxConcurrent: 1 })]);
      expect(queued(state)).toEqual(['c1', 'c2', 'c3', 'c4']);
      const { state: after, offers } = updateAgent(state, { userId: 's', presence: 'online' });
      expect(offers).toEqual([{ conversationId: 'c2', userId: 's', rule: 'rules[1]' }]);
      expect(queued(after)).toEqual(['c1', 'c3', 'c4']);
    });

    test('an agent coming back from away, or being reactivated', () => {
      let state = waitingForTeams([agent('s', { teams: ['sales'], presence: 'away', active: false, maxConcurrent: 1 })]);
      let offers;
      ({ state, offers } = updateAgent(state, { userId: 's', presence: 'online' }));
      expect(offers).toEqual([]);
      ({ state, offers } = updateAgent(state, { userId: 's', active: true }));
      expect(offeredConversations(offers)).toEqual(['c1']);
    });

    test('capacity being raised', () => {
      let state = waitingForTeams([agent('s', { teams: ['sales'], maxConcurrent: 1 })]);
      expect(queued(state)).toEqual(['c2', 'c3', 'c4']);
      let offers;
      ({ state, offers } = updateAgent(state, { userId: 's', maxConcurrent: 2 }));
      expect(offeredConversations(offers)).toEqual(['c3']);
      ({ state, offers } = updateAgent(state, { userId: 's', maxConcurrent: null }));
      expect(offers).toEqual([]);
      expect(queued(state)).toEqual(['c2', 'c4']);
    });

    test('an agent joining the team', () => {
      const state = waitingForTeams([agent('s', { teams: ['sales'], maxConcurrent: 3 })]);
      expect(queued(state)).toEqual(['c2', 'c4']);
      const { offers } = updateAgent(state, { userId: 's', teams: ['sales', 'support'] });
      expect(offeredConversations(offers)).toEqual(['c2']);
    });

    test('a new agent appearing online', () => {
      const state = waitingForTeams([]);
      const { offers } = updateAgent(state, { userId: 'n', presence: 'online', teams: ['support'] });
      expect(offeredConversations(offers)).toEqual(['c2', 'c4']);
    });

    test('an agent gaining the skill a rule asks for', () => {
      const skilled = config({ rules: [{ match: { lang: 'pt' }, team: 'br', skills: ['pt'] }] });
      const { state } = requestRouting(router([agent('s', { teams: ['br'], skills: ['en'] })], skilled), request('c1', 1, { attributes: { lang: 'pt' } }));
      expect(queued(state)).toEqual(['c1']);
      const { offers } = updateAgent(state, { userId: 's', skills: ['en', 'pt'] });
      expect(offers).toEqual([{ conversationId: 'c1', userId: 's', rule: 'rules[0]' }]);
    });

    test('an agent update that omits fields keeps them', () => {
      const state = waitingForTeams([agent('s', { teams: ['support'], presence: 'offline', maxConcurrent: 1 })]);
      const { state: after } = updateAgent(state, { userId: 's', presence: 'online', teams: undefined });
      expect(after.agents['s']!.teams).toEqual(['support']);
      expect(after.agents['s']!.maxConcurrent).toBe(1);
    });
  });
});

describe('rule matching', () => {
  const routing = config({
    rules: [
      { match: { channel: 'wa-br', lang: 'pt' }, team: 'br', skills: ['pt'] },
      { match: { lang: 'pt' }, team: 'latam', skills: ['pt'] },
      { match: { department: 'billing', region: 'eu' }, team: 'billing-eu' },
      { match: { department: 'billing' }, team: 'billing' },
    ],
    fallbackTeam: 'general',
  });

  test.each<[string, { channel: string; attributes: Record<string, string> }, { team: string | null; skills: string[]; rule: string }]>([
    ['the first matching rule wins', { channel: 'wa-br', attributes: { lang: 'pt' } }, { team: 'br', skills: ['pt'], rule: 'rules[0]' }],
    ['a later rule matches when an earlier one needs another channel', { channel: 'wa-pt', attributes: { lang: 'pt' } }, { team: 'latam', skills: ['pt'], rule: 'rules[1]' }],
    ['every key of a match must hold', { channel: 'wa', attributes: { department: 'billing', region: 'eu' } }, { team: 'billing-eu', skills: [], rule: 'rules[2]' }],
    ['a partial match falls through to the next rule', { channel: 'wa', attributes: { department: 'billing', region: 'us' } }, { team: 'billing', skills: [], rule: 'rules[3]' }],
    ['extra attributes do not prevent a match', { channel: 'wa', attributes: { department: 'billing', vip: 'yes' } }, { team: 'billing', skills: [], rule: 'rules[3]' }],
    ['no match goes to the fallback team', { channel: 'wa', attributes: { lang: 'en' } }, { team: 'general', skills: [], rule: 'fallback' }],
    ['no attributes at all goes to the fallback team', { channel: 'wa', attributes: {} }, { team: 'general', skills: [], rule: 'fallback' }],
    ['values compare exactly', { channel: 'wa', attributes: { lang: 'PT' } }, { team: 'general', skills: [], rule: 'fallback' }],
    ['the message’s channel wins over an attribute named channel', { channel: 'wa', attributes: { channel: 'wa-br', lang: 'pt' } }, { team: 'latam', skills: ['pt'], rule: 'rules[1]' }],
  ])('%s', (_, message, expected) => {
    expect(matchRule(routing, message)).toEqual(expected);
  });

  test('an empty match matches every message', () => {
    const catchAll = config({ rules: [{ match: {}, team: 'all' }, { match: { lang: 'pt' }, team: 'never' }], fallbackTeam: 'unused' });
    expect(matchRule(catchAll, { channel: 'x', attributes: { lang: 'pt' } })).toEqual({ team: 'all', skills: [], rule: 'rules[0]' });
  });

  test('with no rules and no fallback team, any agent of the account may take the conversation', () => {
    expect(matchRule(config(), { channel: 'wa', attributes: {} })).toEqual({ team: null, skills: [], rule: 'fallback' });
    const { offers } = requestRouting(router([agent('a', { teams: ['whatever'] })]), request('c1', 1));
    expect(offers).toEqual([{ conversationId: 'c1', userId: 'a', rule: 'fallback' }]);
  });

  test('the offer names the rule that chose the team, and only that team’s agents are offered it', () => {
    const agents = [
      agent('br-1', { teams: ['br'], skills: ['pt'] }),
      agent('latam-1', { teams: ['latam'], skills: ['pt', 'es'] }),
      agent('billing-1', { teams: ['billing', 'billing-eu'] }),
      agent('general-1', { teams: ['general'] }),
    ];
    const { offers } = run(
      router(agents, routing),
      requests([
        request('c1', 1, { channel: 'wa-br', attributes: { lang: 'pt' } }),
        request('c2', 2, { attributes: { lang: 'pt' } }),
        request('c3', 3, { attributes: { department: 'billing', region: 'eu' } }),
        request('c4', 4, { attributes: { department: 'billing' } }),
        request('c5', 5, { attributes: { lang: 'de' } }),
      ]),
    );
    expect(offers).toEqual([
      { conversationId: 'c1', userId: 'br-1', rule: 'rules[0]' },
      { conversationId: 'c2', userId: 'latam-1', rule: 'rules[1]' },
      { conversationId: 'c3', userId: 'billing-1', rule: 'rules[2]' },
      { conversationId: 'c4', userId: 'billing-1', rule: 'rules[3]' },
      { conversationId: 'c5', userId: 'general-1', rule: 'fallback' },
    ]);
  });

  test('a conversation waits for its own team even when another team has room', () => {
    const { state, offers } = requestRouting(router([agent('general-1', { teams: ['general'] })], routing), request('c1', 1, { attributes: { lang: 'pt' } }));
    expect(offers).toEqual([]);
    expect(state.queue).toEqual([{ conversationId: 'c1', team: 'latam', skills: ['pt'], rule: 'rules[1]', previousAssigneeId: null, since: T0 + 1 }]);
  });
});

describe('sticky', () => {
  const sticky = (mode: 'round_robin' | 'least_loaded') => config({ mode, sticky: true });

  test.each(['round_robin', 'least_loaded'] as const)('under %s, the previous assignee is preferred when eligible', (mode) => {
    // b is last in the rotation and the most loaded, yet gets the conversation back.
    const { state } = run(router(threeAgents(), sticky(mode)), [report('m1', 'b'), report('m2', 'b')]);
    const { offers } = requestRouting(state, request('c1', 1, { previousAssigneeId: 'b' }));
    expect(offeredTo(offers)).toEqual(['b']);
  });

  test.each<[string, Partial<AgentRecord>]>([
    ['offline', { presence: 'offline' }],
    ['away', { presence: 'away' }],
    ['deactivated', { active: false }],
    ['at capacity', { maxConcurrent: 0 }],
    ['no longer in the team', { teams: [] }],
  ])('when the previous assignee is %s, the mode decides', (_, change) => {
    const routing = config({ sticky: true, rules: [{ match: {}, team: 't' }] });
    const agents = [agent('a', { teams: ['t'] }), agent('b', { teams: ['t'], ...change }), agent('c', { teams: ['t'] })];
    const { offers } = requestRouting(router(agents, routing), request('c1', 1, { previousAssigneeId: 'b' }));
    expect(offeredTo(offers)).toEqual(['a']);
  });

  test('a previous assignee the router does not know falls back to the mode', () => {
    const { offers } = requestRouting(router(threeAgents(), sticky('round_robin')), request('c1', 1, { previousAssigneeId: 'gone' }));
    expect(offeredTo(offers)).toEqual(['a']);
  });

  test('without sticky, the previous assignee is not preferred', () => {
    const { offers } = requestRouting(router(threeAgents()), request('c1', 1, { previousAssigneeId: 'c' }));
    expect(offeredTo(offers)).toEqual(['a']);
  });

  test('a waiting conversation goes back to its previous assignee when they become eligible first', () => {
    const routing = sticky('round_robin');
    let { state } = requestRouting(router([agent('a', { presence: 'offline' }), agent('b', { presence: 'offline' })], routing), request('c1', 1, { previousAssigneeId: 'b' }));
    let offers;
    ({ state, offers } = updateAgent(state, { userId: 'b', presence: 'online' }));
    expect(offeredTo(offers)).toEqual(['b']);
    // And a sticky offer still moves the rotation: a is next.
    ({ offers } = run(updateAgent(state, { userId: 'a', presence: 'online' }).state, requests([request('c2', 2), request('c3', 3)])));
    expect(offeredTo(offers)).toEqual(['a', 'b']);
  });
});

describe('manual mode', () => {
  test('offers nothing and queues nothing', () => {
    const state = deepFreeze(router(threeAgents(), config({ mode: 'manual' })));
    const outcome = requestRouting(state, request('c1', 1));
    expect(outcome.offers).toEqual([]);
    expect(outcome.state).toBe(state);
    expect(outcome.state.queue).toEqual([]);
    expect(updateAgent(state, { userId: 'd', presence: 'online' }).offers).toEqual([]);
  });

  test('still counts reported assignments, so capacity is known if routing is switched on', () => {
    const { state, offers } = run(router(threeAgents(), config({ mode: 'manual' })), [report('m1', 'a'), report('m2', 'a'), report('m1', null)]);
    expect(offers).toEqual([]);
    expect(loads(state)).toEqual({ a: 1, b: 0, c: 0 });
  });

  test('switching the config to manual clears the queue and offers nothing', () => {
    let { state } = run(router([agent('a', { maxConcurrent: 1 })]), requests([request('c1', 1), request('c2', 2), request('c3', 3)]));
    expect(queued(state)).toEqual(['c2', 'c3']);
    let offers;
    ({ state, offers } = updateConfig(state, config({ mode: 'manual' })));
    expect(offers).toEqual([]);
    expect(state.queue).toEqual([]);
    ({ state, offers } = reportAssignment(state, { conversationId: 'c1', assigneeId: null }));
    expect(offers).toEqual([]);
    // Switching back does not bring the cleared conversations back: they ask again when they reopen.
    ({ offers } = updateConfig(state, config()));
    expect(offers).toEqual([]);
  });

  test('switching between automatic modes keeps the queue and applies the new mode to it', () => {
    let { state } = run(router([agent('a', { maxConcurrent: 1 }), agent('b', { maxConcurrent: 1 })]), [
      ...requests([request('c1', 1), request('c2', 2), request('c3', 3)]),
      report('m1', 'b'),
    ]);
    // a holds c1, b holds c2 and m1; c3 waits.
    expect(queued(state)).toEqual(['c3']);
    state = updateConfig(state, config({ mode: 'least_loaded' })).state;
    expect(queued(state)).toEqual(['c3']);
    state = updateAgent(state, { userId: 'a', maxConcurrent: 5 }).state;
    expect(loads(state)).toEqual({ a: 2, b: 2 });
    const { offers } = updateAgent(state, { userId: 'b', maxConcurrent: 5 });
    expect(offeredTo(offers)).toEqual([]);
  });
});

describe('assignment reports', () => {
  /** c1 was offered to a; c2 waits because both agents have capacity 1 and b holds m1. */
  const offeredToA = (): RouterState =>
    run(router([agent('a', { maxConcurrent: 1 }), agent('b', { maxConcurrent: 1 })]), [report('m1', 'b'), ...requests([request('c1', 1), request('c2', 2)])]).state;

  test('a report that lost a race moves the load from the offered agent to the real holder', () => {
    // b claimed c1 by hand before the offer to a landed (a supervisor may put b over capacity).
    const { state, offers } = reportAssignment(offeredToA(), { conversationId: 'c1', assigneeId: 'b' });
    expect(state.agents['b']!.load).toEqual(['m1', 'c1']);
    // a's reserved slot is free again and goes to the waiting conversation at once.
    expect(offers).toEqual([{ conversationId: 'c2', userId: 'a', rule: 'fallback' }]);
    expect(state.agents['a']!.load).toEqual(['c2']);
  });

  test('reporting null frees the slot', () => {
    const { state, offers } = reportAssignment(offeredToA(), { conversationId: 'c1', assigneeId: null });
    expect(state.agents['a']!.load).toEqual(['c2']);
    expect(offers).toEqual([{ conversationId: 'c2', userId: 'a', rule: 'fallback' }]);
  });

  test('a duplicate report changes nothing and returns the same state object', () => {
    const state = deepFreeze(offeredToA());
    const outcome = reportAssignment(state, { conversationId: 'c1', assigneeId: 'a' });
    expect(outcome.state).toBe(state);
    expect(outcome.offers).toEqual([]);
    const again = reportAssignment(state, { conversationId: 'm1', assigneeId: 'b' });
    expect(again.state).toBe(state);
  });

  test('a second report of null for a conversation nobody holds changes nothing', () => {
    const { state } = reportAssignment(offeredToA(), { conversationId: 'c1', assigneeId: null });
    const outcome = reportAssignment(deepFreeze(state), { conversationId: 'c1', assigneeId: null });
    expect(outcome.state).toEqual(state);
    expect(outcome.offers).toEqual([]);
  });

  test('a manual claim of a waiting conversation takes it out of the queue', () => {
    const { state, offers } = reportAssignment(offeredToA(), { conversationId: 'c2', assigneeId: 'b' });
    expect(state.queue).toEqual([]);
    expect(loads(state)).toEqual({ a: 1, b: 2 });
    expect(offers).toEqual([]);
  });

  test('a manual assignment to an agent the router has not heard of counts when they appear', () => {
    let { state } = reportAssignment(router([]), { conversationId: 'm1', assigneeId: 'new' });
    expect(state.agents['new']).toMatchObject({ load: ['m1'], presence: 'offline' });
    state = updateAgent(state, { userId: 'new', presence: 'online', maxConcurrent: 1 }).state;
    const { offers } = requestRouting(state, request('c1', 1));
    expect(offers).toEqual([]);
  });

  test('a conversation asking again is counted once: its old slot and old place in the queue are dropped', () => {
    const state = offeredToA();
    const again = requestRouting(state, request('c1', 5));
    expect(again.offers).toEqual([{ conversationId: 'c2', userId: 'a', rule: 'fallback' }]);
    expect(queued(again.state)).toEqual(['c1']);
    const requeued = requestRouting(state, request('c2', 9));
    expect(requeued.state.queue.map((w) => [w.conversationId, w.since])).toEqual([['c2', T0 + 9]]);
  });

  test('no function changes the state it is given', () => {
    const state = deepFreeze(offeredToA());
    expect(() => {
      requestRouting(state, request('c9', 9));
      reportAssignment(state, { conversationId: 'c1', assigneeId: null });
      reportAssignment(state, { conversationId: 'c1', assigneeId: 'b' });
      updateAgent(state, { userId: 'a', maxConcurrent: 4 });
      updateConfig(state, config({ mode: 'least_loaded' }));
      updateConfig(state, config({ mode: 'manual' }));
    }).not.toThrow();
  });
});
