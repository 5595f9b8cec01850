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
 * SPEC 10 in the inbox: an agent attaches a picture (uploaded at once, with a preview), sends it with a
 * caption through the fake Graph API, and the timeline shows the picture itself, loaded with the
 * session cookie from GET .../media/{id}.
 */
const channel = '15550100066';
/** A 1×1 PNG: a picture the browser can decode, so the timeline's <img> has a width. */
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

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
    body: { provider: 'whatsapp_cloud', phoneNumberId: '114002873001666', accessToken: `token-${randomUUID()}`, appSecret: `app-${randomUUID()}`, verifyToken: `verify-${randomUUID()}` },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
  const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
  agent = await context.newPage();
  await openInbox(agent, env.stack.baseUrl, account.keys.agent);
});

test('an agent attaches a picture, sends it with a caption, and sees it in the timeline', async () => {
  const customer = newCustomer();
  const res = await env.stack.http.post(`/v1/accounts/${account.id}/messages`, { channel, customer, messageId: `wamid.${randomUUID()}`, text: 'photo please' }, account.keys.service);
  const conversationId: string = res.body.conversationId;
  await agent.locator(`button.item[data-id="${conversationId}"]`).click();

  await agent.getByLabel('Attach a file').setInputFiles({ name: 'dent.png', mimeType: 'image/png', buffer: png });
  await agent.locator('.attachment[data-state="ready"]').waitFor();
  await agent.getByLabel('Reply', { exact: true }).fill('The dent, photographed');
  await docsScreenshot(agent, 'media-attach');
  await agent.getByRole('button', { name: 'Send', exact: true }).click();

  const send = await fake.waitFor((r) => r.body?.type === 'image' && r.body?.to === `+${customer}`, 15_000);
  expect(send.body.image.caption).toBe('The dent, photographed');
  expect(fake.mediaUploads.find((u) => u.id === send.body.image.id)?.bytes.equals(png)).toBe(true);
  await agent.locator('.attachment').waitFor({ state: 'detached' });

  const shown = agent.locator('.timeline figure.media img');
  await shown.waitFor();
  await agent.waitForFunction(() => (document.querySelector('.timeline figure.media img') as HTMLImageElement | null)?.naturalWidth === 1);
  expect(await agent.locator('.timeline figure.media figcaption').textContent()).toBe('The dent, photographed');
});
