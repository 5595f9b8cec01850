import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Stack } from '../support/stack';
import { eventually } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationApi, conversationPath, createAccount, newCustomer, useStackWithAccount } from '../support/scenario';

/**
 * SPEC 11's contacts and search through the real stack (API, worker, dev server, FerretDB): a contact kept
 * from its customer messages on every channel, a user's edit, the contacts' search by name and phone, the
 * search over messages and notes, and canned responses filled from the contact.
 */
describe('contacts and search', () => {
  const env = useStackWithAccount({ serviceWindow: '24h' });
  const { act } = conversationApi(env);
  let stack: Stack;
  let account: Account;
  beforeAll(() => ({ stack, account } = env));

  const contactsPath = (suffix = '') => `/v1/accounts/${account.id}/contacts${suffix}`;
  const searchPath = (q: string, extra = '') => `/v1/accounts/${account.id}/search?q=${encodeURIComponent(q)}${extra}`;
  /** A customer message with what a provider sends beside the text; waits until its conversation shows it. */
  async function customerSays(customer: string, opts: { channel?: string; text?: string; customerName?: string; attributes?: Record<string, string> } = {}) {
    const messageId = `wamid.${randomUUID()}`;
    const res = await stack.http.post(
      `/v1/accounts/${account.id}/messages`,
      { channel: opts.channel ?? 'wa-main', customer, messageId, text: opts.text ?? 'hello', customerName: opts.customerName, attributes: opts.attributes },
      account.keys.service,
    );
    expect(res.status).toBe(202);
    const conversationId: string = res.body.conversationId;
    await eventually(async () => {
      const msgs = await stack.http.get(conversationPath(account, conversationId, '/messages?limit=500'), account.keys.agent);
      return (msgs.body.messages as { messageId: string }[] | undefined)?.some((m) => m.messageId === messageId) ? true : undefined;
    });
    return { conversationId, messageId };
  }
  /** The profile once `check` holds (the contact is written right after the conversation's view). */
  const profileWhen = (customer: string, check: (body: any) => boolean) =>
    eventually(async () => {
      const res = await stack.http.get(contactsPath(`/${customer}`), account.keys.agent);
      return res.status === 200 && check(res.body) ? res.body : undefined;
    });
  /** Search results once `check` holds (postings are written right after the view). */
  const searchWhen = (q: string, check: (body: any) => boolean, key = account.keys.agent2) =>
    eventually(async () => {
      const res = await stack.http.get(searchPath(q), key);
      return res.status === 200 && check(res.body) ? res.body : undefined;
    });

  test('a contact is kept from its customer messages on every channel: name, latest attributes, first and last seen, conversations', async () => {
    const customer = newCustomer();
    const first = await customerSays(customer, { customerName: 'Joana', attributes: { plan: 'silver', city: 'Porto' } });
    await customerSays(customer, { attributes: { plan: 'gold' } });
    const other = await customerSays(customer, { channel: 'wa-sales', customerName: 'Joana' });
    const profile = await profileWhen(customer, (p) => p.conversations.length === 2 && p.attributes.plan === 'gold');
    expect(profile).toMatchObject({ customer, name: 'Joana', attributes: { plan: 'gold', city: 'Porto' } });
    expect(profile.conversations).toEqual(
      expect.arrayContaining([
        { conversationId: first.conversationId, channel: 'wa-main', status: 'open', episodes: 1 },
        { conversationId: other.conversationId, channel: 'wa-sales', status: 'open', episodes: 1 },
      ]),
    );
    const views = await Promise.all([first, other].map(async (c) => (await stack.http.get(conversationPath(account, c.conversationId), account.keys.agent)).body));
    expect(profile.lastSeenAt).toBe(views.map((v) => v.lastCustomerMessageAt).sort().at(-1));
    expect(Date.parse(profile.firstSeenAt)).toBeLessThanOrEqual(Date.parse(profile.lastSeenAt));
    expect((await stack.http.get(contactsPath('/4900000000000'), account.keys.agent)).status).toBe(404);
  });

  test('PATCH: any user renames and sets attributes; a later message keeps the name and gives newer attributes; 404 and 400 as documented', async () => {
    const customer = newCustomer();
    await customerSays(customer, { customerName: 'Beto', attributes: { plan: 'basic' } });
    await profileWhen(customer, (p) => p.name === 'Beto');
    const patched = await stack.http.patch(contactsPath(`/${customer}`), { name: 'Roberto Dias', attributes: { tier: 'vip', plan: 'pro' } }, account.keys.agent);
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ customer, name: 'Roberto Dias', attributes: { tier: 'vip', plan: 'pro' } });
    // The search finds the new name, with the edit's attributes, and no longer the old one (its words are deleted).
    const search = async (q: string) => (await stack.http.get(contactsPath(`?q=${encodeURIComponent(q)}`), account.keys.agent)).body.items as { customer: string }[];
    expect((await search('dias rob')).filter((i) => i.customer === customer)).toEqual([{ customer, name: 'Roberto Dias', attributes: { tier: 'vip', plan: 'pro' }, firstSeenAt: patched.body.firstSeenAt }]);
    expect((await search('beto')).map((i) => i.customer)).not.toContain(customer);

    await customerSays(customer, { customerName: 'Beto', attributes: { plan: 'premium' } });
    const after = await profileWhen(customer, (p) => p.attributes.plan === 'premium');
    expect(after).toMatchObject({ name: 'Roberto Dias', attributes: { tier: 'vip', plan: 'premium' } });
    // null removes a key; the others stay.
    const removed = await stack.http.patch(contactsPath(`/${customer}`), { attributes: { tier: null } }, account.keys.agent);
    expect(removed.status).toBe(200);
    expect(removed.body.attributes).toEqual({ plan: 'premium' });
    expect((await stack.http.get(contactsPath(`/${customer}`), account.keys.agent)).body.attributes).toEqual({ plan: 'premium' });

    expect((await stack.http.patch(contactsPath('/4900000000001'), { name: 'Nobody' }, account.keys.agent)).status).toBe(404);
    const badKey = await stack.http.patch(contactsPath(`/${customer}`), { attributes: { 'a.b': 'x' } }, account.keys.agent);
    expect([badKey.status, badKey.body.error.code]).toEqual([400, 'validation_failed']);
    expect(badKey.body.error.message).toContain('attributes');
    const other = await createAccount(stack);
    // Another account's user: the account is not theirs to see (404, as for every route), and nothing changes.
    expect((await stack.http.patch(`/v1/accounts/${account.id}/contacts/${customer}`, { name: 'x' }, other.keys.agent)).status).toBe(404);
    expect((await stack.http.get(`/v1/accounts/${account.id}/contacts/${customer}`, other.keys.agent)).status).toBe(404);
    expect((await stack.http.get(contactsPath(`/${customer}`), account.keys.agent)).body.name).toBe('Roberto Dias');
  });

  test('the contacts search: a name word prefix (case and accent insensitive) or phone digits, each contact once, paged', async () => {
    const tag = `${Date.now() % 100000}`;
    const a = `7${tag}001`;
    const b = `7${tag}002`;
    const c = `7${tag}003`;
    await customerSays(a, { customerName: 'José Álvarez Zuñiga' });
    await customerSays(b, { customerName: 'Zuzana Zuniga' });
    await customerSays(c, { customerName: 'Alvaro Mendes' });
    await Promise.all([a, b, c].map((x) => profileWhen(x, (p) => p.name !== null)));

    const names = async (q: string) => ((await stack.http.get(contactsPath(`?q=${encodeURIComponent(q)}`), account.keys.agent)).body.items as { name: string }[]).map((i) => i.name);
    expect(await names('jose')).toEqual(['José Álvarez Zuñiga']);
    expect((await names('ALV')).sort()).toEqual(['Alvaro Mendes', 'José Álvarez Zuñiga']);
    // Both words of Zuzana's name start with "zu": listed once.
    expect((await names('zu')).sort()).toEqual(['José Álvarez Zuñiga', 'Zuzana Zuniga']);
    expect(await names('zun alv')).toEqual(['José Álvarez Zuñiga']);
    expect(await names('lvarez')).toEqual([]);

    const phone = await stack.http.get(contactsPath(`?q=${encodeURIComponent(`+7 ${tag}`)}`), account.keys.agent);
    expect(phone.body.items.map((i: { customer: string }) => i.customer)).toEqual([a, b, c]);

    // Paged one by one: every contact once, in order, then the end.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await stack.http.get(contactsPath(`?q=zu&limit=1${cursor ? `&cursor=${cursor}` : ''}`), account.keys.agent);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { customer: string }) => i.customer));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([a, b]);

    // Several words (read by name pairs: store/DESIGN.md "Contacts"), paged one by one: each match once, then the end.
    const d = `7${tag}004`;
    await customerSays(d, { customerName: 'Zulu Alvina' });
    await profileWhen(d, (p) => p.name !== null);
    const pages: string[][] = [];
    let pairCursor: string | null = null;
    do {
      const res: any = await stack.http.get(contactsPath(`?q=${encodeURIComponent('alv zu')}&limit=1${pairCursor ? `&cursor=${pairCursor}` : ''}`), account.keys.agent);
      expect(res.status).toBe(200);
      pages.push(res.body.items.map((i: { name: string }) => i.name));
      pairCursor = res.body.nextCursor;
    } while (pairCursor);
    expect(pages.map((p) => p.length)).toEqual([1, 1]);
    expect(pages.flat().sort()).toEqual(['José Álvarez Zuñiga', 'Zulu Alvina']);
    const first: any = await stack.http.get(contactsPath(`?q=${encodeURIComponent('alv zu')}&limit=1`), account.keys.agent);
    const other = await stack.http.get(contactsPath(`?q=mendes&limit=1&cursor=${first.body.nextCursor}`), account.keys.agent);
    expect([other.status, other.body.error.code, other.body.error.message]).toEqual([400, 'validation_failed', expect.stringMatching(/^cursor: /)]);

    for (const q of ['j', ' ', '']) {
      const res = await stack.http.get(contactsPath(`?q=${encodeURIComponent(q)}`), account.keys.agent);
      expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
      expect(res.body.error.message).toMatch(/^q: /);
    }
  });

  test('the search finds customer messages, replies and notes by every word prefix, newest first, with snippets, paged', async () => {
    const word = `kiwi${randomUUID().slice(0, 6).replace(/\d/g, 'x')}`;
    const customer = newCustomer();
    const { conversationId, messageId } = await customerSays(customer, { text: `Olá, meu pedido ${word} não chegou` });
    const reply = await act(account, conversationId, 'replies', account.keys.agent, { text: `Seu PEDIDO ${word.toUpperCase()} sai amanhã` });
    expect(reply.status).toBe(200);
    const note = await act(account, conversationId, 'notes', account.keys.agent, { text: `cliente ligou sobre o pedido ${word}: internacionalização` });
    expect(note.status).toBe(201);

    const found = await searchWhen(word.slice(0, 7), (b) => b.items.length === 3);
    expect(found.items.map((i: { messageId: string }) => i.messageId)).toEqual([note.body.messageId, reply.body.messageId, messageId]);
    expect(found.items[2]).toEqual({ conversationId, messageId, at: expect.any(String), snippet: `Olá, meu pedido ${word} não chegou` });
    const times = found.items.map((i: { at: string }) => Date.parse(i.at));
    expect([...times].sort((x: number, y: number) => y - x)).toEqual(times);

    // Every word must match within one message; accents and case do not matter.
    const both = await stack.http.get(searchPath(`${word} nao`), account.keys.agent);
    expect(both.body.items.map((i: { messageId: string }) => i.messageId)).toEqual([messageId]);
    const accented = await stack.http.get(searchPath(`AMANHÃ ${word.slice(0, 5)}`), account.keys.agent);
    expect(accented.body.items.map((i: { messageId: string }) => i.messageId)).toEqual([reply.body.messageId]);
    expect((await stack.http.get(searchPath(`${word} zebra`), account.keys.agent)).body).toEqual({ items: [], nextCursor: null });
    // A word of one character, and one longer than the index's 12, are checked on the text.
    const ids = async (q: string) => (await stack.http.get(searchPath(q), account.keys.agent)).body.items.map((i: { messageId: string }) => i.messageId);
    expect(await ids(`${word} o`)).toEqual([note.body.messageId, messageId]);
    expect(await ids(`INTERNACIONALIZAÇÃO ${word.slice(0, 4)}`)).toEqual([note.body.messageId]);
    expect(await ids(`internacionalizar ${word}`)).toEqual([]);

    // Paged: two then one, then the end.
    const page1 = await stack.http.get(searchPath(word, '&limit=2'), account.keys.agent);
    expect(page1.body.items).toHaveLength(2);
    const page2 = await stack.http.get(searchPath(word, `&limit=2&cursor=${page1.body.nextCursor}`), account.keys.agent);
    expect([...page1.body.items, ...page2.body.items].map((i: { messageId: string }) => i.messageId)).toEqual(found.items.map((i: { messageId: string }) => i.messageId));
    expect(page2.body.nextCursor).toBeNull();

    // Another account sees none of it.
    const other = await createAccount(stack);
    expect((await stack.http.get(`/v1/accounts/${other.id}/search?q=${word}`, other.keys.agent)).body.items).toEqual([]);
  });

  test('bad search input answers 400 naming q or cursor', async () => {
    for (const q of ['a', ' x ', 'a b', '!!']) {
      const res = await stack.http.get(searchPath(q), account.keys.agent);
      expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
      expect(res.body.error.message).toMatch(/^q: /);
    }
    const missing = await stack.http.get(`/v1/accounts/${account.id}/search`, account.keys.agent);
    expect([missing.status, missing.body.error.message]).toEqual([400, expect.stringMatching(/^q: /)]);
    const cursor = await stack.http.get(searchPath('hello', '&cursor=nonsense'), account.keys.agent);
    expect([cursor.status, cursor.body.error.message]).toEqual([400, expect.stringMatching(/^cursor: /)]);
  });

  test('a canned response fills {{attributes.<key>}} from the contact, a PATCH included', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerSays(customer, { customerName: 'Lia', attributes: { plan: 'basic' } });
    await profileWhen(customer, (p) => p.attributes.plan === 'basic');
    expect((await stack.http.patch(contactsPath(`/${customer}`), { attributes: { order: 'A-77' } }, account.keys.agent)).status).toBe(200);
    const code = `ord${randomUUID().slice(0, 6)}`;
    expect((await stack.http.request('PUT', `/v1/accounts/${account.id}/canned-responses/${code}`, { key: account.keys.manager, body: { title: 'Order', text: 'Your {{attributes.plan}} order {{attributes.order}}', scope: 'account' } })).status).toBe(200);
    const sent = await act(account, conversationId, 'replies', account.keys.agent, { cannedResponse: code });
    expect(sent.status).toBe(200);
    const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages as { messageId: string; text: string }[];
    expect(messages.find((m) => m.messageId === sent.body.messageId)?.text).toBe('Your basic order A-77');
  });

  test('/openapi.json lists the routes, and real answers match their schemas', async () => {
    const doc = (await stack.http.get('/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/accounts/{accountId}/contacts'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/accounts/{accountId}/contacts/{customer}']).sort()).toEqual(['get', 'patch']);
    expect(Object.keys(doc.paths['/v1/accounts/{accountId}/search'])).toEqual(['get']);

    const customer = newCustomer();
    await customerSays(customer, { customerName: 'Schema Check', text: 'schemacheck message', attributes: { k: 'v' } });
    await profileWhen(customer, (p) => p.name === 'Schema Check');
    await searchWhen('schemacheck', (b) => b.items.length === 1);
    const answers: [string, string, string][] = [
      ['get', '/v1/accounts/{accountId}/contacts', contactsPath('?q=schema')],
      ['get', '/v1/accounts/{accountId}/contacts/{customer}', contactsPath(`/${customer}`)],
      ['get', '/v1/accounts/{accountId}/search', searchPath('schemacheck')],
    ];
    for (const [method, path, url] of answers) {
      const reply = await stack.http.get(url, account.keys.agent);
      expect(reply.status).toBe(200);
      const schema = doc.paths[path][method].responses['200'].content['application/json'].schema;
      const result = z.fromJSONSchema(schema).safeParse(reply.body);
      expect({ path, issues: result.success ? [] : result.error.issues }).toEqual({ path, issues: [] });
    }
  });
});
