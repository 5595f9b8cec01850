import { actionsFor, tabsFor } from '../../inbox/src/actions';
import type { Conversation, Me } from '../../inbox/src/api';
import { composeMode } from '../../inbox/src/compose-mode';
import { customUntil, snoozeChoices, tomorrowMorning } from '../../inbox/src/snooze';
import { describeTransition, snoozedWords } from '../../inbox/src/words';

/** The inbox's snooze menu and words (SPEC 9), pure: what each choice posts, who is offered what. */
const berlinWeekdays = { timezone: 'Europe/Berlin', weekly: { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], wed: [['09:00', '17:00']], thu: [['09:00', '17:00']], fri: [['09:00', '17:00']] } } as never;

describe('the snooze menu', () => {
  test('tomorrow 9:00 is in the account zone, and the next opening when the account is closed then', () => {
    // Wednesday 2026-12-02 20:00 in Berlin (UTC+1) -> Thursday 09:00 Berlin = 08:00Z.
    expect(new Date(tomorrowMorning(Date.UTC(2026, 11, 2, 19), berlinWeekdays, 'America/New_York')).toISOString()).toBe('2026-12-03T08:00:00.000Z');
    // Friday evening -> Saturday 09:00 is closed -> Monday 09:00.
    expect(new Date(tomorrowMorning(Date.UTC(2026, 11, 4, 19), berlinWeekdays, 'UTC')).toISOString()).toBe('2026-12-07T08:00:00.000Z');
    // Late on Wednesday in UTC is already Thursday in Berlin: tomorrow is Friday there.
    expect(new Date(tomorrowMorning(Date.UTC(2026, 11, 2, 23, 30), berlinWeekdays, 'UTC')).toISOString()).toBe('2026-12-04T08:00:00.000Z');
    // No business hours: tomorrow 9:00 where the browser is.
    expect(new Date(tomorrowMorning(Date.UTC(2026, 11, 2, 19), null, 'America/New_York')).toISOString()).toBe('2026-12-03T14:00:00.000Z');
    // Across a DST change (Berlin, last Sunday of March): 9:00 local is summer time, UTC+2.
    expect(new Date(tomorrowMorning(Date.UTC(2026, 2, 28, 12), null, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T07:00:00.000Z');
  });

  test('the choices post 1h, an ISO time and, only while the window is open, "window"', () => {
    const now = Date.UTC(2026, 11, 2, 19);
    expect(snoozeChoices(now, null, 'UTC', true)).toEqual([
      { id: 'hour', label: '1 hour', until: '1h' },
      { id: 'tomorrow', label: 'Tomorrow 9:00', until: '2026-12-03T09:00:00.000Z' },
      { id: 'window', label: 'Before the window closes', until: 'window' },
    ]);
    expect(snoozeChoices(now, null, 'UTC', false).map((c) => c.id)).toEqual(['hour', 'tomorrow']);
    // On a Friday evening the Berlin account is closed tomorrow: the choice says when it wakes instead.
    expect(snoozeChoices(Date.UTC(2026, 11, 4, 19), berlinWeekdays, 'UTC', false)[1]).toEqual({ id: 'tomorrow', label: 'Next opening: Mon 09:00', until: '2026-12-07T08:00:00.000Z' });
    expect(customUntil('')).toBeNull();
    expect(customUntil('2026-12-03T10:30')).toBe(new Date('2026-12-03T10:30').toISOString());
  });

  const me: Me = { kind: 'user', accountId: 'a', userId: 'ana', name: 'Ana', role: 'agent', presence: 'online' };
  const boss: Me = { ...me, userId: 'boss', role: 'manager' };
  const conv = (status: string, assigneeId: string | null): Conversation =>
    ({ id: 'c', accountId: 'a', channel: 'wa', customer: '1', customerName: null, status, assigneeId, episode: 1, unreadCount: 0, lastCustomerMessageAt: null, windowExpiresAt: null, closedReason: null, tags: [], archived: false, lastActivityAt: null, version: 1, snoozedUntil: status === 'snoozed' ? '2026-12-03T09:00:00.000Z' : null }) as Conversation;
  const labels = (who: Me, c: Conversation) => actionsFor(who, 'default', c).map((a) => a.label);

  test('who is offered Snooze and Unsnooze, the Snoozed tab, and the composer while snoozed', () => {
    expect(labels(me, conv('assigned', 'ana'))).toContain('Snooze…');
    expect(labels(me, conv('open', null))).not.toContain('Snooze…');
    expect(labels(boss, conv('open', null))).toContain('Snooze…');
    expect(labels(me, conv('snoozed', 'ana'))).toEqual(['Unsnooze', 'Snooze again…', 'Resolve']);
    expect(labels(me, conv('snoozed', 'bo'))).toEqual([]);
    for (const preset of ['default', 'status_inbox', 'work_items']) expect(tabsFor(preset).map((t) => t.id)).toContain('snoozed');
    expect(composeMode(me, conv('snoozed', 'ana'))).toEqual({ kind: 'parked', status: 'snoozed' });
    expect(snoozedWords(conv('snoozed', 'ana'), 'UTC')).toMatch(/^until .*09:00/);
    expect(snoozedWords(conv('assigned', 'ana'))).toBeNull();
  });

  test('the wakes in words', () => {
    const t = (reason: string, from: string, to: string, assigneeAfter: string | null) =>
      ({ seq: 1, conversationId: 'c', at: '', from, to, reason, actor: { kind: reason === 'snoozed' || reason === 'unsnoozed' ? 'user' : 'system', id: 'ana', role: 'agent' }, assigneeBefore: 'ana', assigneeAfter }) as never;
    const nameOf = (id: string | null) => (id === 'ana' ? 'you' : (id ?? 'nobody'));
    expect(describeTransition(t('snoozed', 'assigned', 'snoozed', 'ana'), nameOf)).toBe('You snoozed it');
    expect(describeTransition(t('snooze_ended', 'snoozed', 'assigned', 'ana'), nameOf)).toBe('The snooze ended: back to you');
    expect(describeTransition(t('snooze_ended', 'snoozed', 'open', null), nameOf)).toBe('The snooze ended: back to the queue');
    expect(describeTransition(t('unsnoozed', 'snoozed', 'assigned', 'ana'), nameOf)).toBe('You unsnoozed it: back to you');
    expect(describeTransition({ ...(t('customer_message', 'snoozed', 'assigned', 'ana') as object), actor: { kind: 'customer', id: null, role: null } } as never, nameOf)).toBe(
      'The customer wrote: the snooze ended, back to you',
    );
  });
});
