import { randomUUID } from 'node:crypto';
import type { Stack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, newCustomer, useStackWithAccount } from '../support/scenario';
import { eventually } from '../support/stack';

/** SPEC 10, second bullet and its pinned details: canned responses, their scopes, search, and replies that send one. */
describe('canned responses', () => {
  let stack: Stack;
  let account: Account;
  const env = useStackWithAccount();
  beforeAll(() => ({ stack, account } = env));

  const base = () => `/v1/accounts/${account.id}/canned-responses`;
  const put = (code: string, body: unknown, key: string) => stack.http.request('PUT', `${base()}/${code}`, { key, body });
  const del = (code: string, key: string, scope?: string) => stack.http.request('DELETE', `${base()}/${code}${scope ? `?scope=${scope}` : ''}`, { key });
  const list = async (key: string, query = '') => {
    const res = await stack.http.get(`${base()}${query}`, key);
    expect(res.status).toBe(200);
    return res.body.items as { shortCode: string; scope: string; title: string; text: string }[];
  };
  /** Short codes unique to each test: the account is shared by the file. */
  const code = (name: string) => `${name}-${randomUUID().slice(0, 6)}`;

  test('a supervisor saves an account response (and changes it) that every user sees; an agent may not', async () => {
    const c = code('thanks');
    const created = await put(c, { title: 'Thanks a lot', text: 'Thank you!', scope: 'account' }, account.keys.manager);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ shortCode: c, scope: 'account', title: 'Thanks a lot', text: 'Thank you!', variables: [], updatedBy: account.users.manager });
    const changed = await put(c, { title: 'Thanks a lot', text: 'Thank you, {{customer.name}}!', scope: 'account' }, account.keys.admin);
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ text: 'Thank you, {{customer.name}}!', variables: ['customer.name'], createdAt: created.body.createdAt, updatedBy: account.users.admin });
    expect((await list(account.keys.agent)).find((r) => r.shortCode === c)).toMatchObject({ scope: 'account', text: 'Thank you, {{customer.name}}!' });

    const refused = await put(code('mine'), { title: 'x', text: 'x', scope: 'account' }, account.keys.agent);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await del(c, account.keys.agent)).status).toBe(403);
    expect((await stack.http.get(`${base()}/${c}`, account.keys.agent)).status).toBe(200);
  });

  test("a personal code hides the account's of the same code for its owner only; nobody sees another's personal ones", async () => {
    const c = code('hi');
    expect((await put(c, { title: 'Hello', text: 'Hello from the team', scope: 'account' }, account.keys.owner)).status).toBe(200);
    expect((await put(c, { title: 'My hello', text: 'Hello, it is me', scope: 'personal' }, account.keys.agent)).status).toBe(200);

    const mine = (await list(account.keys.agent)).filter((r) => r.shortCode === c);
    expect(mine).toEqual([expect.objectContaining({ scope: 'personal', text: 'Hello, it is me' })]);
    expect((await stack.http.get(`${base()}/${c}`, account.keys.agent)).body.scope).toBe('personal');
    expect((await stack.http.get(`${base()}/${c}?scope=account`, account.keys.agent)).body.scope).toBe('account');

    const others = (await list(account.keys.agent2)).filter((r) => r.shortCode === c);
    expect(others).toEqual([expect.objectContaining({ scope: 'account', text: 'Hello from the team' })]);
    expect((await list(account.keys.owner, '?scope=personal')).some((r) => r.shortCode === c)).toBe(false);

    // Deleting what the agent sees deletes their personal one (200); the account's shows through again.
    const deleted = await del(c, account.keys.agent);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: { shortCode: c, scope: 'personal' } });
    expect((await list(account.keys.agent)).filter((r) => r.shortCode === c)).toEqual([expect.objectContaining({ scope: 'account' })]);
    expect((await del(c, account.keys.agent, 'personal')).status).toBe(404);
  });

  test('?q= is a case- and accent-insensitive prefix of the short code or of any word of the title', async () => {
    const c = code('order');
    expect((await put(c, { title: 'Situação do pedido', text: 'Your order is on its way', scope: 'personal' }, account.keys.agent2)).status).toBe(200);
    const codes = async (q: string) => (await list(account.keys.agent2, `?q=${encodeURIComponent(q)}`)).map((r) => r.shortCode);
    expect(await codes('ORD')).toContain(c);
    expect(await codes('situacao')).toContain(c);
    expect(await codes('PED')).toContain(c);
    expect(await codes('do ped')).toContain(c);
    expect(await codes('edido')).not.toContain(c);
    expect(await codes('zzz')).toEqual([]);
  });

  test('bad input answers 400 naming the field, and nothing is stored', async () => {
    const bad: [string, unknown, string][] = [
      ['Upper', { title: 't', text: 't', scope: 'personal' }, 'shortCode'],
      [code('x'), { title: '', text: 't', scope: 'personal' }, 'title'],
      [code('x'), { title: 'x'.repeat(101), text: 't', scope: 'personal' }, 'title'],
      [code('x'), { title: 't', text: 'x'.repeat(4097), scope: 'personal' }, 'text'],
      [code('x'), { title: 't', text: 'Hi {{customer.nmae}}', scope: 'personal' }, 'text'],
      [code('x'), { title: 't', text: 't', scope: 'team' }, 'scope'],
      [code('x'), { title: 't', text: 't', scope: 'personal', extra: 1 }, 'body'],
      [`${'a'.repeat(33)}`, { title: 't', text: 't', scope: 'personal' }, 'shortCode'],
    ];
    for (const [c, body, field] of bad) {
      const res = await put(c, body, account.keys.agent);
      expect({ c, status: res.status, code: res.body.error?.code }).toEqual({ c, status: 400, code: 'validation_failed' });
      expect(res.body.error.message).toContain(field === 'body' ? 'extra' : field);
    }
    expect((await list(account.keys.agent)).some((r) => r.shortCode.startsWith('x-'))).toBe(false);
    expect((await stack.http.get(`${base()}/${code('nothing')}`, account.keys.agent)).status).toBe(404);
    expect((await stack.http.get(`${base()}?scope=team`, account.keys.agent)).status).toBe(400);
    expect((await stack.http.get(base(), account.keys.service)).status).toBe(403);
  });

  test("another account's users neither read nor change this account's responses (404), and the OpenAPI document has the routes", async () => {
    const c = code('private');
    expect((await put(c, { title: 'Private', text: 'ours', scope: 'account' }, account.keys.owner)).status).toBe(200);
    const other = await createAccount(stack);
    expect((await stack.http.get(base(), other.keys.owner)).status).toBe(404);
    expect((await stack.http.get(`${base()}/${c}`, other.keys.owner)).status).toBe(404);
    expect((await put(c, { title: 'Mine now', text: 'theirs', scope: 'account' }, other.keys.owner)).status).toBe(404);
    expect((await del(c, other.keys.owner)).status).toBe(404);
    expect((await list(account.keys.agent)).find((r) => r.shortCode === c)).toMatchObject({ text: 'ours' });
    const doc = (await stack.http.get('/openapi.json')).body;
    const path = '/v1/accounts/{accountId}/canned-responses';
    expect(Object.keys(doc.paths[path]).sort()).toEqual(['get']);
    expect(Object.keys(doc.paths[`${path}/{shortCode}`]).sort()).toEqual(['delete', 'get', 'put']);
  });

  describe('replying with a canned response', () => {
    /** A conversation the agent holds, whose customer gave a name and attributes over two messages. */
    async function heldConversation(): Promise<string> {
      const customer = newCustomer();
      const send = (attributes: Record<string, string>) =>
        stack.http.post(
          `/v1/accounts/${account.id}/messages`,
          { channel: 'wa-main', customer, messageId: `wamid.${randomUUID()}`, text: 'hi', customerName: 'Ana', attributes },
          account.keys.service,
        );
      const first = await send({ plan: 'silver', city: 'Lisbon' });
      expect(first.status).toBe(202);
      const conversationId: string = first.body.conversationId;
      expect((await send({ plan: 'gold' })).status).toBe(202);
      await eventually(async () => {
        const msgs = await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent);
        return msgs.body.messages?.length === 2 ? true : undefined;
      });
      expect((await stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.manager)).status).toBe(200);
      return conversationId;
    }
    const reply = (conversationId: string, body: unknown) => stack.http.post(conversationPath(account, conversationId, '/replies'), body, account.keys.agent);

    test("sends the text with the customer's name, the agent's name and the contact's latest attributes filled in", async () => {
      const conversationId = await heldConversation();
      const c = code('welcome');
      await put(c, { title: 'Welcome', text: 'Hi {{customer.name}}, {{ agent.name }} here: your {{attributes.plan}} plan in {{attributes.city}}', scope: 'account' }, account.keys.manager);
      const sent = await reply(conversationId, { cannedResponse: c });
      expect(sent.status).toBe(200);
      const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages as { messageId: string; text: string }[];
      expect(messages.find((m) => m.messageId === sent.body.messageId)?.text).toBe('Hi Ana, agent here: your gold plan in Lisbon');
    });

    test("{{customer.name}} is the contact's name once a user corrected it (PATCH .../contacts), not the provider's profile name", async () => {
      const conversationId = await heldConversation();
      const c = code('hi');
      await put(c, { title: 'Hi', text: 'Hi {{customer.name}}!', scope: 'account' }, account.keys.manager);
      const customer = conversationId.split(':').at(-1)!;
      expect((await stack.http.patch(`/v1/accounts/${account.id}/contacts/${customer}`, { name: 'Ana Sofia Reis' }, account.keys.agent)).status).toBe(200);
      const sent = await reply(conversationId, { cannedResponse: c });
      expect(sent.status).toBe(200);
      const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages as { messageId: string; text: string }[];
      expect(messages.find((m) => m.messageId === sent.body.messageId)?.text).toBe('Hi Ana Sofia Reis!');
    });

    test('the caller\'s personal response wins over the account\'s of the same code', async () => {
      const conversationId = await heldConversation();
      const c = code('sig');
      await put(c, { title: 'Signature', text: 'From the team', scope: 'account' }, account.keys.manager);
      await put(c, { title: 'Signature', text: 'From me', scope: 'personal' }, account.keys.agent);
      const sent = await reply(conversationId, { cannedResponse: c });
      expect(sent.status).toBe(200);
      const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages as { messageId: string; text: string }[];
      expect(messages.find((m) => m.messageId === sent.body.messageId)?.text).toBe('From me');
    });

    test('a variable with no value, an unknown code, or both text and a code answer 400 and send nothing', async () => {
      const conversationId = await heldConversation();
      const c = code('track');
      await put(c, { title: 'Tracking', text: 'Track it at {{attributes.tracking}}', scope: 'personal' }, account.keys.agent);
      const missing = await reply(conversationId, { cannedResponse: c });
      expect(missing.status).toBe(400);
      expect(missing.body.error).toMatchObject({ code: 'validation_failed' });
      expect(missing.body.error.message).toContain('{{attributes.tracking}}');
      expect(missing.body.error.message).toContain('cannedResponse');

      const unknown = await reply(conversationId, { cannedResponse: code('none') });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toContain('cannedResponse');
      // Another user's personal response is not the agent's to send.
      const theirs = code('theirs');
      await put(theirs, { title: 'Theirs', text: 'Not yours', scope: 'personal' }, account.keys.agent2);
      expect((await reply(conversationId, { cannedResponse: theirs })).status).toBe(400);

      expect((await reply(conversationId, { cannedResponse: c, text: 'both' })).status).toBe(400);
      expect((await reply(conversationId, {})).status).toBe(400);
      // Nothing was sent: the timeline still ends with the customer's two messages.
      const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages as unknown[];
      expect(messages).toHaveLength(2);
    });
  });
});
