import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createApp } from '../../api/app';
import type { AppOptions } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { csrfHeaderName, sessionCookieName } from '../../api/cookies';
import { hashApiKey } from '../../api/keys';
import type { Stack } from '../support/stack';
import { Http, eventually, quietLog } from '../support/stack';
import type { Account } from '../support/scenario';
import { useStackWithAccount } from '../support/scenario';
import { SseClient } from '../support/sse-client';

/** A second API process: its own app, hub and guard, on the same database, as a scaled-out deployment runs them. */
async function secondApi(stack: Stack, stream: AppOptions['stream'] = {}): Promise<{ base: string; http: Http; deps: ApiDeps; stop: () => Promise<void> }> {
  const { app, deps } = createApp({ db: stack.db, temporal: stack.client, taskQueue: stack.taskQueue, platformApiKey: stack.platformKey, log: quietLog, stream });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    http: new Http(base),
    deps,
    stop: async () => {
      deps.streams.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** SPEC section 12: streams end with their credential, in every API process; they are capped and bounded. */
describe('stream limits and revocation', () => {
  let stack: Stack;
  let account: Account;
  let b: Awaited<ReturnType<typeof secondApi>>;
  const env = useStackWithAccount();
  beforeAll(async () => {
    ({ stack, account } = env);
    b = await secondApi(stack, { guard: { sweepMs: 200 } });
  });
  afterAll(async () => {
    await b?.stop();
  });
  const clients: SseClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  const streamUrl = (base: string, query = '') => `${base}/v1/accounts/${account.id}/stream${query}`;
  async function open(base: string, headers: Record<string, string>, query = ''): Promise<SseClient> {
    const client = await SseClient.open(streamUrl(base, query), headers);
    clients.push(client);
    await client.next((e) => e.type === 'ready');
    return client;
  }
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  /** The stream ends by itself (the server closed it) and its last event says why. */
  async function endsWith(client: SseClient, reason: string): Promise<void> {
    await client.closed;
    expect(client.events.at(-1)).toMatchObject({ type: 'end', data: { reason } });
  }

  async function newUser(role = 'agent'): Promise<{ userId: string; key: string }> {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const res = await stack.http.post(`/v1/accounts/${account.id}/users`, { id: userId, name: userId, role }, stack.platformKey);
    expect(res.status).toBe(201);
    return { userId, key: res.body.apiKey };
  }
  const keyPath = (userId: string, key: string) => `/v1/accounts/${account.id}/users/${userId}/keys/${hashApiKey(key).slice(0, 16)}`;
  const mintTicket = (key: string, via = stack.http) => via.post(`/v1/accounts/${account.id}/stream-tickets`, {}, key);

  test('revoking a key ends the streams opened with it or with its ticket, in another API process, and the key answers 401 there at once', async () => {
    const { userId, key } = await newUser();
    // Process B has resolved this key before: what it remembers must not let it in once revoked.
    expect((await b.http.get('/v1/me', key)).status).toBe(200);
    const direct = await open(b.base, bearer(key));
    const ticket = await mintTicket(key);
    const byTicket = await open(b.base, {}, `?token=${ticket.body.token}`);
    const unused = await mintTicket(key);

    const started = Date.now();
    expect((await stack.http.request('DELETE', keyPath(userId, key), { key: stack.platformKey })).status).toBe(200);
    expect((await b.http.get('/v1/me', key)).status).toBe(401);
    // Refused once, it is not recalled in a later outage of the database either.
    expect(b.deps.lastKnown.recall(hashApiKey(key))).toBeUndefined();
    await endsWith(direct, 'key_revoked');
    await endsWith(byTicket, 'key_revoked');
    expect(Date.now() - started).toBeGreaterThanOrEqual(0);
    // A ticket minted with the key before it was revoked opens nothing afterwards.
    await expect(SseClient.open(streamUrl(b.base, `?token=${unused.body.token}`), {})).rejects.toMatchObject({ status: 401 });
  });

  test('a key revoked through one API process is forgotten by the memory another keeps for outages, with no request there', async () => {
    const { userId, key } = await newUser();
    const other = await newUser();
    expect((await b.http.get('/v1/me', key)).status).toBe(200);
    expect((await b.http.get('/v1/me', other.key)).status).toBe(200);
    expect(b.deps.lastKnown.recall(hashApiKey(key))).toBeDefined();
    expect((await stack.http.request('DELETE', keyPath(userId, key), { key: stack.platformKey })).status).toBe(200);
    expect((await stack.http.patch(`/v1/accounts/${account.id}/users/${other.userId}`, { active: false }, account.keys.owner)).status).toBe(200);
    // Process B's re-check reads the keys and users it remembers: during an outage it would recall neither.
    await eventually(async () => (b.deps.lastKnown.recall(hashApiKey(key)) === undefined && b.deps.lastKnown.recall(hashApiKey(other.key)) === undefined ? true : undefined));
  });

  test("deactivating a user ends their streams, key-opened and ticket-opened, in every API process", async () => {
    const { userId, key } = await newUser();
    const onA = await open(stack.baseUrl, bearer(key));
    const onB = await open(b.base, {}, `?token=${(await mintTicket(key)).body.token}`);
    expect((await stack.http.patch(`/v1/accounts/${account.id}/users/${userId}`, { active: false }, account.keys.owner)).status).toBe(200);
    await endsWith(onA, 'user_inactive');
    await endsWith(onB, 'user_inactive');
  });

  test('rotating a key without a grace period ends its streams; with one, they last until it is over', async () => {
    const { userId, key } = await newUser();
    const stream = await open(b.base, bearer(key));
    const byTicket = await open(b.base, {}, `?token=${(await mintTicket(key)).body.token}`);
    const rotated = await stack.http.post(`/v1/accounts/${account.id}/users/${userId}/keys/rotate`, {}, stack.platformKey);
    expect(rotated.status).toBe(201);
    await endsWith(stream, 'key_revoked');
    await endsWith(byTicket, 'key_revoked');

    const graced = await open(b.base, bearer(rotated.body.apiKey));
    const started = Date.now();
    expect((await stack.http.post(`/v1/accounts/${account.id}/users/${userId}/keys/rotate`, { gracePeriod: '2s' }, stack.platformKey)).status).toBe(201);
    await endsWith(graced, 'key_expired');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  test('signing out ends the streams opened with the session cookie or with a ticket it minted', async () => {
    const { key } = await newUser();
    const signIn = await stack.http.post('/v1/sessions', {}, key);
    expect(signIn.status).toBe(201);
    const token = signIn.headers.getSetCookie().find((c) => c.startsWith(`${sessionCookieName}=`))!.split(';')[0]!.split('=')[1]!;
    const cookie = { cookie: `${sessionCookieName}=${token}` };
    const byCookie = await open(b.base, cookie);
    const ticket = await stack.http.post(`/v1/accounts/${account.id}/stream-tickets`, {}, undefined, { ...cookie, [csrfHeaderName]: '1' });
    expect(ticket.status).toBe(201);
    const byTicket = await open(b.base, {}, `?token=${ticket.body.token}`);
    expect((await stack.http.request('DELETE', '/v1/sessions/current', { headers: { ...cookie, [csrfHeaderName]: '1' } })).status).toBe(200);
    await endsWith(byCookie, 'session_ended');
    await endsWith(byTicket, 'session_ended');
  });

  test('a user holds at most 5 streams across API processes; one more answers 429 until one closes', async () => {
    const { key } = await newUser();
    const held = [await open(stack.baseUrl, bearer(key)), await open(stack.baseUrl, bearer(key)), await open(stack.baseUrl, bearer(key)), await open(b.base, bearer(key)), await open(b.base, bearer(key))];
    for (const base of [b.base, stack.baseUrl]) {
      const refused = await fetch(streamUrl(base), { headers: bearer(key) });
      expect(refused.status).toBe(429);
      expect((await refused.json()).error.code).toBe('rate_limited');
    }
    // /openapi.json names the refusal.
    const spec = (await stack.http.get('/openapi.json')).body;
    expect(spec.paths['/v1/accounts/{accountId}/stream'].get.responses['429']).toBeDefined();
    expect(spec.paths['/v1/accounts/{accountId}/stream-tickets'].post.responses['429']).toBeDefined();
    // Another user is not affected.
    await open(b.base, bearer(account.keys.agent2));
    held[0]!.close();
    await eventually(async () => {
      const res = await fetch(streamUrl(b.base), { headers: bearer(key) });
      if (res.status === 200) {
        await res.body?.cancel();
        return true;
      }
      await res.body?.cancel();
      return undefined;
    });
  });

  test("a dead API process's streams stop counting once their leases expire, and sweeps delete them", async () => {
    const { userId, key } = await newUser();
    const leases = stack.db.collection('stream_subscriptions');
    const owner = `user/${encodeURIComponent(account.id)}/${encodeURIComponent(userId)}`;
    // Five streams of a process that died a minute ago: never renewed, never released.
    const dead = Array.from({ length: 5 }, () => ({ _id: `${owner}/${randomUUID()}`, owner, accountId: account.id, process: 'dead', openedAt: new Date(Date.now() - 90_000), leaseUntil: new Date(Date.now() - 60_000) }));
    await leases.insertMany(dead as never[]);
    await open(b.base, bearer(key));
    await eventually(async () => ((await leases.countDocuments({ process: 'dead' })) === 0 ? true : undefined));
  });

  test('a client that stops reading is disconnected once it falls more than 1 MiB behind', async () => {
    const other = await stack.http.post('/v1/accounts', { id: `acct-${randomUUID().slice(0, 8)}`, name: 'Slow' }, stack.platformKey);
    const accountId = other.body.id as string;
    const reader = await stack.http.post(`/v1/accounts/${accountId}/users`, { id: 'slow', name: 'slow', role: 'agent' }, stack.platformKey);
    let received = 0;
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${b.base}/v1/accounts/${accountId}/stream`, { headers: bearer(reader.body.apiKey) }, resolve).on('error', reject);
    });
    expect(response.statusCode).toBe(200);
    response.pause(); // never reads: the socket buffers fill, then the server's
    const ended = new Promise<void>((resolve) => {
      response.on('end', resolve);
      response.on('error', () => resolve());
      response.on('aborted', () => resolve());
    });
    await eventually(async () => (b.deps.streams.stats().clients === 1 ? true : undefined));
    const pad = 'x'.repeat(256 * 1024);
    let published = 0;
    // Entries of 256 KiB until the server lets this reader go; each handed out (or the reader gone) before the next.
    while (b.deps.streams.stats().clients > 0 && published < 400) {
      const seq = await b.deps.streams.publish(accountId, { type: 'read', pad } as never);
      published++;
      await eventually(async () => (b.deps.streams.stats().clients === 0 || b.deps.streams.handedOut(accountId) >= seq ? true : undefined));
    }
    expect(b.deps.streams.stats().clients).toBe(0);
    // The reader takes what was buffered, then sees the end: never all that was published.
    response.on('data', (chunk: Buffer) => (received += chunk.length));
    response.resume();
    await ended;
    expect(received).toBeLessThan(published * pad.length);
  });

  test('a Last-Event-ID more than 10,000 entries back gets reset, not a replay', async () => {
    const other = await stack.http.post('/v1/accounts', { id: `acct-${randomUUID().slice(0, 8)}`, name: 'Old' }, stack.platformKey);
    const accountId = other.body.id as string;
    const reader = await stack.http.post(`/v1/accounts/${accountId}/users`, { id: 'late', name: 'late', role: 'agent' }, stack.platformKey);
    for (let i = 0; i < 3; i++) await b.deps.streams.publish(accountId, { type: 'read', n: i } as never);
    // The head hint is written after the append answers: let it land, or it would overwrite the move below.
    await b.deps.streams.settled();
    // The log moved on 20,000 entries since (as if written; numbers 4..19,999 pruned).
    const entries = stack.db.collection('stream_entries');
    await entries.insertOne({ _id: `${accountId}/20000`, accountId, seq: 20_000, at: new Date(), notice: { type: 'read', n: 20_000 } } as never);
    await stack.db.collection('stream_heads').updateOne({ _id: accountId as never }, { $set: { seq: 20_000 } }, { upsert: true });
    const client = await SseClient.open(`${b.base}/v1/accounts/${accountId}/stream`, { ...bearer(reader.body.apiKey), 'last-event-id': '1' });
    clients.push(client);
    const ready = await client.next((e) => e.type === 'ready');
    expect(ready.id).toBe('20000');
    expect(client.events.map((e) => e.type)).toEqual(['reset', 'ready']);
  });

  test('a user holds at most 20 unused stream tickets; one more answers 429; expired ones are purged', async () => {
    const { userId, key } = await newUser();
    const tickets = stack.db.collection('stream_tickets');
    const expired = { _id: `expired-${randomUUID()}`, accountId: account.id, userId, expiresAt: new Date(Date.now() - 1_000) };
    await tickets.insertOne(expired as never);
    const first = await mintTicket(key);
    expect(first.status).toBe(201);
    // Purged on mint: the expired one is gone, and did not count.
    expect(await tickets.findOne({ _id: expired._id as never })).toBeNull();
    for (let i = 1; i < 20; i++) expect((await mintTicket(key)).status).toBe(201);
    const refused = await mintTicket(key);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    // Redeeming one frees its place.
    await open(stack.baseUrl, {}, `?token=${first.body.token}`);
    expect((await mintTicket(key)).status).toBe(201);

    // And each API process's sweep purges expired tickets with no mint at all.
    const again = { ...expired, _id: `expired-${randomUUID()}` };
    await tickets.insertOne(again as never);
    await eventually(async () => ((await tickets.findOne({ _id: again._id as never })) === null ? true : undefined));
  });
});
