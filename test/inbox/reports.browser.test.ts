import fs from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { docsScreenshot, openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import { eventually, useStack } from '../support/stack';

/**
 * SPEC 11's reports page in the inbox (headless Chromium), for a supervisor: with episodes made through
 * the API (a customer message, a reply, a resolve), the per-day charts have today's points, the per-agent
 * table shows the agent by name with the counts the summary route answers, the SLA attainment is the
 * range's, and the CSV download is the episodes route's own file. An agent sees no Reports link.
 */
const browser = useChromium();
const env = useStack();
let account: Account;

async function signIn(b: Browser, key: string): Promise<Page> {
  const context = await b.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  await openInbox(page, env.stack.baseUrl, key);
  return page;
}

const ok = async (p: Promise<{ status: number; body: any }>) => {
  const res = await p;
  if (res.status >= 300) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res;
};

/** A range around now that holds every episode of this test (all started during it). */
const wide = () => `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 86_400_000).toISOString()}`;
const summary = async (groupBy: string) => (await ok(env.stack.http.get(`/v1/accounts/${account.id}/reports/summary?${wide()}&groupBy=${groupBy}`, account.keys.manager))).body;

beforeAll(async () => {
  account = await createAccount(env.stack, { serviceWindow: '24h', autoCloseAfter: '48h' });
  // Targets nobody misses during the test, so the attainment is a figure (met), not "none".
  await ok(env.stack.http.patch(`/v1/accounts/${account.id}/policy`, { sla: { normal: { firstResponse: '1h', resolution: '1h' } } }, account.keys.admin));
  const act = (id: string, action: string, body: unknown = {}) => ok(env.stack.http.post(conversationPath(account, id, `/${action}`), body, account.keys.agent));
  // Two episodes answered by the agent (a reply claims): one resolved, one still open.
  const resolved = (await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Where is my order?' })).conversationId;
  await act(resolved, 'replies', { text: 'On its way' });
  await act(resolved, 'resolve');
  const answered = (await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Can I change my address?' })).conversationId;
  await act(answered, 'replies', { text: 'Yes, tell me the new one' });
  // Rows are written as the episodes move: wait until the summary has both, one closed.
  await eventually(async () => {
    const row = (await summary('agent')).items.find((i: { group: string | null }) => i.group === account.users.agent);
    return row && row.episodesStarted === 2 && row.episodesClosed === 1 && row.firstResponseSeconds.p90 !== null ? true : undefined;
  });
});

test('a supervisor sees the charts, the per-agent table and the SLA attainment the API answers, and downloads the CSV', async () => {
  const manager = await signIn(browser(), account.keys.manager);
  await manager.getByRole('button', { name: 'Reports' }).click();
  await manager.getByRole('heading', { name: 'Reports' }).waitFor();
  expect(new URL(manager.url()).searchParams.get('view')).toBe('reports');

  // The charts: today's p50 and p90 points (the summary's days are UTC without business hours).
  const today = new Date().toISOString().slice(0, 10);
  for (const chart of ['first-response', 'resolution']) {
    const figure = manager.locator(`figure[data-chart="${chart}"]`);
    await figure.locator(`circle[data-day="${today}"]`).first().waitFor();
    expect(await figure.locator(`circle[data-day="${today}"]`).count()).toBe(2);
    expect(await figure.locator('path').count()).toBeGreaterThanOrEqual(2);
    expect(await figure.locator('svg title').first().textContent()).toMatch(/per day$/);
  }

  // The per-agent table: the agent by name, with the summary route's counts.
  const byAgent = (await summary('agent')).items.find((i: { group: string | null }) => i.group === account.users.agent);
  const row = manager.locator(`tr[data-agent="${account.users.agent}"]`);
  await row.locator('th', { hasText: /^agent$/ }).waitFor();
  expect(await row.locator('[data-col="started"]').textContent()).toBe(String(byAgent.episodesStarted));
  expect(await row.locator('[data-col="closed"]').textContent()).toBe(String(byAgent.episodesClosed));

  // SLA attainment of the range: the day groups' met and breached, summed.
  const days = (await summary('day')).items as { sla: Record<string, { met: number; breached: number }> }[];
  const met = days.reduce((n, d) => n + d.sla.firstResponse!.met, 0);
  const breached = days.reduce((n, d) => n + d.sla.firstResponse!.breached, 0);
  expect(met).toBe(2);
  const firstResponse = manager.locator('tr[data-metric="firstResponse"]');
  expect(await firstResponse.locator('.figure').textContent()).toBe(`${Math.floor((100 * met) / (met + breached))}%`);
  expect(await firstResponse.locator('.counts').textContent()).toBe(`${met} met · ${breached} breached`);
  await docsScreenshot(manager, 'reports-page');

  // The CSV: the episodes route's header and one row per episode.
  const [download] = await Promise.all([manager.waitForEvent('download'), manager.getByRole('button', { name: 'Download CSV' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^episodes-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const saved = (await fs.readFile((await download.path())!, 'utf8')).trimEnd().split('\r\n');
  await download.delete();
  const api = await env.stack.http.request('GET', `/v1/accounts/${account.id}/reports/episodes?${wide()}`, { key: account.keys.manager, headers: { accept: 'text/csv' } });
  const expected = (api.body as string).trimEnd().split('\r\n');
  expect(saved[0]).toBe(expected[0]);
  expect(saved).toHaveLength(expected.length);
  expect(saved).toHaveLength(3);
  await manager.getByRole('status').filter({ hasText: /^Saved episodes-/ }).waitFor();
  await manager.context().close();
});

test('an agent has no Reports link, and ?view=reports shows them the inbox', async () => {
  const agent = await signIn(browser(), account.keys.agent);
  // The Canned responses link is in the same bar: once it is there, the bar is drawn.
  await agent.getByRole('button', { name: 'Canned responses' }).waitFor();
  expect(await agent.getByRole('button', { name: 'Reports' }).count()).toBe(0);
  await agent.goto(`${env.stack.baseUrl}/app/?view=reports`);
  await agent.getByRole('tab', { name: /^Open/ }).waitFor();
  expect(await agent.getByRole('heading', { name: 'Reports' }).count()).toBe(0);
  await agent.context().close();
});
