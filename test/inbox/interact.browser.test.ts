import type { Page } from 'playwright-core';
import { docsScreenshot, openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import { useStack } from '../support/stack';

/**
 * SPEC 10 in the inbox (headless Chromium): interactive replies show on the timeline with their buttons
 * or their list, and the assignee's typing asks the API to show "typing…" to the customer, once for a
 * burst of keystrokes.
 */
const browser = useChromium();
let account: Account;
let agent: Page;


const env = useStack();

beforeAll(async () => {
  account = await createAccount(env.stack);
  const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
  agent = await context.newPage();
  await openInbox(agent, env.stack.baseUrl, account.keys.agent);
});

test('buttons and lists sent to the customer show on the timeline; typing calls the API once for a burst of keys', async () => {
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Can I change my delivery slot?' });
  expect((await env.stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.agent)).status).toBe(200);
  const buttons = { type: 'button', body: 'Keep the current slot?', buttons: [{ id: 'keep', title: 'Keep it' }, { id: 'change', title: 'Change it' }] };
  const list = { type: 'list', body: 'Pick a new slot', button: 'Slots', sections: [{ title: 'Tomorrow', rows: [{ id: 't9', title: '9:00', description: 'morning' }, { id: 't14', title: '14:00' }] }] };
  for (const interactive of [buttons, list]) {
    expect((await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { interactive }, account.keys.agent)).status).toBe(200);
  }

  await agent.getByRole('tab', { name: /^Mine/ }).click();
  await agent.locator(`button.item[data-id="${conversationId}"]`).click();
  const sentButtons = agent.locator('[data-interactive="button"]');
  await sentButtons.getByText('Keep the current slot?').waitFor();
  await sentButtons.getByRole('list', { name: 'Buttons the customer can tap' }).getByText('Change it').waitFor();
  const sentList = agent.locator('[data-interactive="list"]');
  await sentList.getByText('Pick a new slot').waitFor();
  await sentList.getByText('☰ Slots').click();
  await sentList.getByText('14:00').waitFor();
  await sentList.getByText('— morning').waitFor();
  await docsScreenshot(agent, 'interactive-replies');

  const typingCalls: string[] = [];
  agent.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/typing')) typingCalls.push(request.url());
  });
  const firstCall = agent.waitForResponse((response) => response.url().endsWith('/typing') && response.request().method() === 'POST');
  await agent.getByRole('textbox', { name: 'Reply' }).pressSequentially('Let me look');
  const answer = await firstCall;
  expect(answer.status()).toBe(200);
  expect(await answer.json()).toMatchObject({ conversationId, sent: true });
  // Probe: a send after the keystrokes; by then every call the keystrokes made has been made.
  const sent = agent.waitForResponse((response) => response.url().endsWith('/replies') && response.request().method() === 'POST');
  await agent.getByRole('button', { name: 'Send', exact: true }).click();
  await sent;
  expect(typingCalls).toHaveLength(1);
});
