import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { docsScreenshot, openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, newCustomer } from '../support/scenario';
import { eventually, useStack } from '../support/stack';

/**
 * SPEC 10's canned responses in the inbox (headless Chromium): typing `/` in the reply box opens a
 * picker of the agent's canned responses, searched as they type; Enter on one the page can fill puts
 * its filled text in the box, and one that needs the contact's attributes is sent by its code and
 * filled by the server.
 */
const browser = useChromium();
let account: Account;
let agent: Page;


const env = useStack();

beforeAll(async () => {
  account = await createAccount(env.stack, { serviceWindow: '24h', autoCloseAfter: '48h' });
  const put = (code: string, body: object, key: string) => env.stack.http.request('PUT', `/v1/accounts/${account.id}/canned-responses/${code}`, { key, body });
  expect((await put('thanks', { title: 'Obrigado pela paciência', text: 'Thank you {{customer.name}}, {{agent.name}} here.', scope: 'account' }, account.keys.manager)).status).toBe(200);
  expect((await put('plan', { title: 'Your plan', text: 'You are on the {{attributes.plan}} plan.', scope: 'personal' }, account.keys.agent)).status).toBe(200);
  expect((await put('bye', { title: 'Goodbye', text: 'Bye!', scope: 'account' }, account.keys.manager)).status).toBe(200);
  const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
  agent = await context.newPage();
  await openInbox(agent, env.stack.baseUrl, account.keys.agent);
});

/** A conversation the agent holds, from a customer named Ana on the gold plan. */
async function openHeldConversation(): Promise<string> {
  // Each conversation's first message is its own, so the test can wait for its pane, not the one before it.
  const token = randomUUID().slice(0, 8);
  const sent = await env.stack.http.post(
    `/v1/accounts/${account.id}/messages`,
    { channel: 'wa-main', customer: newCustomer(), messageId: `wamid.${randomUUID()}`, text: `Where is my order ${token}?`, customerName: 'Ana', attributes: { plan: 'gold' } },
    account.keys.service,
  );
  expect(sent.status).toBe(202);
  const conversationId: string = sent.body.conversationId;
  await eventually(async () => ((await env.stack.http.get(conversationPath(account, conversationId), account.keys.agent)).status === 200 ? true : undefined));
  expect((await env.stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.agent)).status).toBe(200);
  await agent.getByRole('tab', { name: /^Mine/ }).click();
  await agent.locator(`button.item[data-id="${conversationId}"]`).click();
  // The previous conversation's pane (and its reply box) stays until this one has loaded: wait for this one's timeline.
  await agent.locator('.conversation .timeline').getByText(`Where is my order ${token}?`).waitFor();
  await agent.getByLabel('Reply', { exact: true }).waitFor();
  return conversationId;
}

const texts = async (conversationId: string) =>
  ((await env.stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages as { direction: string; text: string }[])
    .filter((m) => m.direction === 'outbound')
    .map((m) => m.text);

test('"/" lists the canned responses, typing searches (accents ignored), and Enter puts the filled text in the box', async () => {
  const conversationId = await openHeldConversation();
  const box = agent.getByLabel('Reply', { exact: true });
  await box.fill('/');
  const picker = agent.getByRole('listbox', { name: 'Canned responses' });
  for (const code of ['/bye', '/plan', '/thanks']) await picker.getByRole('option', { name: new RegExp(`^${code}`) }).waitFor();
  await docsScreenshot(agent, 'canned-picker');

  await box.pressSequentially('pacie');
  await eventually(async () => ((await picker.getByRole('option').count()) === 1 ? true : undefined));
  await picker.getByRole('option', { name: /^\/thanks/ }).waitFor();
  await box.press('Enter');
  await eventually(async () => ((await box.inputValue()) === 'Thank you Ana, agent here.' ? true : undefined));
  expect(await picker.count()).toBe(0);
  // Nothing was sent: the agent edits the text, then sends it as any reply.
  expect(await texts(conversationId)).toEqual([]);
  await box.press('Control+Enter');
  await eventually(async () => ((await texts(conversationId)).includes('Thank you Ana, agent here.') ? true : undefined));
});

test("a response with the contact's attributes is sent by its code and filled by the server; Escape closes the picker", async () => {
  const conversationId = await openHeldConversation();
  const box = agent.getByLabel('Reply', { exact: true });
  await box.fill('/pl');
  const picker = agent.getByRole('listbox', { name: 'Canned responses' });
  await picker.getByRole('option', { name: /^\/plan/ }).waitFor();
  await box.press('Escape');
  await picker.waitFor({ state: 'detached' });
  await box.press('a');
  await picker.getByRole('option', { name: /^\/plan/ }).waitFor();
  await box.press('Enter');
  await eventually(async () => ((await texts(conversationId)).includes('You are on the gold plan.') ? true : undefined));
});

test('the agent saves, lists and deletes a personal response on the Canned responses page; its refusals are shown', async () => {
  await agent.getByRole('button', { name: 'Canned responses' }).click();
  const page = agent.locator('.canned-page');
  await page.getByRole('heading', { name: 'Canned responses' }).waitFor();
  // An agent manages only their own: no scope choice, and the account's are not listed here.
  expect(await page.getByLabel('For').count()).toBe(0);
  await page.getByRole('region', { name: 'Yours' }).getByRole('button', { name: 'Edit /plan' }).waitFor();

  await page.getByLabel('Short code').fill('later');
  await page.getByLabel('Title').fill('Talk later');
  await page.getByLabel('Text').fill('I will get back to you, {{customer.nmae}}');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert').filter({ hasText: 'customer.nmae' }).waitFor();

  await page.getByLabel('Text').fill('I will get back to you, {{customer.name}}');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved /later' }).waitFor();
  await page.getByRole('region', { name: 'Yours' }).getByRole('button', { name: 'Edit /later' }).waitFor();
  const saved = await env.stack.http.get(`/v1/accounts/${account.id}/canned-responses/later?scope=personal`, account.keys.agent);
  expect(saved.body).toMatchObject({ scope: 'personal', title: 'Talk later', text: 'I will get back to you, {{customer.name}}' });

  await page.getByRole('button', { name: 'Delete /later' }).click();
  await page.getByRole('status').filter({ hasText: 'Deleted /later' }).waitFor();
  expect((await env.stack.http.get(`/v1/accounts/${account.id}/canned-responses/later`, account.keys.agent)).status).toBe(404);
  await page.getByRole('button', { name: 'Back to the inbox' }).click();
  await agent.getByRole('tab', { name: /^Mine/ }).waitFor();
});
