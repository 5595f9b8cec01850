/// <reference lib="dom" />
import fc from 'fast-check';
import type { Conversation, Transition } from '../../inbox/src/api';
import { Api, ApiFailure, openStream, streamRefusedForGood } from '../../inbox/src/api';
import { composeMode } from '../../inbox/src/compose-mode';
import { Drafts } from '../../inbox/src/drafts';
import { onEachSecond } from '../../inbox/src/ticker';
import { compareFor, filterQuery, inFilters, noFilters } from '../../inbox/src/filters';
import { defaultPrefs, loadPrefs, noticeForMessage, noticeForTransition, pageTitle } from '../../inbox/src/notify';
import { dayKey, dayLabel, timeLeft } from '../../inbox/src/time';
import { parsePlace, placeSearch } from '../../inbox/src/url-state';
import { describeRefusal, describeTransition, serviceWindowWords, slaBadge } from '../../inbox/src/words';

/** The inbox's pure parts (issue 22): the words, times, places and choices the page shows. */

const now = Date.parse('2026-12-06T14:00:00Z');
const me = { kind: 'user' as const, accountId: 'acme', userId: 'ana', name: 'Ana', role: 'agent' as const, presence: 'online' as const };

function conversation(patch: Partial<Conversation> = {}): Conversation {
  return {
    id: 'conv:acme:wa:1',
    accountId: 'acme',
    channel: 'wa',
    customer: '1',
    customerName: 'Priya',
    status: 'assigned',
    assigneeId: 'ana',
    episode: 1,
    unreadCount: 0,
    lastCustomerMessageAt: null,
    windowExpiresAt: null,
    closedReason: null,
    tags: [],
    archived: false,
    lastActivityAt: null,
    version: 1,
    ...patch,
  };
}

function transition(patch: Partial<Transition>): Transition {
  return { seq: 1, conversationId: 'conv:acme:wa:1', at: '2026-12-06T14:00:00Z', from: 'open', to: 'assigned', reason: 'claimed', actor: { kind: 'user', id: 'bruno', role: 'agent' }, assigneeAfter: 'bruno', ...patch };
}

describe('time left in a window', () => {
  test.each([
    [24 * 3600_000, '24h 0m'],
    [24 * 3600_000 - 30_000, '23h 59m'],
    [20_000, '20s'],
    [61_000, '1m 1s'],
    [15 * 60_000 + 59_000, '15m'],
    [3 * 86400_000 + 3600_000, '3d 1h'],
    [0, null],
    [-5, null],
  ])('%d ms left reads %s', (ms, words) => {
    expect(timeLeft(new Date(now + ms).toISOString(), now)).toBe(words);
  });

  test('never says more time is left than there is', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * 86400_000 }), (ms) => {
        const words = timeLeft(new Date(now + ms).toISOString(), now)!;
        const units: Record<string, number> = { d: 86400_000, h: 3600_000, m: 60_000, s: 1000 };
        const said = [...words.matchAll(/(\d+)([dhms])/g)].reduce((sum, [, n, u]) => sum + Number(n) * units[u!]!, 0);
        return said <= Math.max(ms, 1000);
      }),
    );
  });
});

describe('days in the reader’s zone', () => {
  test('the same instant is a different day in Kolkata and in São Paulo', () => {
    const instant = '2026-12-06T20:00:00Z';
    expect(dayKey(instant, 'Asia/Kolkata')).toBe('2026-12-07');
    expect(dayKey(instant, 'America/Sao_Paulo')).toBe('2026-12-06');
  });

  test('today and yesterday by the calendar of the zone, across a DST change', () => {
    // Berlin leaves summer time in the night of 25 October 2026.
    const monday = Date.parse('2026-10-26T10:00:00Z');
    expect(dayLabel('2026-10-26T00:30:00Z', monday, 'Europe/Berlin')).toBe('Today');
    expect(dayLabel('2026-10-25T22:30:00Z', monday, 'Europe/Berlin')).toBe('Yesterday');
    expect(dayLabel('2026-10-24T21:30:00Z', monday, 'Europe/Berlin')).not.toMatch(/Today|Yesterday/);
  });
});

describe('words', () => {
  test.each([
    ['24h', '24-hour'],
    ['20s', '20-second'],
    ['90m', '90-minute'],
    ['1h30m', '1h30m'],
  ])('a %s window is a %s window', (duration, words) => expect(serviceWindowWords(duration)).toBe(words));

  const nameOf = (id: string | null) => (id === 'ana' ? 'you' : id === 'bruno' ? 'Bruno' : (id ?? 'nobody'));
  test.each([
    [{}, 'Bruno claimed it'],
    [{ reason: 'assigned', actor: { kind: 'user', id: 'carla', role: 'manager' }, assigneeAfter: 'ana' }, 'Carla assigned it to you'],
    [{ reason: 'window_expired', from: 'assigned', to: 'assigned', actor: { kind: 'system', id: null, role: null }, assigneeAfter: 'ana' }, 'The customer-service window closed: templates only until the customer writes'],
    [{ reason: 'inactivity', to: 'closed', actor: { kind: 'system', id: null, role: null } }, 'Closed: the customer stayed silent'],
    [{ reason: 'sla_warning', type: 'sla_warning', metric: 'firstResponse', from: 'open', to: 'open', actor: { kind: 'system', id: null, role: null } }, 'SLA: the first response is due soon'],
    [{ reason: 'sla_breached', type: 'sla_breached', metric: 'nextResponse', from: 'assigned', to: 'assigned', actor: { kind: 'system', id: null, role: null } }, 'SLA breached: the next response is overdue'],
    [{ reason: 'unanswered', from: 'assigned', to: 'open', actor: { kind: 'system', id: null, role: null }, assigneeAfter: null }, 'Not answered in time: back to the queue'],
    [{ reason: 'something_new', from: 'open', to: 'wrap_up', actor: { kind: 'system', id: null, role: null } }, 'Open → wrap up (something new) by convoflow'],
  ] as [Partial<Transition>, string][])('%j reads "%s"', (patch, words) => {
    expect(describeTransition(transition(patch), (id) => (id === 'carla' ? 'carla' : nameOf(id)))).toBe(words);
  });

  const none = { firstResponseDueAt: null, nextResponseDueAt: null, resolutionDueAt: null, breached: [] as string[], paused: false };
  const inSeconds = (s: number) => new Date(now + s * 1000).toISOString();
  test.each([
    [undefined, null],
    [none, null],
    [{ ...none, paused: true }, { kind: 'paused', text: 'SLA paused' }],
    [{ ...none, resolutionDueAt: inSeconds(4 * 3600), nextResponseDueAt: inSeconds(252) }, { kind: 'due', text: 'reply due in 4m 12s', title: `due ${inSeconds(252)}` }],
    [{ ...none, firstResponseDueAt: inSeconds(3600), nextResponseDueAt: inSeconds(30) }, { kind: 'due', text: 'reply due in 30s', title: `due ${inSeconds(30)}` }],
    [{ ...none, resolutionDueAt: inSeconds(3 * 3600 + 300) }, { kind: 'due', text: 'resolve in 3h 5m', title: `due ${inSeconds(3 * 3600 + 300)}` }],
    [{ ...none, firstResponseDueAt: inSeconds(0) }, { kind: 'overdue', text: 'reply overdue', title: `due ${inSeconds(0)}` }],
    [{ ...none, firstResponseDueAt: inSeconds(-5), resolutionDueAt: inSeconds(60) }, { kind: 'overdue', text: 'reply overdue', title: `due ${inSeconds(-5)}` }],
    [{ ...none, resolutionDueAt: inSeconds(-1) }, { kind: 'overdue', text: 'resolution overdue', title: `due ${inSeconds(-1)}` }],
    [{ ...none, firstResponseDueAt: inSeconds(60), breached: ['resolution', 'firstResponse'] }, { kind: 'breached', text: 'SLA breached: resolution, first response' }],
  ])('the SLA badge of %j is %j', (sla, badge) => {
    expect(slaBadge({ sla }, now, (iso) => iso)).toEqual(badge);
  });

  test('an SLA countdown never grows as time passes, and turns overdue exactly at the due time', () => {
    const seconds = (text: string) => [...text.matchAll(/(\d+)([dhms])/g)].reduce((t, [, n, u]) => t + Number(n) * { d: 86400, h: 3600, m: 60, s: 1 }[u as 'd' | 'h' | 'm' | 's'], 0);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 * 86400 }), fc.integer({ min: 0, max: 3 * 86400 }), (due, later) => {
        const sla = { ...none, firstResponseDueAt: inSeconds(due) };
        const before = slaBadge({ sla }, now, (iso) => iso)!;
        const after = slaBadge({ sla }, now + later * 1000, (iso) => iso)!;
        expect(before.kind).toBe('due');
        expect(after.kind).toBe(later >= due ? 'overdue' : 'due');
        if (after.kind === 'due') expect(seconds(after.text)).toBeLessThanOrEqual(seconds(before.text));
        // Never more than is left: the countdown rounds down.
        expect(seconds(before.text)).toBeLessThanOrEqual(due);
      }),
    );
  });

  test('a transition never shows a raw reason code with underscores', () => {
    const reasons = ['claimed', 'assigned', 'routing', 'reply', 'template', 'take_over', 'resolved', 'inactivity', 'window_expired', 'customer_message', 'first_customer_message', 'customer_returned', 'flow_started', 'flow_ended', 'csat_timeout', 'customer_left', 'ended', 'revived', 'transferred', 'agent_disconnected', 'delivery_failed', 'flow_assigned_team', 'left_by_agent', 'sla_warning', 'sla_breached'];
    for (const reason of reasons) expect(describeTransition(transition({ reason }), nameOf)).not.toMatch(/_/);
  });

  test('a refusal by the assignee rule names the holder, not their id', () => {
    expect(describeRefusal(new ApiFailure(403, 'not_assignee', 'only the assignee (bruno) can reply'), nameOf)).toBe('Bruno holds this conversation; only they can do this.');
  });
});

describe('who may write', () => {
  test.each([
    [{ status: 'open', assigneeId: null }, 'reply'],
    [{ status: 'assigned', assigneeId: 'ana' }, 'reply'],
    [{ status: 'assigned', assigneeId: 'bruno' }, 'held'],
    [{ status: 'closed', assigneeId: null }, 'closed'],
    [{ status: 'resolved', assigneeId: null }, 'closed'],
    [{ status: 'in_flow', assigneeId: null }, 'automation'],
    [{ status: 'waiting', assigneeId: 'ana' }, 'parked'],
    [{ status: 'wrap_up', assigneeId: 'bruno' }, 'held'],
  ] as [Partial<Conversation>, string][])('%j: %s', (patch, kind) => expect(composeMode(me, conversation(patch)).kind).toBe(kind));
});

describe("the page's clock", () => {
  test('any number of countdowns tick on one interval, which stops when the last one leaves', () => {
    jest.useFakeTimers({ now });
    try {
      const seen: number[][] = [[], [], []];
      const stops = seen.map((list) => onEachSecond((t) => list.push(t)));
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(2000);
      expect(seen).toEqual([0, 1, 2].map(() => [now + 1000, now + 2000]));
      stops[0]!();
      stops[1]!();
      expect(jest.getTimerCount()).toBe(1);
      stops[2]!();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('places in the URL', () => {
  const tabs = ['open', 'mine', 'assigned', 'closed'];
  test('a place survives the URL both ways', () => {
    fc.assert(
      fc.property(fc.constantFrom(...tabs), fc.option(fc.string({ minLength: 1, maxLength: 80 }), { nil: null }), (tab, conversationId) => {
        expect(parsePlace(placeSearch({ tab, conversationId }), tabs)).toEqual({ tab, conversationId });
      }),
    );
  });
  test('an unknown tab falls back to Open', () => expect(parsePlace('?tab=nope', tabs)).toEqual({ tab: 'open', conversationId: null }));
  test('the settings page has its own address', () => {
    expect(parsePlace(placeSearch({ tab: 'mine', conversationId: null, view: 'settings' }), tabs)).toEqual({ tab: 'mine', conversationId: null, view: 'settings' });
    expect(parsePlace('?tab=mine&view=other', tabs)).toEqual({ tab: 'mine', conversationId: null });
  });
});

describe('drafts', () => {
  const memory = () => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
  };
  test('a draft keeps its idempotency key until cleared, and each user has their own', () => {
    const storage = memory();
    const ana = new Drafts(storage, 'acme.ana');
    const bruno = new Drafts(storage, 'acme.bruno');
    const first = ana.get('c1');
    ana.set('c1', { ...first, text: 'hello' });
    expect(ana.get('c1')).toEqual({ text: 'hello', idempotencyKey: first.idempotencyKey });
    expect(bruno.get('c1').text).toBe('');
    const next = ana.clear('c1');
    expect(next.text).toBe('');
    expect(next.idempotencyKey).not.toBe(first.idempotencyKey);
    expect(ana.get('c1').text).toBe('');
  });
});

describe('notices', () => {
  test('an assignment by someone else notifies; my own claim does not', () => {
    expect(noticeForTransition(transition({ assigneeAfter: 'ana', actor: { kind: 'user', id: 'carla', role: 'manager' }, reason: 'assigned' }), me, conversation())?.event).toBe('assigned_to_me');
    expect(noticeForTransition(transition({ assigneeAfter: 'ana', actor: { kind: 'user', id: 'ana', role: 'agent' } }), me, conversation())).toBeNull();
  });
  test('a customer message notifies its holder only', () => {
    const m = { conversationId: 'conv:acme:wa:1', direction: 'inbound', text: 'hi', kind: 'text' };
    expect(noticeForMessage(m, me, conversation())?.event).toBe('customer_message');
    expect(noticeForMessage(m, me, conversation({ assigneeId: 'bruno' }))).toBeNull();
    expect(noticeForMessage({ ...m, direction: 'outbound' }, me, conversation())).toBeNull();
  });
  test('the title counts unread only when wanted', () => {
    expect(pageTitle(3, true)).toBe('(3) Inbox · convoflow');
    expect(pageTitle(3, false)).toBe('Inbox · convoflow');
    expect(pageTitle(0, true)).toBe('Inbox · convoflow');
  });
  test('saved preferences missing a newer setting take its default', () => {
    const prefs = loadPrefs({ getItem: () => JSON.stringify({ sound: { new_conversation: false } }) }, me);
    expect(prefs.sound).toEqual({ ...defaultPrefs.sound, new_conversation: false });
    expect(prefs.desktop).toEqual(defaultPrefs.desktop);
  });
});

describe('list filters', () => {
  test('the query and the live filter agree on what a filter means', () => {
    const f = { ...noFilters, tag: 'vip', channel: 'wa', sort: 'oldest_waiting' as const };
    expect(filterQuery(f)).toBe('&channel=wa&tag=vip&sort=oldest_waiting');
    expect(inFilters(f, conversation({ tags: ['vip'], waitingSince: '2026-12-06T10:00:00Z' }))).toBe(true);
    expect(inFilters(f, conversation({ tags: ['vip'], waitingSince: null }))).toBe(false);
    expect(inFilters(f, conversation({ tags: [] , waitingSince: '2026-12-06T10:00:00Z'}))).toBe(false);
  });
  test('waiting longest first puts the oldest waitingSince first', () => {
    const a = conversation({ id: 'a', waitingSince: '2026-12-06T10:00:00Z' });
    const b = conversation({ id: 'b', waitingSince: '2026-12-06T09:00:00Z' });
    expect([a, b].sort(compareFor({ ...noFilters, sort: 'oldest_waiting' })).map((c) => c.id)).toEqual(['b', 'a']);
  });
});

describe('the stream (issue 24 item 15)', () => {
  test.each([401, 403, 404])('refused with %i, it stops and says so, and never tries again, with a key as with a session', async (status) => {
    const realFetch = globalThis.fetch;
    let calls = 0;
    let retried!: (value: 'retried') => void;
    const tryAgain = new Promise<'retried'>((resolve) => (retried = resolve));
    globalThis.fetch = (async () => {
      if (++calls > 1) retried('retried');
      return new Response('{"error":{"code":"unauthenticated","message":"unknown API key"}}', { status });
    }) as typeof fetch;
    let stop: (() => void) | undefined;
    try {
      const ended = new Promise<number>((resolve) => {
        stop = openStream(new Api('cf_u_revoked'), 'acme', { event() {}, connected() {}, disconnected() {}, ended: resolve });
      });
      expect(await Promise.race([ended, tryAgain])).toBe(status);
      expect(calls).toBe(1);
    } finally {
      stop?.();
      globalThis.fetch = realFetch;
    }
  });

  test('too many streams (429), a timeout (408) and server errors are tried again, with backoff', () => {
    expect([408, 429, 500, 502, 503].filter(streamRefusedForGood)).toEqual([]);
    expect([400, 401, 403, 404, 413].every(streamRefusedForGood)).toBe(true);
  });
});
