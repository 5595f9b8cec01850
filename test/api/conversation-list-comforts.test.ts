import type { Account } from '../support/scenario';
import { conversationApi, conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';
import type { Stack } from '../support/stack';

/**
 * Issue 22, item 12 (the backend): the view's `lastMessage`, `waitingSince` and `team`, and the list's
 * `tag`, `team` and `sort=oldest_waiting` with cursors that page each sort correctly. Every test works on
 * a channel of its own, so the account's other conversations never enter its lists.
 */
let stack: Stack;
let account: Account;
const env = useStackWithAccount();
beforeAll(() => ({ stack, account } = env));
const api = conversationApi(env);

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const list = (query: string, key = account.keys.agent) => stack.http.get(`/v1/accounts/${account.id}/conversations?${query}`, key);

/** Every page of a list, following `nextCursor`; the ids in the order the API gave them. */
async function allPages(query: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await list(`${query}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    ids.push(...(res.body.conversations as { id: string }[]).map((c) => c.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  return ids;
}

test('the view previews the last message and says since when the customer waits, until a reply answers', async () => {
  const sentAt = minutesAgo(7);
  const { conversationId } = await customerWrites(stack, account, { customer: newCustomer(), channel: 'wa-view', text: 'Where is my order?', sentAt });
  const waiting = await api.view(account, conversationId);
  expect(waiting.lastMessage).toEqual({ direction: 'inbound', kind: 'text', text: 'Where is my order?', at: expect.any(String) });
  expect(waiting.waitingSince).toBe(sentAt);
  expect(waiting.team).toBeNull();

  const replied = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'It ships today.' });
  expect(replied.status).toBe(200);
  expect(replied.body.conversation).toMatchObject({ waitingSince: null, lastMessage: { direction: 'outbound', kind: 'text', text: 'It ships today.' } });
  expect(await api.view(account, conversationId)).toMatchObject({ waitingSince: null, lastMessage: { direction: 'outbound', text: 'It ships today.' } });
});

test('sort=oldest_waiting lists only conversations where a customer waits, longest first, and its cursor pages them all once', async () => {
  const channel = 'wa-waiting';
  const write = (ago: number) => customerWrites(stack, account, { customer: newCustomer(), channel, sentAt: minutesAgo(ago) });
  const thirty = await write(30);
  const ten = await write(10);
  const twenty = await write(20);
  const answered = await write(40);
  expect((await api.act(account, answered.conversationId, 'replies', account.keys.agent, { text: 'done' })).status).toBe(200);
  // Two waiting since the very same moment: `_id` breaks the tie, and the cursor must not lose either.
  const same = minutesAgo(15);
  const tieA = await customerWrites(stack, account, { customer: newCustomer(), channel, sentAt: same });
  const tieB = await customerWrites(stack, account, { customer: newCustomer(), channel, sentAt: same });
  const tie = [tieA.conversationId, tieB.conversationId].sort();

  const expected = [thirty.conversationId, twenty.conversationId, ...tie, ten.conversationId];
  const first = await list(`channel=${channel}&sort=oldest_waiting`);
  expect(first.body.conversations.map((c: { id: string }) => c.id)).toEqual(expected);
  expect(first.body.nextCursor).toBeNull();
  expect(await allPages(`channel=${channel}&sort=oldest_waiting`)).toEqual(expected);

  // The default order is unchanged: newest activity first, the answered one included, paged the same.
  const newest = await allPages(`channel=${channel}`);
  expect(newest).toHaveLength(6);
  expect(newest[0]).toBe(tieB.conversationId);
  expect(new Set(newest).size).toBe(6);
});

test('a cursor of one sort is refused by the other, naming the cursor', async () => {
  const channel = 'wa-cursors';
  await customerWrites(stack, account, { customer: newCustomer(), channel });
  await customerWrites(stack, account, { customer: newCustomer(), channel });
  const newest = (await list(`channel=${channel}&limit=1`)).body.nextCursor as string;
  const waiting = (await list(`channel=${channel}&limit=1&sort=oldest_waiting`)).body.nextCursor as string;
  expect(newest).toBeTruthy();
  expect(waiting).toBeTruthy();
  const crossed = await list(`channel=${channel}&limit=1&sort=oldest_waiting&cursor=${newest}`);
  expect(crossed.status).toBe(400);
  expect(crossed.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/^cursor:/) });
  expect((await list(`channel=${channel}&limit=1&cursor=${waiting}`)).status).toBe(400);
});

test('tag and team filter the list; a transfer names the team holding the conversation', async () => {
  const channel = 'wa-filters';
  const tagged = await customerWrites(stack, account, { customer: newCustomer(), channel });
  const transferred = await customerWrites(stack, account, { customer: newCustomer(), channel });
  await customerWrites(stack, account, { customer: newCustomer(), channel });
  expect((await api.act(account, tagged.conversationId, 'tags', account.keys.agent, { add: ['vip'] })).status).toBe(200);
  // A supervisor moves an open conversation to another team's queue (manual routing: no router involved).
  const moved = await api.act(account, transferred.conversationId, 'transfer', account.keys.manager, { team: 'billing' });
  expect(moved.status).toBe(200);
  expect(moved.body.conversation.team).toBe('billing');

  const ids = async (query: string) => ((await list(`channel=${channel}&${query}`)).body.conversations as { id: string }[]).map((c) => c.id);
  expect(await ids('tag=vip')).toEqual([tagged.conversationId]);
  expect(await ids('team=billing')).toEqual([transferred.conversationId]);
  expect(await ids('team=billing&sort=oldest_waiting')).toEqual([transferred.conversationId]);
  expect(await ids('team=sales')).toEqual([]);
  const read = await stack.http.get(conversationPath(account, transferred.conversationId), account.keys.agent);
  expect(read.body.team).toBe('billing');
});

test.each([
  ['sort', 'sort=longest'],
  ['team', 'team=no%20spaces'],
  ['tag', `tag=${'x'.repeat(65)}`],
  ['limit', 'limit=0'],
])('an invalid %s answers 400 validation_failed naming it', async (field, query) => {
  const res = await list(query);
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  expect(res.body.error.message).toMatch(new RegExp(`^${field}:`));
});
