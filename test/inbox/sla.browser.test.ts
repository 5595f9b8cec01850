import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, newCustomer } from '../support/scenario';
import { useStack } from '../support/stack';

/**
 * SPEC 9 in the inbox (headless Chromium): the list and the conversation header count the SLA due time
 * down each second, the header's priority control sets the priority (the due time follows), the badge
 * turns to breached live when the breach is recorded, and says overdue between the due time and the
 * breach. Screenshots go to test-output/inbox/ (sla-badge.png is copied to docs/screenshots/ by hand).
 */
const shots = path.join(__dirname, '..', '..', 'test-output', 'inbox');
const browser = useChromium();
let account: Account;
let agent: Page;

beforeAll(() => {
  fs.mkdirSync(shots, { recursive: true });
});

const env = useStack();

beforeAll(async () => {
  account = await createAccount(env.stack, { serviceWindow: '1h', autoCloseAfter: '1h' });
  // Normal: minutes, so the countdown is seen ticking; urgent: seconds, so making it urgent breaches it.
  const set = await env.stack.http.patch(`/v1/accounts/${account.id}/policy`, { sla: { normal: { firstResponse: '9m' }, urgent: { firstResponse: '4s' } } }, account.keys.admin);
  expect(set.status).toBe(200);
  const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
  // The page's clock, under the test's control for the overdue case (it runs as usual until moved).
  await context.clock.install();
  agent = await context.newPage();
  await openInbox(agent, env.stack.baseUrl, account.keys.agent);
});

/** A customer writes; their conversation appears in the agent's Open list. */
async function customerWrites(customerName: string, text: string): Promise<string> {
  const res = await env.stack.http.post(
    `/v1/accounts/${account.id}/messages`,
    { channel: 'wa-main', customer: newCustomer(), messageId: `wamid.${randomUUID()}`, text, customerName },
    account.keys.service,
  );
  expect(res.status).toBe(202);
  await item(res.body.conversationId).waitFor();
  return res.body.conversationId as string;
}

const item = (id: string) => agent.locator(`button.item[data-id="${id}"]`);

/** Waits until an element's text is no longer `before`: the countdown moved. */
async function textChanges(selector: string, before: string) {
  await agent.waitForFunction(([s, b]) => document.querySelector(s!)?.textContent !== b, [selector, before] as const);
}

test('the list and the header count the reply due time down; the priority control makes it urgent, and the breach shows live', async () => {
  const conversationId = await customerWrites('Priya Sharma', 'Where is my order?');
  const badge = `button.item[data-id="${conversationId}"] .sla-due`;
  await agent.locator(badge, { hasText: /^reply due in 8m \d+s$/ }).waitFor();
  await textChanges(badge, (await agent.locator(badge).textContent())!);
  await expect(agent.locator(badge).textContent()).resolves.toMatch(/^reply due in 8m \d+s$/);

  await item(conversationId).click();
  await agent.locator('.conv-head .sla-due', { hasText: /^reply due in 8m \d+s$/ }).waitFor();
  await textChanges('.conv-head .sla-due', (await agent.locator('.conv-head .sla-due').textContent())!);

  await agent.getByLabel('Priority', { exact: true }).selectOption('urgent');
  await item(conversationId).locator('.priority-urgent', { hasText: 'urgent' }).waitFor();
  await expect(agent.getByLabel('Priority', { exact: true }).inputValue()).resolves.toBe('urgent');
  const view = await env.stack.http.get(conversationPath(account, conversationId), account.keys.agent);
  expect(view.body.priority).toBe('urgent');

  // Urgent's first response is due 4 s after the customer wrote: the due time follows, then the breach.
  await item(conversationId).locator('.sla-breached', { hasText: 'SLA breached: first response' }).waitFor({ timeout: 20_000 });
  await agent.locator('.conv-head .sla-breached').waitFor();
  await agent.locator('li.transition', { hasText: 'SLA breached: the first response is overdue' }).waitFor();
});

test('a priority set elsewhere moves the control; past its due time and before the breach arrives, the badge says overdue', async () => {
  const conversationId = await customerWrites('Jonas Weber', 'Can I change the delivery address?');
  await item(conversationId).locator('.sla-due', { hasText: /^reply due in 8m/ }).waitFor();
  await item(conversationId).click();
  const set = await env.stack.http.post(conversationPath(account, conversationId, '/priority'), { priority: 'low' }, account.keys.agent);
  expect(set.status).toBe(200);
  await agent.waitForFunction(() => document.querySelector<HTMLSelectElement>('.priority-control select')?.value === 'low');
  // Low has no target of its own: it uses normal's (SPEC 9), so the countdown goes on.
  await item(conversationId).locator('.sla-due', { hasText: /^reply due in 8m/ }).waitFor();
  await agent.screenshot({ path: path.join(shots, 'sla-badge.png') });

  // The page's clock passes the due time; the server's breach is minutes away, so the badge says overdue.
  await agent.clock.fastForward('09:05');
  await item(conversationId).locator('.sla-overdue', { hasText: 'reply overdue' }).waitFor();
  await agent.locator('.conv-head .sla-overdue', { hasText: 'reply overdue' }).waitFor();
});
