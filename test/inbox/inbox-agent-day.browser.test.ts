/// <reference lib="dom" />
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { createAccount, customerWrites, newCustomer } from '../support/scenario';
import { eventually, useStack } from '../support/stack';

/**
 * An agent's day in the inbox (issue 22): the defects a team hit in its first hour, each reproduced in
 * a real Chromium, and the comforts a team expects. Replies go to the recording channel (no provider),
 * which is enough to count what would reach the customer. Screenshots go to test-output/inbox/.
 */
const shots = path.join(__dirname, '..', '..', 'test-output', 'inbox');

const browser = useChromium();
let account: Account;

const env = useStack();

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true });
  account = await createAccount(env.stack);
});

interface SignedIn {
  page: Page;
  context: BrowserContext;
}

/** Contexts a test opened: closed after it, passed or failed, so no tab of a user outlives its test. */
const opened: BrowserContext[] = [];
afterEach(async () => {
  for (const context of opened.splice(0)) await context.close().catch(() => undefined);
});

/** A new browser signed in with the key, or a new tab of a browser already signed in (its session cookie). */
async function signIn(key: string, options: { viewport?: { width: number; height: number }; timezoneId?: string; context?: BrowserContext } = {}): Promise<SignedIn> {
  const context = options.context ?? (await browser().newContext({ viewport: options.viewport ?? { width: 1280, height: 800 }, timezoneId: options.timezoneId }));
  opened.push(context);
  const page = await context.newPage();
  await page.goto(`${env.stack.baseUrl}/app/`);
  // A browser already signed in opens the inbox at once; otherwise the page asks for the key.
  const live = page.getByText('Live', { exact: true });
  const form = page.getByLabel('Your API key');
  await Promise.race([live.waitFor().catch(() => undefined), form.waitFor().catch(() => undefined)]);
  if (await form.isVisible()) {
    await form.fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.getByText('Live', { exact: true }).waitFor();
  return { page, context };
}

const item = (page: Page, id: string) => page.locator(`button.item[data-id="${id}"]`);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
const base = () => `/v1/accounts/${account.id}/conversations`;

async function outboundTexts(conversationId: string): Promise<string[]> {
  const res = await env.stack.http.get(`${base()}/${encodeURIComponent(conversationId)}/messages?limit=500`, account.keys.agent);
  return (res.body.messages as { direction: string; text: string | null }[]).filter((m) => m.direction === 'outbound').map((m) => m.text ?? '');
}

/** Opens a conversation from the Open tab and claims it, so the page's user may reply. */
async function openAndClaim(page: Page, conversationId: string) {
  await page.getByRole('tab', { name: /Open/ }).click();
  await item(page, conversationId).click();
  await page.getByRole('button', { name: 'Claim' }).click();
  await page.locator('.conv-head .meta', { hasText: 'held by you' }).waitFor();
}

describe("an agent's day in the inbox", () => {
  test('a double click on Send and Ctrl+Enter twice each reach the customer once', async () => {
    const { page } = await signIn(account.keys.agent);
    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Where is my order?' });
    await openAndClaim(page, conversationId);

    await page.getByLabel('Reply', { exact: true }).fill('Checking now.');
    await page.getByRole('button', { name: 'Send', exact: true }).dblclick();
    await page.locator('li.msg.outbound', { hasText: 'Checking now.' }).waitFor();

    await page.getByLabel('Reply', { exact: true }).fill('Found it.');
    await page.getByLabel('Reply', { exact: true }).press('Control+Enter');
    await page.getByLabel('Reply', { exact: true }).press('Control+Enter');
    await page.locator('li.msg.outbound', { hasText: 'Found it.' }).waitFor();

    // A probe sent after both: once it is recorded, any second copy of the two would be too.
    await page.getByLabel('Reply', { exact: true }).fill('Anything else?');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await eventually(async () => ((await outboundTexts(conversationId)).includes('Anything else?') ? true : undefined));
    const texts = await outboundTexts(conversationId);
    expect(texts.filter((t) => t === 'Checking now.')).toHaveLength(1);
    expect(texts.filter((t) => t === 'Found it.')).toHaveLength(1);
    await page.waitForFunction(() => (document.getElementById('reply-text') as HTMLTextAreaElement | null)?.value === '');
    await page.context().close();
  });

  test('the same send retried with its idempotency key is answered once and sent once', async () => {
    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Hello?' });
    const key = `inbox-${randomUUID()}`;
    const send = () =>
      env.stack.http.request('POST', `${base()}/${encodeURIComponent(conversationId)}/replies`, { key: account.keys.agent, body: { text: 'Once only' }, headers: { 'idempotency-key': key } });
    const [first, second] = await Promise.all([send(), send()]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect((await outboundTexts(conversationId)).filter((t) => t === 'Once only')).toHaveLength(1);
  });

  test('a draft survives Escape, switching conversations and a reload; Escape in the box keeps the conversation open', async () => {
    const { page } = await signIn(account.keys.agent);
    const first = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'First customer' });
    const second = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Second customer' });
    await openAndClaim(page, first.conversationId);
    const box = page.getByLabel('Reply', { exact: true });
    await box.fill('Half-written answer');
    await box.press('Escape');
    await expect(page.locator('.conversation h2').count()).resolves.toBe(1);
    await page.getByRole('tab', { name: /Open/ }).click();
    await item(page, second.conversationId).click();
    await page.locator('li.msg', { hasText: 'Second customer' }).waitFor();
    await expect(box.inputValue()).resolves.toBe('');
    await page.getByRole('tab', { name: /Mine/ }).click();
    await item(page, first.conversationId).click();
    await page.locator('li.msg', { hasText: 'First customer' }).waitFor();
    await expect(box.inputValue()).resolves.toBe('Half-written answer');
    await page.reload();
    await page.locator('li.msg', { hasText: 'First customer' }).waitFor();
    await expect(page.getByLabel('Reply', { exact: true }).inputValue()).resolves.toBe('Half-written answer');
    await page.context().close();
  });

  test('each tab and conversation has a URL: reload and Back return to them', async () => {
    const { page } = await signIn(account.keys.agent);
    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'URL customer', sentAt: new Date().toISOString() });
    await page.getByRole('tab', { name: /Open/ }).click();
    await page.getByRole('tab', { name: /Closed/ }).click();
    await expect(page.url()).toContain('tab=closed');
    await page.goBack();
    await page.waitForURL(/tab=open/);
    await item(page, conversationId).click();
    await page.waitForURL(new RegExp(`c=${encodeURIComponent(conversationId)}`));
    await page.reload();
    await page.locator('li.msg', { hasText: 'URL customer' }).waitFor();
    await expect(page.getByRole('tab', { selected: true }).textContent()).resolves.toMatch(/Open/);
    await page.goBack();
    await page.waitForURL((url) => !url.search.includes('c='));
    await page.locator('.conversation h2').waitFor({ state: 'detached' });
    // Tabs move with the arrow keys, as a tab list does.
    await page.getByRole('tab', { name: /Open/ }).focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/tab=mine/);
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-tab'))).resolves.toBe('mine');
    await page.context().close();
  });

  test('a conversation someone else holds shows who holds it, by name, and no composer that would refuse', async () => {
    const agent = await signIn(account.keys.agent);
    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Held elsewhere' });
    await openAndClaim(agent.page, conversationId);
    const other = await signIn(account.keys.agent2);
    await other.page.getByRole('tab', { name: /Assigned/ }).click();
    await item(other.page, conversationId).click();
    await other.page.getByText('agent holds this conversation').waitFor();
    await expect(other.page.getByText('Ask a supervisor').count()).resolves.toBe(1);
    await expect(other.page.getByLabel('Reply', { exact: true }).count()).resolves.toBe(0);
    await shot(other.page, 'held-by-someone-else');
    const manager = await signIn(account.keys.manager);
    await manager.page.getByRole('tab', { name: /Assigned/ }).click();
    await item(manager.page, conversationId).click();
    await manager.page.getByText('Take over to reply yourself').waitFor();
    await manager.page.getByRole('button', { name: 'Take over' }).waitFor();
    for (const p of [agent, other, manager]) await p.context.close();
  });

  test("the timeline shows the customer's own time in the reader's zone, with day separators", async () => {
    const zone = 'Asia/Kolkata';
    const { page } = await signIn(account.keys.agent, { timezoneId: zone });
    const sentAt = new Date(Date.now() - 25 * 3600_000);
    sentAt.setUTCSeconds(0, 0);
    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Sent yesterday', sentAt: sentAt.toISOString() });
    await customerWrites(env.stack, account, { customer: conversationId.split(':').pop()!, text: 'Sent now' });
    await page.getByRole('tab', { name: /Open/ }).click();
    await item(page, conversationId).click();
    const old = page.locator('li.msg', { hasText: 'Sent yesterday' });
    await old.waitFor();
    const expected = sentAt.toLocaleTimeString('en-US', { hour: '2-digit', minute: '2-digit', timeZone: zone });
    const shown = await old.locator('time').textContent();
    // The page formats in the browser's locale; compare the hour and minute digits in the zone.
    expect(shown?.replace(/\D/g, '').slice(-4)).toBe(expected.replace(/\D/g, '').slice(-4));
    await expect(old.locator('time').getAttribute('title')).resolves.toMatch(/Sent by the customer .* · received /);
    const separators = await page.locator('li.day').allTextContents();
    expect(separators).toContain('Today');
    expect(separators.length).toBeGreaterThanOrEqual(2);
    await shot(page, 'timeline-days');
    await page.context().close();
  });

  test('on a 390-pixel phone the conversation with the Assign form fits the screen and the timeline keeps most of it', async () => {
    const { page } = await signIn(account.keys.manager, { viewport: { width: 390, height: 844 } });
    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Phone layout check' });
    await page.getByRole('tab', { name: /Open/ }).click();
    await item(page, conversationId).click();
    await page.getByRole('button', { name: 'Claim' }).click();
    await page.getByLabel('Assign to').waitFor();
    await page.getByLabel('Reply', { exact: true }).waitFor();
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      pane: document.querySelector('.conversation-pane')!.getBoundingClientRect().width,
      send: document.querySelector('.reply button[type=submit]')!.getBoundingClientRect().right,
      timeline: document.querySelector('.timeline')!.getBoundingClientRect().height,
    }));
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.pane).toBeLessThanOrEqual(390);
    expect(widths.send).toBeLessThanOrEqual(390);
    expect(widths.timeline).toBeGreaterThanOrEqual(380);
    await shot(page, 'phone-assign');
    await page.context().close();
  });

  test('copy: a refused reply over the length limit is explained before sending; an emoji tag is refused in words', async () => {
    const { page } = await signIn(account.keys.agent);
    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Copy check' });
    await openAndClaim(page, conversationId);
    await page.getByLabel('Reply', { exact: true }).fill('x'.repeat(4100));
    await page.getByText('4 characters too long').waitFor();
    await expect(page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).resolves.toBe(true);
    await page.getByLabel('Add a tag').fill('vip 🎉');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('alert').filter({ hasText: 'no emoji' }).waitFor();
    await expect(page.locator('.window').textContent()).resolves.toMatch(/You can reply freely for 2[34]h \d+m more \(the 24-hour window/);
    const favicon = await env.stack.http.request('GET', '/favicon.ico', {});
    expect(favicon.status).toBe(200);
    // A refusal by role reads as a sentence.
    const refused = await env.stack.http.post(`/v1/accounts/${account.id}/service-keys`, { name: 'nope' }, account.keys.agent);
    expect(refused.body.error).toEqual({ code: 'forbidden', message: 'an agent key cannot do this' });
    await page.context().close();
  });

  test('the list shows the last message, who holds it by name and the tags; it filters by tag and sorts by who has waited longest', async () => {
    const { page } = await signIn(account.keys.agent);
    const tag = `vip${randomUUID().slice(0, 4)}`;
    const first = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Order 4711 is late' });
    const second = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Second in line' });
    await env.stack.http.post(`${base()}/${encodeURIComponent(first.conversationId)}/assign`, { assigneeId: account.users.manager }, account.keys.manager);
    await env.stack.http.post(`${base()}/${encodeURIComponent(first.conversationId)}/tags`, { add: [tag] }, account.keys.manager);
    await page.getByRole('tab', { name: /Assigned/ }).click();
    const row = item(page, first.conversationId);
    await row.locator('.preview', { hasText: 'Order 4711 is late' }).waitFor();
    await row.locator('.assignee', { hasText: 'held by manager' }).waitFor();
    await row.locator('.tag', { hasText: tag }).waitFor();
    await shot(page, 'list-comforts');

    await page.getByText('Filter and sort').click();
    await page.getByLabel('Tag', { exact: true }).fill(tag);
    await page.waitForFunction((id) => Array.from(document.querySelectorAll('button.item')).map((b) => b.getAttribute('data-id')).join() === id, first.conversationId);

    // Waiting longest first (Assigned tab): the earlier customer first; once answered, they wait no more.
    const assign = (id: string) => env.stack.http.post(`${base()}/${encodeURIComponent(id)}/assign`, { assigneeId: account.users.agent2 }, account.keys.manager);
    expect((await assign(second.conversationId)).status).toBe(200);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Sort', { exact: true }).selectOption('oldest_waiting');
    await item(page, second.conversationId).waitFor();
    const third = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Third in line' });
    expect((await assign(third.conversationId)).status).toBe(200);
    await item(page, third.conversationId).waitFor();
    const order = async () => page.evaluate(() => Array.from(document.querySelectorAll('button.item')).map((b) => b.getAttribute('data-id')));
    const ids = await order();
    expect(ids.indexOf(second.conversationId)).toBeLessThan(ids.indexOf(third.conversationId));
    const replied = await env.stack.http.post(`${base()}/${encodeURIComponent(second.conversationId)}/replies`, { text: 'On it' }, account.keys.agent2);
    expect(replied.status).toBe(200);
    await item(page, second.conversationId).waitFor({ state: 'detached' });
    await page.context().close();
  });

  test('unread clears by reading: the badge counts what the holder has not seen, opening the conversation reads it, everywhere', async () => {
    const first = await signIn(account.keys.agent2);
    const customer = newCustomer();
    const { conversationId } = await customerWrites(env.stack, account, { customer, text: 'Unread one' });
    const assigned = await env.stack.http.post(`${base()}/${encodeURIComponent(conversationId)}/assign`, { assigneeId: account.users.agent2 }, account.keys.manager);
    expect(assigned.status).toBe(200);
    // A second tab of the same person, on the same conversation list.
    const second = await signIn(account.keys.agent2, { context: first.context });
    for (const { page } of [first, second]) await page.getByRole('tab', { name: /Mine/ }).click();
    await customerWrites(env.stack, account, { customer, text: 'Unread two' });
    for (const { page } of [first, second]) await item(page, conversationId).locator('.unread', { hasText: '2' }).waitFor();
    await item(first.page, conversationId).click();
    await first.page.locator('li.msg', { hasText: 'Unread two' }).waitFor();
    // Read in the first tab: the badge goes in both, and the API agrees.
    for (const { page } of [first, second]) await item(page, conversationId).locator('.unread').waitFor({ state: 'detached' });
    await eventually(async () => {
      const view = await env.stack.http.get(`${base()}/${encodeURIComponent(conversationId)}`, account.keys.agent2);
      return view.body.unreadForMe === 0 ? true : undefined;
    });
    // While it is open and in front, what arrives is read at once.
    await customerWrites(env.stack, account, { customer, text: 'Unread three' });
    await first.page.locator('li.msg', { hasText: 'Unread three' }).waitFor();
    await eventually(async () => {
      const view = await env.stack.http.get(`${base()}/${encodeURIComponent(conversationId)}`, account.keys.agent2);
      return view.body.unreadForMe === 0 && view.body.unreadCount === 3 ? true : undefined;
    });
    await first.context.close();
  });

  test('presence follows the person: signing in makes them online for everyone, closing the last tab offline, and a choice by hand holds', async () => {
    Object.assign(env.stack.apiDeps.streams.presence, { offlineGraceMs: 1_000 });
    const manager = await signIn(account.keys.manager);
    const presenceOf = async (userId: string) => (await env.stack.http.get(`/v1/accounts/${account.id}/users`, account.keys.manager)).body.users?.find((u: { id: string }) => u.id === userId)?.presence;
    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Presence check' });
    // Straight to the conversation by its address.
    await manager.page.goto(`${env.stack.baseUrl}/app/?tab=open&c=${encodeURIComponent(conversationId)}`);
    await manager.page.locator('li.msg', { hasText: 'Presence check' }).waitFor();
    const option = manager.page.locator('select[aria-label="Assign to"] option', { hasText: /^agent2 / });
    const agent2 = await signIn(account.keys.agent2);
    await expect(agent2.page.getByLabel('Your presence').inputValue()).resolves.toBe('automatic');
    // The supervisor's Assign list learns it from the stream, without a reload.
    await eventually(async () => ((await option.textContent())?.includes('online') ? true : undefined));
    await agent2.context.close();
    await eventually(async () => ((await presenceOf(account.users.agent2)) === 'offline' ? true : undefined), { timeoutMs: 30_000 });
    await eventually(async () => ((await option.textContent())?.includes('offline') ? true : undefined));
    // By hand: away holds while the tab is open and used.
    const again = await signIn(account.keys.agent2);
    await again.page.getByLabel('Your presence').selectOption('away');
    await again.page.locator('body').click();
    await eventually(async () => ((await presenceOf(account.users.agent2)) === 'away' ? true : undefined));
    await again.page.getByLabel('Your presence').selectOption('automatic');
    await eventually(async () => ((await presenceOf(account.users.agent2)) === 'online' ? true : undefined));
    await manager.context.close();
    await again.context.close();
  });

  test('notifications: an assignment to me plays a chime, shows a desktop notification and counts in the title; each can be turned off', async () => {
    const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
    opened.push(context);
    await context.grantPermissions(['notifications'], { origin: env.stack.baseUrl });
    // Records what the page asks of the browser: notifications shown, chimes played; and looks away.
    await context.addInitScript(() => {
      const w = window as unknown as { shown: string[]; chimes: number };
      w.shown = [];
      w.chimes = 0;
      const Real = window.Notification;
      class Recorded extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          w.shown.push(`${title}: ${options?.body ?? ''}`);
        }
      }
      Object.defineProperty(window, 'Notification', { value: Recorded });
      const start = OscillatorNode.prototype.start;
      OscillatorNode.prototype.start = function (this: OscillatorNode, ...args: [number?]) {
        w.chimes += 1;
        return start.apply(this, args);
      };
      document.hasFocus = () => false;
    });
    const { page } = await signIn(account.keys.agent2, { context });
    await page.locator('body').click(); // the gesture that allows sound
    await page.getByText('Notifications', { exact: true }).click();
    await page.getByLabel('Desktop: A conversation is assigned to me').check();
    await page.getByLabel('Sound: A new conversation in the queue').uncheck();

    const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Please help', sentAt: new Date().toISOString() });
    const assigned = await env.stack.http.post(`${base()}/${encodeURIComponent(conversationId)}/assign`, { assigneeId: account.users.agent2 }, account.keys.manager);
    expect(assigned.status).toBe(200);
    await page.waitForFunction(() => (window as unknown as { shown: string[] }).shown.some((s) => s.startsWith('Assigned to you')));
    await page.waitForFunction(() => (window as unknown as { chimes: number }).chimes >= 1);
    await page.waitForFunction(() => /^\(\d+\) Inbox/.test(document.title));
    // Turned off: the next new conversation plays nothing (a probe assignment after it chimes).
    const chimesBefore = await page.evaluate(() => (window as unknown as { chimes: number }).chimes);
    const quiet = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Quiet one' });
    await item(page, quiet.conversationId).waitFor();
    const probe = await customerWrites(env.stack, account, { customer: newCustomer(), text: 'Probe' });
    await env.stack.http.post(`${base()}/${encodeURIComponent(probe.conversationId)}/assign`, { assigneeId: account.users.agent2 }, account.keys.manager);
    await page.waitForFunction((n) => (window as unknown as { chimes: number }).chimes > n, chimesBefore);
    // Each chime is two tones: exactly one more chime (the probe's assignment), none for the quiet conversation.
    await expect(page.evaluate(() => (window as unknown as { chimes: number }).chimes)).resolves.toBe(chimesBefore + 2);
    await shot(page, 'notifications');
    await context.close();
  });

  test('screenshots of a working inbox at 1280×800 and 390 px (copied to docs/ by hand)', async () => {
    const customers = [
      { name: 'Priya Sharma', text: 'Hi, my parcel 4711 has not arrived' },
      { name: 'Jonas Weber', text: 'Can I change the delivery address?' },
      { name: 'Ana Souza', text: 'Thanks, that worked!' },
    ];
    const ids: string[] = [];
    for (const c of customers) {
      const res = await env.stack.http.post(
        `/v1/accounts/${account.id}/messages`,
        { channel: 'wa-main', customer: newCustomer(), messageId: `wamid.${randomUUID()}`, text: c.text, customerName: c.name },
        account.keys.service,
      );
      ids.push(res.body.conversationId);
    }
    await eventually(async () => ((await env.stack.http.get(`${base()}/${encodeURIComponent(ids[0]!)}`, account.keys.agent)).status === 200 ? true : undefined));
    await env.stack.http.post(`${base()}/${encodeURIComponent(ids[0]!)}/assign`, { assigneeId: account.users.agent }, account.keys.manager);
    await env.stack.http.post(`${base()}/${encodeURIComponent(ids[0]!)}/tags`, { add: ['delivery'] }, account.keys.manager);
    const desk = await signIn(account.keys.agent);
    await desk.page.goto(`${env.stack.baseUrl}/app/?tab=mine&c=${encodeURIComponent(ids[0]!)}`);
    await desk.page.locator('li.msg', { hasText: 'parcel 4711' }).waitFor();
    await desk.page.getByLabel('Reply', { exact: true }).fill('So sorry! Let me check with the courier.');
    await desk.page.getByRole('button', { name: 'Send', exact: true }).click();
    await desk.page.locator('li.msg.outbound', { hasText: 'courier' }).waitFor();
    await desk.page.getByRole('tab', { name: /Open/ }).click();
    await item(desk.page, ids[1]!).waitFor();
    await shot(desk.page, 'docs-desktop');
    const phone = await signIn(account.keys.agent, { viewport: { width: 390, height: 844 } });
    await phone.page.getByRole('tab', { name: /Open/ }).click();
    await item(phone.page, ids[1]!).waitFor();
    await shot(phone.page, 'docs-phone');
  });
});
