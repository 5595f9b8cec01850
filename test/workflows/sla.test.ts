import { collections } from '../../store/collections';
import { businessCalendar } from '../../workflows/conversation/core/business-hours';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { priorityUpdate, replyUpdate } from '../../workflows/conversation/messages';
import type { Harness } from './support';
import { hours, minutes, startHarness, users } from './support';

/**
 * SPEC 9's SLA clocks on the time-skipping server: due times counted in business hours, the warning and
 * the breach recorded at their moments to the second, and a reply that meets the target. Each test has
 * its own server, task queue, database and account.
 */
const businessHours = {
  timezone: 'Europe/Berlin',
  weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['09:00', '12:00'], ['13:00', '17:00']] as [string, string][]])),
};
const policy = applyPolicyPatch(defaultPolicy, {
  businessHours,
  sla: { normal: { firstResponse: '10h' }, urgent: { firstResponse: '1h' } },
  slaWarnBefore: '30m',
  // No inactivity close: it would end the episode long before a 10-business-hour target.
  autoCloseAfter: null,
});
const calendar = businessCalendar(businessHours);

describe('SLA clocks (time-skipping server, business hours)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'time-skipping', policy });
  });
  afterEach(async () => {
    await h?.stop();
  });

  const slaEvents = (conversationId: string) => collections(h.db).events.find({ conversationId, type: { $in: ['sla_warning', 'sla_breached'] } }).sort({ seq: 1 }).toArray();

  test('the first-response due time counts business hours only; the warning and the breach are recorded at their moments, to the second', async () => {
    const c = h.conversation();
    await c.customerWrites();
    const opened = await c.until((v) => v.status === 'open' && v.sla.firstResponseDueAt !== null);
    const start = Date.parse(opened.lastCustomerMessageAt!);
    const due = calendar.addBusinessTime(start, hours(10))!;
    const warnAt = calendar.addBusinessTime(start, hours(9) + minutes(30))!;
    expect(opened).toMatchObject({ priority: 'normal', sla: { firstResponseDueAt: new Date(due).toISOString(), breached: [], paused: false } });

    // Just before the warning: nothing. The server clock stands still between sleeps.
    // The server's clock runs on in real time between sleeps (seconds on a loaded machine), so each
    // sleep is measured from the server's own now, not from the message.
    await h.env!.sleep(warnAt - (await h.env!.currentTimeMs()) - 1_000);
    expect(await slaEvents(c.id)).toEqual([]);
    await h.env!.sleep(warnAt - (await h.env!.currentTimeMs()) + 1_000);
    await c.until((v) => v.version > opened.version);
    const [warning] = await slaEvents(c.id);
    expect(warning).toMatchObject({ type: 'sla_warning', metric: 'firstResponse', dueAt: due, from: 'open', to: 'open', actor: { kind: 'system' } });
    expect(warning!.at).toBeGreaterThanOrEqual(warnAt);
    expect(warning!.at).toBeLessThan(warnAt + 1_000);

    const now = Date.parse((await c.view()).updatedAt!);
    await h.env!.sleep(due - now + 1_000);
    const breachedView = await c.until((v) => v.sla.breached.includes('firstResponse'));
    expect(breachedView.status).toBe('open');
    const events = await slaEvents(c.id);
    expect(events.map((e) => e.type)).toEqual(['sla_warning', 'sla_breached']);
    expect(events[1]).toMatchObject({ metric: 'firstResponse', dueAt: due });
    expect(events[1]!.at).toBeGreaterThanOrEqual(due);
    expect(events[1]!.at).toBeLessThan(due + 1_000);
  });

  test('a reply before the due time meets the target: the due time goes null and no breach is ever recorded', async () => {
    const c = h.conversation();
    await c.customerWrites();
    await c.until((v) => v.sla.firstResponseDueAt !== null);
    const { conversation } = await c.act(replyUpdate, { actor: users.agent, content: { kind: 'text', text: 'on it' } });
    expect(conversation.sla).toMatchObject({ firstResponseDueAt: null, breached: [] });
    await h.env!.sleep(hours(72));
    // A fact to wait on: a second customer message is applied after the 72 hours.
    await c.customerWritesAndWait();
    expect(await slaEvents(c.id)).toEqual([]);
  });

  test('urgent priority moves the due time to one business hour after the message', async () => {
    const c = h.conversation();
    await c.customerWrites();
    const opened = await c.until((v) => v.sla.firstResponseDueAt !== null);
    const start = Date.parse(opened.lastCustomerMessageAt!);
    const { conversation } = await c.act(priorityUpdate, { actor: users.agent, priority: 'urgent' });
    expect(conversation).toMatchObject({ priority: 'urgent', sla: { firstResponseDueAt: new Date(calendar.addBusinessTime(start, hours(1))!).toISOString() } });
  });
});

/**
 * Continue-as-new on the dev server (as test/workflows/continue-as-new.test.ts: the time-skipping server
 * is not where rollovers are tested), with a target of seconds on the wall clock.
 */
describe('SLA clocks across continue-as-new (dev server)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ server: 'dev', policy: applyPolicyPatch(defaultPolicy, { sla: { normal: { firstResponse: '8s' } } }) });
  });
  afterEach(async () => {
    await h?.stop();
  });

  test("the SLA state crosses continue-as-new: the due time stays the first message's and the breach fires in the new run", async () => {
    const c = h.conversation({ limits: { historyEventBudget: 30 } });
    await c.customerWritesAndWait('m-1');
    const opened = await c.until((v) => v.sla.firstResponseDueAt !== null);
    const firstRunId = await c.runId();
    for (let i = 2; i <= 8; i++) await c.customerWritesAndWait(`m-${i}`);
    await c.until((v) => v.unreadCount === 8);
    const runs = await c.runs();
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(await c.runId()).not.toBe(firstRunId);
    expect((await c.view()).sla.firstResponseDueAt).toBe(opened.sla.firstResponseDueAt);
    const due = Date.parse(opened.sla.firstResponseDueAt!);
    await c.until((v) => v.sla.breached.includes('firstResponse'), 30_000);
    const breach = await collections(h.db).events.findOne({ conversationId: c.id, type: 'sla_breached' });
    expect(breach).toMatchObject({ metric: 'firstResponse', dueAt: due });
    expect(breach!.at).toBeGreaterThanOrEqual(due);
  });
});
