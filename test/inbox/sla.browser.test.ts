import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { chromiumArgs, ensureChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import { useStack } from '../support/stack';

/**
 * SPEC 9 in the inbox (headless Chromium): the list and the conversation header show the SLA due time,
 * turn to a breached badge live when the breach is recorded, and show a priority set through the API.
 */
let browser: Browser;
let account: Account;
let agent: Page;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: ensureChromium(), args: chromiumArgs });
}, 600_000);
afterAll(async () => {
  await browser?.close();
});

const env = useStack();

beforeAll(async () => {
  account = await createAccount(env.stack, { serviceWindow: '1h', autoCloseAfter: '1h' });
  await env.stack.http.patch(`/v1/accounts/${account.id}/policy`, { sla: { normal: { firstResponse: '4s' } } }, account.keys.admin);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  agent = await context.newPage();
  await agent.goto(`${env.stack.baseUrl}/app/`);
  await agent.getByLabel('Your API key').fill(account.keys.agent);
  await agent.getByRole('button', { name: 'Sign in' }).click();
  await agent.getByText('Live', { exact: true }).waitFor();
});

test('the list and the header show the reply due time, then the breach live, and a priority set through the API', async () => {
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Where is my order?' });
  const item = agent.locator(`button.item[data-id="${conversationId}"]`);
  await item.locator('.sla-due', { hasText: /^reply due / }).waitFor();
  await item.click();
  await agent.locator('.conv-head .sla-due', { hasText: /^reply due / }).waitFor();

  await item.locator('.sla-breached', { hasText: 'SLA breached: first response' }).waitFor({ timeout: 20_000 });
  await agent.locator('.conv-head .sla-breached').waitFor();
  await agent.locator('li.transition', { hasText: 'SLA breached: the first response is overdue' }).waitFor();

  const set = await env.stack.http.post(conversationPath(account, conversationId, '/priority'), { priority: 'urgent' }, account.keys.agent);
  expect(set.status).toBe(200);
  await item.locator('.priority-urgent', { hasText: 'urgent' }).waitFor();
  await agent.locator('.conv-head', { hasText: 'priority urgent' }).waitFor();
});
