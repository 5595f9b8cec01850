import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from '../../api/app';
import { fingerprintOf, principalScope, recordIdOf } from '../../api/idempotency';
import { Http, quietLog, useStack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, customerWritesToShortRuns, newCustomer, runStartedAfter } from '../support/scenario';

/**
 * Idempotency-Key across runs (issue 11, item 3): a conversation continues as new (on its history budget),
 * and Temporal deduplicates an update id only within a run, so the first answer must come from MongoDB.
 * The tests that need a run boundary use a conversation whose every run ends after one input.
 */
describe('Idempotency-Key', () => {
  const env = useStack();
  let account: Account;
  beforeAll(async () => {
    account = await createAccount(env.stack);
  });

  /** An assigned conversation (the agent replied). */
  async function assignedConversation(opts: { shortRuns?: boolean } = {}) {
    const customer = newCustomer();
    const { conversationId } = opts.shortRuns ? await customerWritesToShortRuns(env.stack, account, { customer }) : await customerWrites(env.stack, account, { customer });
    const reply = await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'hi' }, account.keys.agent);
    expect(reply.status).toBe(200);
    // The next request goes to the run after the reply's.
    if (opts.shortRuns) await runStartedAfter(env.stack, conversationId, (carried) => carried.status === 'assigned');
    return { conversationId };
  }

  /** Waits until the conversation runs in a run started after it closed: the one that took the first request's update id is over. */
  const continuedAsNew = (conversationId: string) => runStartedAfter(env.stack, conversationId, (carried) => carried.status === 'closed');

  const resolve = (http: Http, conversationId: string, key: string, idempotencyKey: string) =>
    http.post(conversationPath(account, conversationId, '/resolve'), {}, key, { 'idempotency-key': idempotencyKey });

  test('a /resolve retried after the conversation continued as new answers the first answer, and acts once', async () => {
    const { conversationId } = await assignedConversation({ shortRuns: true });
    const first = await resolve(env.stack.http, conversationId, account.keys.agent, 'resolve-1');
    expect(first.status).toBe(200);
    expect(first.body.conversation.status).toBe('closed');
    await continuedAsNew(conversationId);

    const retried = await resolve(env.stack.http, conversationId, account.keys.agent, 'resolve-1');
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(first.body);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    const events = (await env.stack.http.get(conversationPath(account, conversationId, '/events'), account.keys.agent)).body.events;
    expect(events.filter((e: { to: string }) => e.to === 'closed')).toHaveLength(1);
  });

  test('the first answer is replayed by a new API process (a new createApp on the same database)', async () => {
    const { conversationId } = await assignedConversation({ shortRuns: true });
    const first = await resolve(env.stack.http, conversationId, account.keys.agent, 'resolve-restart');
    expect(first.status).toBe(200);
    await continuedAsNew(conversationId);

    const { app } = createApp({ db: env.stack.db, temporal: env.stack.client, taskQueue: env.stack.taskQueue, platformApiKey: env.stack.platformKey, log: quietLog });
    const server: Server = await new Promise((done) => {
      const s = app.listen(0, '127.0.0.1', () => done(s));
    });
    try {
      const restarted = new Http(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const retried = await resolve(restarted, conversationId, account.keys.agent, 'resolve-restart');
      expect(retried.status).toBe(200);
      expect(retried.body).toEqual(first.body);
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });

  test('a rejection is replayed too: the same status and error body', async () => {
    const { conversationId } = await assignedConversation();
    const first = await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'mine?' }, account.keys.agent2, { 'idempotency-key': 'not-mine' });
    expect(first.status).toBe(403);
    // The assignee hands it over: the same request would now be accepted, but the key answers as first.
    const assign = await env.stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent2 }, account.keys.agent);
    expect(assign.status).toBe(200);
    const retried = await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'mine?' }, account.keys.agent2, { 'idempotency-key': 'not-mine' });
    expect(retried.status).toBe(403);
    expect(retried.body).toEqual(first.body);
  });

  test('the same key with another body is 409 conflict, and acts on nothing', async () => {
    const { conversationId } = await assignedConversation();
    const first = await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'one' }, account.keys.agent, { 'idempotency-key': 'reply-x' });
    expect(first.status).toBe(200);
    const other = await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'two' }, account.keys.agent, { 'idempotency-key': 'reply-x' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('conflict');
    const messages = (await env.stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages;
    expect(messages.map((m: { text: string | null }) => m.text)).not.toContain('two');
  });

  test('two concurrent requests with one key act once and get one answer', async () => {
    const { conversationId } = await assignedConversation();
    const path = conversationPath(account, conversationId, '/tags');
    const [a, b] = await Promise.all([0, 1].map(() => env.stack.http.post(path, { add: ['vip'] }, account.keys.agent, { 'idempotency-key': 'tag-once' })));
    // Either the second waited for the first's answer, or it was told the first is still in progress.
    const answers = [a!, b!].filter((r) => r.status === 200);
    expect(answers.length).toBeGreaterThanOrEqual(1);
    for (const r of [a!, b!]) expect([200, 409]).toContain(r.status);
    if (answers.length === 2) expect(answers[0]!.body).toEqual(answers[1]!.body);
  });

  test('an answer older than 24 hours is not replayed: the request acts again', async () => {
    const { conversationId } = await assignedConversation({ shortRuns: true });
    const first = await resolve(env.stack.http, conversationId, account.keys.agent, 'resolve-old');
    expect(first.status).toBe(200);
    // In the same run the update id would still answer the first result; in the next one it acts.
    await continuedAsNew(conversationId);
    await env.stack.db.collection('idempotency').updateMany({ accountId: account.id }, { $set: { createdAt: new Date(Date.now() - 25 * 3_600_000) } });
    const later = await resolve(env.stack.http, conversationId, account.keys.agent, 'resolve-old');
    expect(later.status).toBe(409);
    expect(later.body.error.code).toBe('conversation_closed');
  });

  describe('a request that never finished', () => {
    const agentScope = () => principalScope({ kind: 'user', accountId: account.id, userId: account.users.agent, role: 'agent' });
    /** A pending record as an API process leaves it when it dies mid-request, `ageMs` ago. */
    const leftPending = async (conversationId: string, key: string, ageMs: number) => {
      const path = conversationPath(account, conversationId, '/tags');
      await env.stack.db.collection('idempotency').insertOne({
        _id: recordIdOf(account.id, agentScope(), key) as never,
        accountId: account.id,
        principal: agentScope(),
        fingerprint: fingerprintOf('post', path, { add: ['left'] }),
        state: 'pending',
        response: null,
        createdAt: new Date(Date.now() - ageMs),
      });
      return () => env.stack.http.post(path, { add: ['left'] }, account.keys.agent, { 'idempotency-key': key });
    };

    test('is taken over once its lease is over: the retry acts', async () => {
      const { conversationId } = await assignedConversation();
      const retry = await leftPending(conversationId, 'died-long-ago', 5 * 60_000);
      const res = await retry();
      expect(res.status).toBe(200);
      expect(res.body.conversation.tags).toContain('left');
      expect((await retry()).headers.get('idempotent-replayed')).toBe('true');
    });

    test('is still in progress within its lease: a retry waits, then answers 409 conflict', async () => {
      const { conversationId } = await assignedConversation();
      const retry = await leftPending(conversationId, 'still-running', 0);
      const res = await retry();
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/in progress/) });
    });
  });

  describe('keys are scoped per principal', () => {
    test('two service keys of different names using one key act independently', async () => {
      const flows = await createAccount(env.stack, { preset: 'status_inbox' });
      const crm = await env.stack.http.post(`/v1/accounts/${flows.id}/service-keys`, { name: 'crm' }, env.stack.platformKey);
      expect(crm.status).toBe(201);
      const { conversationId } = await customerWrites(env.stack, flows, { customer: newCustomer() });
      const flow = (key: string, body: object) => env.stack.http.post(conversationPath(flows, conversationId, '/flow'), body, key, { 'idempotency-key': 'flow-1' });

      const started = await flow(flows.keys.service, { action: 'start' });
      expect(started.status).toBe(200);
      expect(started.body.conversation.status).toBe('in_flow');
      const ended = await flow(crm.body.apiKey, { action: 'end', assignTo: { userId: flows.users.agent } });
      expect(ended.status).toBe(200);
      expect(ended.headers.get('idempotent-replayed')).toBeNull();
      expect(ended.body.conversation).toMatchObject({ status: 'assigned', assigneeId: flows.users.agent });
    });

    test('two service keys with the same name using one key act independently; a key rotated from one keeps its replays', async () => {
      const twins = await createAccount(env.stack);
      const twin = await env.stack.http.post(`/v1/accounts/${twins.id}/service-keys`, { name: 'backend' }, env.stack.platformKey); // the name of twins.keys.service
      expect(twin.status).toBe(201);
      const send = (key: string, customer: string) =>
        env.stack.http.post(`/v1/accounts/${twins.id}/messages`, { channel: 'wa-main', customer, messageId: `wamid.${customer}`, text: 'hi' }, key, { 'idempotency-key': 'msg-1' });
      const [customerA, customerB] = [newCustomer(), newCustomer()];
      const first = await send(twins.keys.service, customerA);
      expect(first.status).toBe(202);
      const second = await send(twin.body.apiKey, customerB);
      expect([second.status, second.headers.get('idempotent-replayed')]).toEqual([202, null]);
      expect(second.body.conversationId).not.toBe(first.body.conversationId);

      // Rotated: the new key is the same caller, so the first key's request retried with it is replayed.
      const listed = (await env.stack.http.get(`/v1/accounts/${twins.id}/service-keys`, env.stack.platformKey)).body.items;
      const rotated = await env.stack.http.post(`/v1/accounts/${twins.id}/service-keys/${listed[0].id}/rotate`, { gracePeriod: '1h' }, env.stack.platformKey);
      expect(rotated.status).toBe(201);
      const retried = await send(rotated.body.apiKey, customerA);
      expect([retried.status, retried.headers.get('idempotent-replayed'), retried.body]).toEqual([202, 'true', first.body]);
    });

    test('a user of one account and a user with the same id in another, with one key, act independently (sign-out)', async () => {
      const other = await createAccount(env.stack);
      expect(other.users.agent).toBe(account.users.agent);
      const signIn = async (key: string) => {
        const res = await env.stack.http.post('/v1/sessions', {}, key);
        expect(res.status).toBe(201);
        return /convoflow_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
      };
      const [mine, theirs] = [await signIn(account.keys.agent), await signIn(other.keys.agent)];
      const signOut = (token: string) =>
        env.stack.http.request('DELETE', '/v1/sessions/current', { headers: { cookie: `convoflow_session=${token}`, 'x-convoflow-csrf': '1', 'idempotency-key': 'sign-out' } });
      expect((await signOut(mine)).status).toBe(200);
      const second = await signOut(theirs);
      expect([second.status, second.headers.get('idempotent-replayed')]).toEqual([200, null]);
      expect((await env.stack.http.request('GET', '/v1/me', { headers: { cookie: `convoflow_session=${theirs}` } })).status).toBe(401);
    });

    test('two users using one key act independently', async () => {
      const { conversationId } = await assignedConversation();
      const path = conversationPath(account, conversationId, '/tags');
      const byAgent = await env.stack.http.post(path, { add: ['a'] }, account.keys.agent, { 'idempotency-key': 'same' });
      const byManager = await env.stack.http.post(path, { add: ['a'] }, account.keys.manager, { 'idempotency-key': 'same' });
      expect(byAgent.status).toBe(200);
      expect(byManager.status).toBe(200);
      expect(byManager.headers.get('idempotent-replayed')).toBeNull();
    });
  });

  describe('answers that hold a secret', () => {
    /** Every stored idempotency record of the account, as text: what anyone reading the database sees. */
    const storedRecords = async (accountId: string) => JSON.stringify(await env.stack.db.collection('idempotency').find({ accountId }).toArray());

    test('a stream ticket minted with an Idempotency-Key is stored sealed, and a retry answers the same ticket', async () => {
      const owner = await createAccount(env.stack);
      const mint = () => env.stack.http.post(`/v1/accounts/${owner.id}/stream-tickets`, {}, owner.keys.agent, { 'idempotency-key': 'ticket-1' });
      const first = await mint();
      expect(first.status).toBe(201);
      const records = await storedRecords(owner.id);
      expect(records).toContain('"sealed":true');
      expect(records).not.toContain(first.body.token);
      const retried = await mint();
      expect([retried.status, retried.headers.get('idempotent-replayed'), retried.body]).toEqual([201, 'true', first.body]);
    });

    test('creating a service key retried with the same Idempotency-Key answers the same key and makes no second one; the record holds no key', async () => {
      const owner = await createAccount(env.stack);
      const create = () => env.stack.http.post(`/v1/accounts/${owner.id}/service-keys`, { name: 'retried' }, owner.keys.admin, { 'idempotency-key': 'svc-1' });
      const first = await create();
      expect(first.status).toBe(201);
      const retried = await create();
      expect([retried.status, retried.headers.get('idempotent-replayed'), retried.body]).toEqual([201, 'true', first.body]);
      const listed = (await env.stack.http.get(`/v1/accounts/${owner.id}/service-keys`, owner.keys.admin)).body.items;
      expect(listed.filter((k: { name: string }) => k.name === 'retried')).toHaveLength(1);
      expect(await storedRecords(owner.id)).not.toContain(first.body.apiKey);
    });

    test('a rotation retried with the same key answers the same new key; retried with another credential of the user it is 409 and rotates nothing', async () => {
      const owner = await createAccount(env.stack);
      const rotate = (key: string) => env.stack.http.post(`/v1/accounts/${owner.id}/users/${owner.users.agent}/keys/rotate`, { gracePeriod: '1h' }, key, { 'idempotency-key': 'rotate-1' });
      const first = await rotate(owner.keys.agent);
      expect(first.status).toBe(201);
      expect((await rotate(owner.keys.agent)).body).toEqual(first.body);
      const otherCredential = await rotate(first.body.apiKey);
      expect([otherCredential.status, otherCredential.body.error.code, otherCredential.body.apiKey]).toEqual([409, 'conflict', undefined]);
      const keys = (await env.stack.http.get(`/v1/accounts/${owner.id}/users/${owner.users.agent}/keys`, first.body.apiKey)).body.items;
      expect(keys.map((k: { id: string }) => k.id).sort()).toEqual([first.body.key.id, first.body.previous[0].id].sort());
      expect(await storedRecords(owner.id)).not.toContain(first.body.apiKey);
    });
  });

  test('a malformed Idempotency-Key is 400', async () => {
    const { conversationId } = await assignedConversation();
    const res = await env.stack.http.post(conversationPath(account, conversationId, '/tags'), { add: ['a'] }, account.keys.agent, { 'idempotency-key': 'has space' });
    expect(res.status).toBe(400);
  });
});
