import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { docsScreenshot, openInbox, useChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { createAccount, newCustomer } from '../support/scenario';
import { eventually, useStack } from '../support/stack';
import { contactProfileId, messageDocId } from '../../store/ids';
import { maxExamined } from '../../api/search';
import { searchTermDocsOf } from '../../store/search-index';
import { insertOnce } from '../../store/writes';
import { posOf } from '../../store/timeline';
import { textRecord } from '../support/message-records';

/**
 * SPEC 11 in the inbox (headless Chromium): the contact panel beside the conversation (the profile, an
 * edit of the name and attributes that the API then answers, a refusal shown in the panel, the
 * customer's conversation on another channel opened from it) and the search box (messages newest first
 * with the matched words marked, opening one at its message; contacts by a name prefix; short pages read
 * on by themselves). Every wait is on
 * what the page or the API shows.
 */
const browser = useChromium();
const env = useStack();
let account: Account;
let agent: Page;

beforeAll(async () => {
  account = await createAccount(env.stack, { serviceWindow: '24h', autoCloseAfter: '48h' });
  const context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
  agent = await context.newPage();
  await openInbox(agent, env.stack.baseUrl, account.keys.agent);
});

const contactPath = (customer: string) => `/v1/accounts/${account.id}/contacts/${customer}`;

/** A customer message through the API (with the provider's profile name and attributes); answers its conversation. */
async function customerSays(customer: string, text: string, opts: { channel?: string; customerName?: string; attributes?: Record<string, string> } = {}) {
  const messageId = `wamid.${randomUUID()}`;
  const sent = await env.stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: opts.channel ?? 'wa-main', customer, messageId, text, customerName: opts.customerName, attributes: opts.attributes }, account.keys.service);
  expect(sent.status).toBe(202);
  return { conversationId: sent.body.conversationId as string, messageId };
}

/** Waits until the contact's profile lists `conversations` conversations (persist keeps it a moment after the view). */
const profileWith = (customer: string, conversations: number) =>
  eventually(async () => {
    const res = await env.stack.http.get(contactPath(customer), account.keys.agent);
    return res.status === 200 && res.body.conversations.length === conversations ? res.body : undefined;
  });

test('the contact panel shows the profile, saves an edit of the name and attributes, shows a refusal, and opens the other channel', async () => {
  const customer = newCustomer();
  const main = await customerSays(customer, 'Hello, my parcel is late', { customerName: 'Beatriz Quintela', attributes: { plan: 'gold' } });
  const other = await customerSays(customer, 'Writing here too', { channel: 'wa-other', customerName: 'Beatriz Quintela' });
  await profileWith(customer, 2);

  await agent.getByRole('tab', { name: /^Open/ }).click();
  await agent.locator(`button.item[data-id="${main.conversationId}"]`).click();
  const panel = agent.getByRole('complementary', { name: 'Contact' });
  await panel.getByRole('heading', { name: 'Beatriz Quintela' }).waitFor();
  await panel.locator('dt', { hasText: 'First seen' }).waitFor();
  await panel.locator('[data-attribute="plan"] dd', { hasText: 'gold' }).waitFor();
  await panel.locator('[aria-current="true"]', { hasText: 'wa-main' }).waitFor();
  const otherLink = panel.locator(`button[data-conversation="${other.conversationId}"]`);
  await otherLink.filter({ hasText: 'wa-other' }).waitFor();

  // Edit: a new name, a changed value, a new attribute.
  await panel.getByRole('button', { name: 'Edit contact' }).click();
  await panel.getByLabel('Name', { exact: true }).fill('Bia Quintela');
  await panel.getByLabel('Value of plan').fill('platinum');
  await panel.getByRole('button', { name: 'Add an attribute' }).click();
  await panel.getByLabel('Attribute 2 name').fill('city');
  await panel.getByLabel('Attribute 2 value').fill('Porto');
  await panel.getByRole('button', { name: 'Save contact' }).click();
  await panel.getByRole('status').filter({ hasText: 'Contact saved.' }).waitFor();
  await panel.getByRole('heading', { name: 'Bia Quintela' }).waitFor();
  await panel.locator('[data-attribute="city"] dd', { hasText: 'Porto' }).waitFor();
  const saved = await env.stack.http.get(contactPath(customer), account.keys.manager);
  expect(saved.body).toMatchObject({ name: 'Bia Quintela', attributes: { plan: 'platinum', city: 'Porto' } });
  // The header and the list say the contact's name now, on both of the customer's conversations.
  await agent.locator('.conv-head h2', { hasText: 'Bia Quintela' }).waitFor();
  await agent.locator(`button.item[data-id="${other.conversationId}"] .name`, { hasText: 'Bia Quintela' }).waitFor();
  await docsScreenshot(agent, 'contact-panel');

  // A key the API refuses: the panel says so (naming the field) and keeps the form; nothing changes.
  await panel.getByRole('button', { name: 'Edit contact' }).click();
  await panel.getByRole('button', { name: 'Add an attribute' }).click();
  await panel.getByLabel('Attribute 3 name').fill('no spaces allowed');
  await panel.getByLabel('Attribute 3 value').fill('x');
  await panel.getByRole('button', { name: 'Save contact' }).click();
  await panel.getByRole('alert').filter({ hasText: /^Not saved: attributes/ }).waitFor();
  await panel.getByLabel('Attribute 3 name').waitFor();
  expect((await env.stack.http.get(contactPath(customer), account.keys.agent)).body.attributes).toEqual({ plan: 'platinum', city: 'Porto' });
  await panel.getByRole('button', { name: 'Cancel' }).click();

  // Removing a saved attribute sends it as null: the API drops it.
  await panel.getByRole('button', { name: 'Edit contact' }).click();
  await panel.getByRole('button', { name: 'Remove city' }).click();
  await panel.getByRole('button', { name: 'Save contact' }).click();
  await panel.getByRole('status').filter({ hasText: 'Contact saved.' }).waitFor();
  await panel.locator('[data-attribute="city"]').waitFor({ state: 'detached' });
  expect((await env.stack.http.get(contactPath(customer), account.keys.agent)).body.attributes).toEqual({ plan: 'platinum' });

  // The other channel's conversation opens from the panel, which now marks that one as this one.
  await otherLink.click();
  await agent.locator('.conv-head .meta', { hasText: 'wa-other' }).waitFor();
  await panel.locator('[aria-current="true"]', { hasText: 'wa-other' }).waitFor();
  expect(new URL(agent.url()).searchParams.get('c')).toBe(other.conversationId);
});

test('search: messages newest first with the matched words marked, opening one at its message; contacts by a name prefix', async () => {
  const older = await customerSays(newCustomer(), 'My kumquat jam arrived broken');
  const newer = await customerSays(newCustomer(), 'Do you still sell KUMQUATS in December?');
  await customerSays(newCustomer(), 'Nothing to see here');
  const zenobia = newCustomer();
  const only = await customerSays(zenobia, 'Hi there', { customerName: 'Zenobia Marlow' });
  // The index is written a moment after each message: wait until the API finds both, and the contact.
  const found = await eventually(async () => {
    const res = await env.stack.http.get(`/v1/accounts/${account.id}/search?q=kumq`, account.keys.agent);
    return res.status === 200 && res.body.items.length === 2 ? res.body.items : undefined;
  });
  expect(found.map((h: { messageId: string }) => h.messageId)).toEqual([newer.messageId, older.messageId]);
  await profileWith(zenobia, 1);

  const box = agent.getByRole('searchbox', { name: 'Search messages and contacts' });
  // One character is not sent (the API would refuse it): the page says what it needs.
  await box.fill('k');
  await agent.locator('.search-hint', { hasText: 'at least 2' }).waitFor();
  await box.fill('kumq');
  await box.press('Enter');
  const results = agent.getByRole('region', { name: 'Search results' });
  const hits = results.locator('button.message-result');
  await eventually(async () => ((await hits.count()) === 2 ? true : undefined));
  expect(await hits.evaluateAll((els) => els.map((e) => e.getAttribute('data-message-id')))).toEqual([newer.messageId, older.messageId]);
  expect(await hits.first().locator('mark').allTextContents()).toEqual(['KUMQ']);
  expect(await hits.nth(1).locator('.snippet').textContent()).toBe('My kumquat jam arrived broken');
  await docsScreenshot(agent, 'search-results');

  await hits.nth(1).click();
  await agent.locator(`.timeline [data-message-id="${older.messageId}"].found`).waitFor();
  expect(new URL(agent.url()).searchParams.get('c')).toBe(older.conversationId);

  // Contacts by a prefix of a word of the name (case ignored): one conversation, so it opens.
  await box.fill('marl');
  await box.press('Enter');
  const contact = results.locator(`button.contact-result[data-customer="${zenobia}"]`);
  await contact.filter({ hasText: 'Zenobia Marlow' }).waitFor();
  expect(await contact.locator('mark').allTextContents()).toEqual(['Marl']);
  await contact.click();
  await agent.locator('.conv-head h2', { hasText: 'Zenobia Marlow' }).waitFor();
  expect(new URL(agent.url()).searchParams.get('c')).toBe(only.conversationId);
});

test('a customer without a profile yet (messages from before profiles were kept) is said so in the panel, and the conversation works', async () => {
  const customer = newCustomer();
  const { conversationId } = await customerSays(customer, 'An old customer writes');
  await profileWith(customer, 1);
  // As if this customer's messages came before profiles were kept and the backfill has not run yet.
  const { profiles, revisions } = env.stack.apiDeps.collections.contactProfiles;
  await profiles.deleteOne({ _id: contactProfileId(account.id, customer) });
  await revisions.deleteMany({ accountId: account.id, customer });
  expect((await env.stack.http.get(contactPath(customer), account.keys.agent)).status).toBe(404);

  await agent.goto(`${env.stack.baseUrl}/app/?tab=open&c=${encodeURIComponent(conversationId)}`);
  const panel = agent.getByRole('complementary', { name: 'Contact' });
  await panel.getByRole('status').filter({ hasText: `No contact profile for +${customer} yet` }).waitFor();
  await panel.getByRole('button', { name: 'Try again' }).click();
  await panel.getByRole('status').filter({ hasText: `No contact profile for +${customer} yet` }).waitFor();
  await agent.locator('.conversation .timeline').getByText('An old customer writes').waitFor();
  await agent.getByRole('button', { name: 'Claim' }).waitFor();
});

test('two words that seldom meet: the API answers a short page, the search box reads on by itself and shows the old hit', async () => {
  // Two words each in half of the account's newest messages, never together, and together in one older
  // message: more of them than one page of the API examines, fewer than the box reads in a row.
  const conversationId = `conv:${account.id}:wa-main:${newCustomer()}`;
  const newest = 2 * maxExamined + 2;
  const t0 = Date.now() - 3_600_000;
  const texts = [`quokka yabby together at last`, ...Array.from({ length: newest }, (_, i) => (i % 2 === 0 ? 'a quokka came by' : 'a yabby came by'))];
  const records = texts.map((text, i) => textRecord(i, text, t0 + i * 1000, { messageId: `wamid.seldom.${i}` }));
  const c = env.stack.apiDeps.collections;
  await insertOnce(c.messages, records.map((m) => ({ _id: messageDocId(conversationId, m.messageId), ...m, conversationId, accountId: account.id, pos: posOf(m.seq) })));
  await insertOnce(c.searchTerms, searchTermDocsOf(account.id, conversationId, records));
  const first = await env.stack.http.get(`/v1/accounts/${account.id}/search?q=${encodeURIComponent('quokka yabby')}&limit=20`, account.keys.agent);
  expect(first.body.items).toEqual([]);
  expect(first.body.nextCursor).not.toBeNull();

  const box = agent.getByRole('searchbox', { name: 'Search messages and contacts' });
  await box.fill('quokka yabby');
  await box.press('Enter');
  const results = agent.getByRole('region', { name: 'Search results' });
  await results.locator(`button.message-result[data-message-id="wamid.seldom.0"]`).waitFor();
  expect(await results.locator('button.message-result').count()).toBe(1);
  expect(await results.locator('button.message-result mark').allTextContents()).toEqual(['quokka', 'yabby']);
});

test('on a 390-pixel-wide phone the contact is closed at first (its button in the title row) and opens above the conversation', async () => {
  const customer = newCustomer();
  const { conversationId } = await customerSays(customer, 'Writing from my phone', { customerName: 'Olavo Pimentel' });
  await profileWith(customer, 1);
  const context = await browser().newContext({ viewport: { width: 390, height: 844 } });
  try {
    const phone = await context.newPage();
    await openInbox(phone, env.stack.baseUrl, account.keys.agent);
    await phone.goto(`${env.stack.baseUrl}/app/?tab=open&c=${encodeURIComponent(conversationId)}`);
    await phone.locator('.conversation .timeline').getByText('Writing from my phone').waitFor();
    const panel = phone.getByRole('complementary', { name: 'Contact' });
    const toggle = panel.getByRole('button', { name: 'Contact' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    // Closed: the button in the title row, beside the name, and the conversation starts at the top.
    const title = phone.locator('.conv-head h2');
    const [button, heading, pane] = [await toggle.boundingBox(), await title.boundingBox(), await phone.locator('.conversation-pane').boundingBox()];
    expect(button!.y).toBeLessThan(heading!.y + heading!.height);
    expect(button!.x).toBeGreaterThanOrEqual(heading!.x + heading!.width - 76);
    expect(button!.x + button!.width).toBeLessThanOrEqual(390);
    const top = pane!.y;

    await toggle.click();
    await panel.getByRole('heading', { name: 'Olavo Pimentel' }).waitFor();
    // Open: above the conversation, the width of the screen, at most half its height.
    const [open, below] = [await panel.boundingBox(), await phone.locator('.conversation-pane').boundingBox()];
    expect(open!.y + open!.height).toBeLessThanOrEqual(below!.y);
    expect(below!.y).toBeGreaterThan(top);
    expect(open!.width).toBeGreaterThan(350);
    expect(open!.height).toBeLessThanOrEqual(844 / 2 + 1);
    await phone.getByRole('button', { name: 'Back to the list' }).waitFor();
    await panel.getByRole('button', { name: 'Hide contact' }).click();
    await panel.getByRole('heading', { name: 'Olavo Pimentel' }).waitFor({ state: 'detached' });
    expect((await phone.locator('.conversation-pane').boundingBox())!.y).toBe(top);
  } finally {
    await context.close();
  }
});

test('a conversation longer than a page opens at its newest messages, shows earlier ones on demand, and a search hit among them is scrolled to', async () => {
  const customer = newCustomer();
  const total = 505;
  // Through the API, in order (one conversation's signals are recorded in the order they were accepted).
  let conversationId = '';
  for (let i = 0; i < total; i++) ({ conversationId } = await customerSays(customer, i === 3 ? 'message 3 about a platypus' : `message ${i}`));
  await eventually(async () => {
    const res = await env.stack.http.get(`/v1/accounts/${account.id}/conversations/${encodeURIComponent(conversationId)}/messages?before=end&limit=1`, account.keys.agent);
    return res.body.messages[0]?.text === `message ${total - 1}` ? true : undefined;
  });
  const found = await eventually(async () => {
    const res = await env.stack.http.get(`/v1/accounts/${account.id}/search?q=platypus`, account.keys.agent);
    return res.body.items.length === 1 ? res.body.items[0] : undefined;
  });

  await agent.goto(`${env.stack.baseUrl}/app/?tab=open&c=${encodeURIComponent(conversationId)}`);
  const timeline = agent.locator('.conversation .timeline');
  await timeline.getByText(`message ${total - 1}`, { exact: true }).waitFor();
  expect(await timeline.getByText('message 0', { exact: true }).count()).toBe(0);
  await timeline.getByRole('button', { name: 'Show earlier messages' }).click();
  await timeline.getByText('message 0', { exact: true }).waitFor();
  await timeline.getByRole('button', { name: 'Show earlier messages' }).waitFor({ state: 'detached' });

  // Opened again (at its newest), then from a search hit outside the newest page: read back to it, outlined.
  await agent.goto(`${env.stack.baseUrl}/app/?tab=open&c=${encodeURIComponent(conversationId)}`);
  await timeline.getByText(`message ${total - 1}`, { exact: true }).waitFor();
  const box = agent.getByRole('searchbox', { name: 'Search messages and contacts' });
  await box.fill('platypus');
  await box.press('Enter');
  await agent.getByRole('region', { name: 'Search results' }).locator(`button.message-result[data-message-id="${found.messageId}"]`).click();
  await agent.locator(`.timeline [data-message-id="${found.messageId}"].found`).waitFor();
  expect(await agent.locator(`.timeline [data-message-id="${found.messageId}"]`).isVisible()).toBe(true);
}, 240_000);
