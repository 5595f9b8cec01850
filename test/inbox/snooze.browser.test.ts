import type { Page } from 'playwright-core';
import { docsScreenshot, openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import { eventually, useStack } from '../support/stack';

/**
 * SPEC 9's snooze in the inbox (headless Chromium): the snooze menu on a conversation the agent holds
 * (1 hour, tomorrow 9:00, before the window closes, a chosen time), the Snoozed tab, the snoozed-until
 * time, and Unsnooze. The open menu is saved as test-output/inbox/snooze-menu.png (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */
const browser = useChromium();
let account: Account;
let agent: Page;

const env = useStack();

beforeAll(async () => {
  account = await createAccount(env.stack, { serviceWindow: '24h', autoCloseAfter: '48h' });
  const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
  agent = await context.newPage();
  await openInbox(agent, env.stack.baseUrl, account.keys.agent);
});

const view = async (id: string) => (await env.stack.http.get(conversationPath(account, id), account.keys.agent)).body;

test('the agent snoozes from the menu, finds it under Snoozed with its wake-up time, and unsnoozes it', async () => {
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Call me tomorrow please' });
  expect((await env.stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.agent)).status).toBe(200);
  const item = agent.locator(`button.item[data-id="${conversationId}"]`);
  await agent.getByRole('tab', { name: /^Mine/ }).click();
  await item.click();

  await agent.getByRole('button', { name: 'Snooze…' }).click();
  const menu = agent.getByRole('group', { name: 'Snooze until' });
  for (const name of ['1 hour', 'Tomorrow 9:00', 'Before the window closes']) await menu.getByRole('button', { name }).waitFor();
  await menu.getByLabel('Snooze until (date and time)').waitFor();
  await docsScreenshot(agent, 'snooze-menu');

  const before = Date.now();
  await menu.getByRole('button', { name: '1 hour' }).click();
  await agent.locator('.conv-head .status-snoozed').waitFor();
  await agent.locator('.conv-head .snoozed-until', { hasText: /until / }).waitFor();
  await agent.locator('li.transition', { hasText: 'You snoozed it' }).waitFor();
  const snoozed = await view(conversationId);
  expect(snoozed.status).toBe('snoozed');
  expect(Date.parse(snoozed.snoozedUntil)).toBeGreaterThanOrEqual(before + 3_600_000);
  await agent.getByRole('tab', { name: /^Snoozed/ }).click();
  await item.locator('.snoozed-until', { hasText: /^until / }).waitFor();

  await item.click();
  await agent.getByRole('button', { name: 'Unsnooze' }).click();
  await agent.locator('li.transition', { hasText: 'You unsnoozed it: back to you' }).waitFor();
  await agent.locator('.conv-head .status-assigned').waitFor();
  expect((await view(conversationId)).status).toBe('assigned');
});

test('a chosen date and time snoozes until that moment; tomorrow 9:00 posts the computed morning', async () => {
  const customer = newCustomer();
  const { conversationId } = await customerWrites(env.stack, account, { customer, text: 'Next week is fine' });
  expect((await env.stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.agent)).status).toBe(200);
  await agent.getByRole('tab', { name: /^Mine/ }).click();
  await agent.locator(`button.item[data-id="${conversationId}"]`).click();
  // The pane still shows the first test's conversation (also held, also with a Snooze… button) until this
  // one has loaded: a click before that opens the old pane's menu, which closes when the pane changes.
  await agent.locator('.conv-head .meta', { hasText: `+${customer}` }).waitFor();
  await agent.getByRole('button', { name: 'Snooze…' }).click();
  const menu = agent.getByRole('group', { name: 'Snooze until' });
  // Three days ahead at 10:30 in the browser's zone, as the datetime-local field takes it.
  const local = await agent.evaluate(() => {
    const d = new Date(Date.now() + 3 * 86_400_000);
    d.setHours(10, 30, 0, 0);
    const pad = (n: number) => String(n).padStart(2, '0');
    return { value: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T10:30`, iso: d.toISOString() };
  });
  await menu.getByLabel('Snooze until (date and time)').fill(local.value);
  await menu.getByRole('button', { name: 'Snooze', exact: true }).click();
  await agent.locator('.conv-head .status-snoozed').waitFor();
  expect((await view(conversationId)).snoozedUntil).toBe(local.iso);

  await agent.getByRole('button', { name: 'Snooze again…' }).click();
  await agent.getByRole('group', { name: 'Snooze until' }).getByRole('button', { name: 'Tomorrow 9:00' }).click();
  const moved = await eventually(async () => {
    const v = await view(conversationId);
    return v.snoozedUntil !== local.iso ? v : undefined;
  });
  // No business hours: 9:00 tomorrow in the browser's zone.
  const expected = await agent.evaluate(() => {
    const d = new Date();
    d.setDate(d.getDate() + 1);
    d.setHours(9, 0, 0, 0);
    return d.toISOString();
  });
  expect(moved.snoozedUntil).toBe(expected);
});
