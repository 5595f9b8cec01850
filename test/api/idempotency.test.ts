import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from '../../api/app';
import { fingerprintOf, recordIdOf } from '../../api/idempotency';
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
    /** A pending record as an API process leaves it when it dies mid-request, `ageMs` ago. */
    const leftPending = async (conversationId: string, key: string, ageMs: number) => {
      const path = conversationPath(account, conversationId, '/tags');
      await env.stack.db.collection('idempotency').insertOne({
        _id: recordIdOf(account.id, `user:${account.users.agent}`, key) as never,
        accountId: account.id,
        principal: `user:${account.users.agent}`,
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

  test('a malformed Idempotency-Key is 400', async () => {
    const { conversationId } = await assignedConversation();
    const res = await env.stack.http.post(conversationPath(account, conversationId, '/tags'), { add: ['a'] }, account.keys.agent, { 'idempotency-key': 'has space' });
    expect(res.status).toBe(400);
  });
});
