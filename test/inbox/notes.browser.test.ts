import type { Page } from 'playwright-core';
import { docsScreenshot, openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import { useStack } from '../support/stack';

/**
 * SPEC 10's notes in the inbox (headless Chromium, two people in two browser contexts): the Reply/Note
 * switch, @mention autocomplete from the account's users, the note styled apart on the timeline, and the
 * mentioned teammate's toast and badge from the stream. Saved as test-output/inbox/notes-mention.png (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */
const browser = useChromium();
let account: Account;
let agent: Page;
let teammate: Page;


const env = useStack();

async function signIn(key: string): Promise<Page> {
  const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await openInbox(page, env.stack.baseUrl, key);
  return page;
}

beforeAll(async () => {
  account = await createAccount(env.stack, { serviceWindow: '24h', autoCloseAfter: '48h' });
  agent = await signIn(account.keys.agent);
  teammate = await signIn(account.keys.agent2);
});

test('the agent writes a note mentioning a teammate picked from the list; the teammate is told live and opens it', async () => {
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'I want a refund' });
  await agent.getByRole('tab', { name: /^Open/ }).click();
  await agent.locator(`button.item[data-id="${conversationId}"]`).click();

  await agent.getByRole('radio', { name: 'Note' }).click();
  const box = agent.locator('#note-text');
  await box.click();
  await box.pressSequentially('Refunds are yours, @ag');
  const list = agent.getByRole('listbox', { name: 'Mention a teammate' });
  await list.getByRole('option', { name: /agent2/ }).waitFor();
  // The writer is not offered to themself.
  expect(await list.locator(`[data-user-id="${account.users.agent}"]`).count()).toBe(0);
  await box.press('Enter');
  await box.pressSequentially('please check');
  expect(await box.inputValue()).toBe(`Refunds are yours, @${account.users.agent2} please check`);
  await agent.getByRole('button', { name: 'Add note' }).click();

  const noted = agent.locator('li.msg.internal.note');
  await noted.locator('mark.mention', { hasText: '@agent2' }).waitFor();
  await agent.getByText('Note added; agent2 notified').waitFor();
  expect(await box.inputValue()).toBe('');

  // The teammate, elsewhere in the inbox: a toast and a badge, from the stream.
  const toast = teammate.locator('.mention-toast');
  await toast.getByText('agent', { exact: true }).waitFor();
  await toast.getByText(/please check/).waitFor();
  await teammate.getByRole('button', { name: /1 new mention/ }).waitFor();
  await docsScreenshot(agent, 'notes-mention');
  await toast.getByRole('button', { name: 'Open' }).click();
  await teammate.locator('li.msg.internal.note', { hasText: 'please check' }).waitFor();
  await teammate.locator('.mention-toast').waitFor({ state: 'detached' });

  // A note moves nothing: still open, nobody assigned, and the teammate's mentions list it.
  const view = (await env.stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
  expect(view).toMatchObject({ status: 'open', assigneeId: null, unreadCount: 1 });
  expect(view.lastMessage).toMatchObject({ direction: 'inbound', text: 'I want a refund' });
  const mentions = (await env.stack.http.get(`/v1/accounts/${account.id}/mentions`, account.keys.agent2)).body;
  expect(mentions.items[0]).toMatchObject({ conversationId, by: account.users.agent, text: `Refunds are yours, @${account.users.agent2} please check` });
});

test('a closed conversation still takes a note from anyone, while Reply offers only a template', async () => {
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'thanks, bye' });
  expect((await env.stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.agent)).status).toBe(200);
  expect((await env.stack.http.post(conversationPath(account, conversationId, '/resolve'), {}, account.keys.agent)).status).toBe(200);
  await teammate.getByRole('tab', { name: /^Closed/ }).click();
  await teammate.locator(`button.item[data-id="${conversationId}"]`).click();
  await teammate.getByText('This conversation is closed: send a template').waitFor();
  await teammate.getByRole('radio', { name: 'Note' }).click();
  await teammate.locator('#note-text').fill('Customer happy, closed on the phone');
  await teammate.locator('#note-text').press('Control+Enter');
  await teammate.locator('li.msg.internal.note', { hasText: 'closed on the phone' }).waitFor();
  expect((await env.stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body.status).toBe('closed');
});
