/// <reference lib="dom" />
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { FakeGraph } from '../support/fake-graph';
import { startFakeGraph } from '../support/fake-graph';
import { openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { createAccount, newCustomer } from '../support/scenario';
import { useStack } from '../support/stack';

/**
 * The agent inbox (SPEC section 8) in a real headless Chromium: an agent and a supervisor in two pages,
 * everything arriving live from the stream, replies going out through a fake WhatsApp Graph API whose
 * receipts move the ticks. Screenshots go to test-output/inbox/.
 */
const shots = path.join(__dirname, '..', '..', 'test-output', 'inbox');
const channel = '15550100001';
const appSecret = `app-secret-${randomUUID()}`;

let fake: FakeGraph;
const browser = useChromium();
let account: Account;
let agent: Page;
let supervisor: Page;

beforeAll(async () => {
  fake = await startFakeGraph({ autoReceipts: ['sent', 'delivered', 'read'] });
});
afterAll(async () => {
  await fake?.close();
});

const env = useStack(() => ({ whatsappGraphUrl: fake.url }));

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true });
  account = await createAccount(env.stack);
  const put = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, {
    key: account.keys.owner,
    body: { provider: 'whatsapp_cloud', phoneNumberId: '114002873001456', accessToken: `token-${randomUUID()}`, appSecret, verifyToken: `verify-${randomUUID()}` },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
  fake.setStatusWebhook({ url: `${env.stack.baseUrl}/webhooks/whatsapp/${account.id}`, appSecret });
  agent = await signIn(account.keys.agent);
  supervisor = await signIn(account.keys.manager);
});

async function signIn(key: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser().newContext({ viewport });
  const page = await context.newPage();
  await openInbox(page, env.stack.baseUrl, key);
  return page;
}

async function customerWrites(customer: string, text: string, options: { name?: string; sentAt?: string } = {}) {
  const res = await env.stack.http.post(
    `/v1/accounts/${account.id}/messages`,
    { channel, customer, messageId: `wamid.${randomUUID()}`, text, customerName: options.name, sentAt: options.sentAt },
    account.keys.service,
  );
  expect(res.status).toBe(202);
  return res.body.conversationId as string;
}

const item = (page: Page, id: string) => page.locator(`button.item[data-id="${id}"]`);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

describe('the agent inbox in a browser', () => {
  let conversationId: string;

  test("a customer's message appears live in the agent's and the supervisor's lists", async () => {
    await shot(agent, 'empty-inbox');
    conversationId = await customerWrites(newCustomer(), 'Hi, my parcel has not arrived', { name: 'Priya Sharma' });
    for (const page of [agent, supervisor]) {
      await item(page, conversationId).waitFor();
      await expect(item(page, conversationId).textContent()).resolves.toContain('Priya Sharma');
      await page.locator('button[data-tab="open"] .count', { hasText: '1' }).waitFor();
    }
    await expect(item(agent, conversationId).locator('.unread').textContent()).resolves.toBe('1');
    await shot(agent, 'list-live');
  });

  test("a claim and a reply in one page change the other page's buttons, and the reply's ticks advance to read", async () => {
    await item(supervisor, conversationId).click();
    await supervisor.getByRole('button', { name: 'Claim' }).waitFor();
    await item(agent, conversationId).click();
    // In the timeline: the list's preview shows the same words (two matches once both are drawn).
    await agent.getByRole('list', { name: 'Timeline' }).getByText('Hi, my parcel has not arrived').waitFor();
    await agent.getByRole('button', { name: 'Claim' }).click();
    // The supervisor's page learns from the stream that the agent holds it: take over replaces claim.
    await supervisor.getByRole('button', { name: 'Take over' }).waitFor();
    await expect(supervisor.getByRole('button', { name: 'Claim' }).count()).resolves.toBe(0);

    await agent.getByLabel('Reply', { exact: true }).fill('Sorry about that! Let me check.');
    await agent.getByRole('button', { name: 'Send', exact: true }).click();
    const reply = agent.locator('li.msg.outbound', { hasText: 'Sorry about that!' });
    await reply.locator('.tick[data-status="read"]').waitFor({ timeout: 20_000 });
    await supervisor.locator('li.msg.outbound', { hasText: 'Sorry about that!' }).waitFor();
    await supervisor.locator('li.transition', { hasText: /agent claimed it/i }).waitFor();
    await expect(agent.locator('.window').textContent()).resolves.toMatch(/You can reply freely for/);
    await shot(agent, 'conversation-agent');
    await shot(supervisor, 'conversation-supervisor');
  });

  test('a conversation whose 24-hour window has closed refuses free-form replies in words and sends a template', async () => {
    const old = new Date(Date.now() - 25 * 3600_000).toISOString();
    const id = await customerWrites(newCustomer(), 'Are you there?', { name: 'Late Larry', sentAt: old });
    await item(agent, id).click();
    await agent.getByText('The 24-hour customer-service window has closed').waitFor();
    await agent.getByLabel('Reply', { exact: true }).fill('Hello?');
    await agent.getByRole('button', { name: 'Send', exact: true }).click();
    await agent.getByRole('alert').filter({ hasText: 'Reply not sent' }).waitFor();
    await agent.getByLabel('Template name').fill('order_update');
    await agent.getByRole('button', { name: 'Send template' }).click();
    await agent.locator('li.msg.outbound', { hasText: 'order_update' }).locator('.tick[data-status="read"]').waitFor({ timeout: 20_000 });
    await shot(agent, 'window-closed-template');
  });

  test('keyboard: arrows move through the list, Enter opens, Escape goes back to the list', async () => {
    await agent.getByRole('tab', { name: /Assigned/ }).click();
    await agent.locator('button.item').nth(1).waitFor();
    await agent.locator('button.item').first().focus();
    await agent.keyboard.press('ArrowDown');
    const focused = await agent.evaluate(() => document.activeElement?.getAttribute('data-id'));
    expect(focused).toBe(await agent.locator('button.item').nth(1).getAttribute('data-id'));
    await agent.keyboard.press('Enter');
    await agent.waitForFunction(() => document.activeElement?.tagName === 'H2');
    await shot(agent, 'inbox-overview');
    await agent.keyboard.press('Escape');
    await agent.waitForFunction((id) => document.activeElement?.getAttribute('data-id') === id, focused);
  });

  test('on a 390-pixel-wide phone screen the list and the conversation take the screen in turn', async () => {
    const phone = await signIn(account.keys.agent2, { width: 390, height: 844 });
    await phone.getByRole('tab', { name: /Assigned/ }).click();
    await item(phone, conversationId).waitFor();
    await shot(phone, 'phone-list');
    await item(phone, conversationId).click();
    await phone.getByRole('button', { name: 'Back to the list' }).waitFor();
    await expect(item(phone, conversationId).isVisible()).resolves.toBe(false);
    await shot(phone, 'phone-conversation');
    await phone.getByRole('button', { name: 'Back to the list' }).click();
    await item(phone, conversationId).waitFor();
  });

  test('presence: the signed-in agent sets themself away, and the API has it', async () => {
    await agent.getByLabel('Your presence').selectOption('away');
    for (let i = 0; i < 50; i++) {
      const me = await env.stack.http.get('/v1/me', account.keys.agent);
      if (me.body.presence === 'away') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('presence did not become away');
  });
});
