import type { Stack } from '../support/stack';
import { eventually, useStack } from '../support/stack';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';

/**
 * SPEC 9's SLA through the real stack (API, worker, dev server, FerretDB) with targets of seconds: the
 * policy fields, the due time on the view, the warning and breach on /events, a reply that meets the
 * target and a priority that moves it. The wall clock runs: only lower bounds on it are asserted;
 * exactness to the second is the time-skipping server's (test/workflows/sla.test.ts).
 */
describe('SLA with short targets', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  type Entry = { type: string; metric?: string; dueAt?: string; at: string; from: string | null; to: string; actor: { kind: string } };
  const events = async (account: { keys: { agent: string } } & Parameters<typeof conversationPath>[0], conversationId: string): Promise<Entry[]> =>
    (await stack.http.get(conversationPath(account, conversationId, '/events'), account.keys.agent)).body.events;

  test('PATCH /policy takes the SLA fields, reads them back, and names the field it refuses', async () => {
    const account = await createAccount(stack);
    const path = `/v1/accounts/${account.id}/policy`;
    const hours = { timezone: 'Europe/Berlin', weekly: { mon: [['09:00', '13:00'], ['14:00', '18:00']] } };
    const ok = await stack.http.patch(path, { businessHours: hours, sla: { urgent: { firstResponse: '5m' } }, slaWarnBefore: '1m' }, account.keys.admin);
    expect(ok.status).toBe(200);
    expect(ok.body.policy).toMatchObject({ businessHours: hours, sla: { urgent: { firstResponse: '5m' } }, slaBusinessHoursOnly: true, slaWarnBefore: '1m' });
    const bad = await stack.http.patch(path, { businessHours: { timezone: 'UTC', weekly: { tue: [['18:00', '09:00']] } } }, account.keys.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed' });
    expect(bad.body.error.message).toContain('businessHours.weekly.tue[0]');
    const badDuration = await stack.http.patch(path, { sla: { normal: { resolution: 'soon' } } }, account.keys.admin);
    expect(badDuration.status).toBe(400);
    expect(badDuration.body.error.message).toContain('sla');
  });

  test('the first-response due time is on the view; a warning, then a breach, appear on /events with no change of status', async () => {
    const account = await createAccount(stack, { serviceWindow: '1h', autoCloseAfter: '1h' });
    await stack.http.patch(`/v1/accounts/${account.id}/policy`, { sla: { normal: { firstResponse: '4s' } }, slaWarnBefore: '2s' }, account.keys.admin);
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const view = await eventually(async () => {
      const v = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
      return v.sla?.firstResponseDueAt ? v : undefined;
    });
    expect(view.priority).toBe('normal');
    const dueAt = Date.parse(view.sla.firstResponseDueAt);
    expect(dueAt - Date.parse(view.lastCustomerMessageAt)).toBe(4_000);

    const warning = await eventually(async () => (await events(account, conversationId)).find((e) => e.type === 'sla_warning'));
    expect(warning).toMatchObject({ metric: 'firstResponse', dueAt: new Date(dueAt).toISOString(), from: 'open', to: 'open', actor: { kind: 'system' } });
    expect(Date.parse(warning.at)).toBeGreaterThanOrEqual(dueAt - 2_000);
    const breach = await eventually(async () => (await events(account, conversationId)).find((e) => e.type === 'sla_breached'));
    expect(breach).toMatchObject({ metric: 'firstResponse', dueAt: new Date(dueAt).toISOString(), from: 'open', to: 'open' });
    expect(Date.parse(breach.at)).toBeGreaterThanOrEqual(dueAt);
    const after = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
    expect(after).toMatchObject({ status: 'open', sla: { breached: ['firstResponse'] } });
    // The transitions say what they are too.
    expect((await events(account, conversationId))[0]).toMatchObject({ type: 'transition', to: 'open' });
  });

  test("a user's reply meets the target (due time null); a priority change moves the due time", async () => {
    const account = await createAccount(stack, { serviceWindow: '1h', autoCloseAfter: '1h' });
    await stack.http.patch(`/v1/accounts/${account.id}/policy`, { sla: { normal: { firstResponse: '1h' }, urgent: { firstResponse: '10m' } } }, account.keys.admin);
    const first = await customerWrites(stack, account, { customer: newCustomer() });
    const opened = await eventually(async () => {
      const v = (await stack.http.get(conversationPath(account, first.conversationId), account.keys.agent)).body;
      return v.sla?.firstResponseDueAt ? v : undefined;
    });
    const start = Date.parse(opened.lastCustomerMessageAt);
    expect(Date.parse(opened.sla.firstResponseDueAt) - start).toBe(3_600_000);
    const urgent = await stack.http.post(conversationPath(account, first.conversationId, '/priority'), { priority: 'urgent' }, account.keys.agent);
    expect(urgent.status).toBe(200);
    expect(urgent.body.conversation.priority).toBe('urgent');
    expect(Date.parse(urgent.body.conversation.sla.firstResponseDueAt) - start).toBe(600_000);
    const bad = await stack.http.post(conversationPath(account, first.conversationId, '/priority'), { priority: 'critical' }, account.keys.agent);
    expect(bad.status).toBe(400);

    const replied = await stack.http.post(conversationPath(account, first.conversationId, '/replies'), { text: 'on it' }, account.keys.agent);
    expect(replied.status).toBe(200);
    expect(replied.body.conversation.sla).toMatchObject({ firstResponseDueAt: null, breached: [] });
  });
});
