/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { FakeGraph } from '../support/fake-graph';
import { startFakeGraph } from '../support/fake-graph';
import { docsScreenshot, openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { createAccount, newCustomer } from '../support/scenario';
import { useStack } from '../support/stack';

/**
 * The composer's template picker (SPEC section 10) in a real headless Chromium: only the account's
 * APPROVED templates are offered, the chosen one asks for each of its parameters, and the send reaches
 * a fake Graph API with the header, body and button parameters in the Cloud API's format.
 */
const channel = '15550100001';
const wabaId = '102290129340398';
const appSecret = `app-secret-${randomUUID()}`;

let fake: FakeGraph;
const browser = useChromium();
let account: Account;
let agent: Page;

beforeAll(async () => {
  fake = await startFakeGraph();
});
afterAll(async () => {
  await fake?.close();
});

const env = useStack(() => ({ whatsappGraphUrl: fake.url }));

beforeAll(async () => {
  account = await createAccount(env.stack);
  const put = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, {
    key: account.keys.owner,
    body: { provider: 'whatsapp_cloud', phoneNumberId: '114002873001456', wabaId, accessToken: `token-${randomUUID()}`, appSecret, verifyToken: `verify-${randomUUID()}` },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
  fake.setTemplates(wabaId, [
    {
      name: 'order_update',
      language: 'en_US',
      status: 'APPROVED',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
        { type: 'BODY', text: 'Hi {{1}}, your order {{2}} is on its way.' },
        { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}' }] },
      ],
    },
    { name: 'spring_sale', language: 'en_US', status: 'PENDING', category: 'MARKETING', components: [{ type: 'BODY', text: 'Sale!' }] },
  ]);
  const synced = await env.stack.http.post(`/v1/accounts/${account.id}/templates/sync`, {}, account.keys.owner);
  if (synced.status !== 200) throw new Error(`templates not synced: ${JSON.stringify(synced.body)}`);
  agent = await signIn(account.keys.agent);
});

async function signIn(key: string): Promise<Page> {
  const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await openInbox(page, env.stack.baseUrl, key);
  return page;
}

test('the picker lists approved templates only, asks for each parameter, and sends them in the Cloud API format', async () => {
  const customer = newCustomer();
  const res = await env.stack.http.post(
    `/v1/accounts/${account.id}/messages`,
    { channel, customer, messageId: `wamid.${randomUUID()}`, text: 'Where is my order?', customerName: 'Priya' },
    account.keys.service,
  );
  expect(res.status).toBe(202);
  await agent.locator(`button.item[data-id="${res.body.conversationId as string}"]`).click();
  await agent.getByText('Send a template').click();

  const picker = agent.locator('.template-picker select');
  await picker.locator('option', { hasText: 'order_update (en_US)' }).waitFor({ state: 'attached' });
  expect(await picker.locator('option').allTextContents()).toEqual(['Choose an approved template…', 'order_update (en_US)']);
  await picker.selectOption({ label: 'order_update (en_US)' });

  const send = agent.getByRole('button', { name: 'Send template' });
  await agent.getByLabel('Header {{1}}').fill('4821');
  await agent.getByLabel('Body {{1}}').fill('Priya');
  await agent.getByLabel('Body {{2}}').fill('4821');
  // Every parameter is needed: with one left, nothing can be sent.
  expect(await send.isDisabled()).toBe(true);
  await agent.getByLabel('Button “Track” link ending').fill('4821');
  await agent.getByLabel('Template preview').filter({ hasText: 'Hi Priya, your order 4821 is on its way.' }).waitFor();
  await docsScreenshot(agent, 'template-picker');
  await send.click();

  const request = await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.type === 'template', 20_000);
  expect(request.body.template).toEqual({
    name: 'order_update',
    language: { code: 'en_US' },
    components: [
      { type: 'body', parameters: [{ type: 'text', text: 'Priya' }, { type: 'text', text: '4821' }] },
      { type: 'header', parameters: [{ type: 'text', text: '4821' }] },
      { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '4821' }] },
    ],
  });
  await agent.locator('li.msg.outbound', { hasText: 'order_update' }).waitFor();
});
