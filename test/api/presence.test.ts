import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { MongoClient } from 'mongodb';
import { createApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import type { PresenceOptions } from '../../api/presence-rule';
import type { Stack } from '../support/stack';
import { eventually, quietLog } from '../support/stack';
import type { Account } from '../support/scenario';
import { useStackWithAccount } from '../support/scenario';
import type { SseEvent } from '../support/sse-client';
import { SseClient } from '../support/sse-client';
import { testServers } from '../support/test-servers';

/**
 * Issue 22, items 4 and 15: presence on the stream, and presence that follows the person's tabs, across
 * API processes. Grace, staleness and sweeps are short here so that each test runs in seconds; every
 * process of a deployment runs with the same settings, so the stack's API gets them too.
 */
const fast: PresenceOptions = { awayAfterMs: 60_000, offlineGraceMs: 1_500, tabStaleMs: 2_000, tabRefreshMs: 250, sweepMs: 200 };

describe('presence', () => {
  let stack: Stack;
  let account: Account;
  const env = useStackWithAccount();
  const clients: SseClient[] = [];
  const processes: { server: Server; deps: ApiDeps; base: string; stop(): Promise<void> }[] = [];

  /** Another API process on the same database (its own hub and sweep); `db`: its own connection, to lose it. */
  async function apiProcess(db = stack.db) {
    const { app, deps } = createApp({ db, temporal: stack.client, taskQueue: stack.taskQueue, platformApiKey: stack.platformKey, log: quietLog, stream: { presence: fast } });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const entry = {
      server,
      deps,
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      async stop() {
        deps.streams.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    processes.push(entry);
    return entry;
  }

  beforeAll(async () => {
    ({ stack, account } = env);
    // The stack's own API process sweeps too (every 10 s by default): it decides with the same settings.
    Object.assign(stack.apiDeps.streams.presence, fast);
    // A second process whose sweep runs every 200 ms: it is the one that notices tabs going away.
    await apiProcess();
  });
  afterAll(async () => {
    for (const p of processes.splice(0)) await p.stop();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  async function stream(key: string, options: { tabId?: string; base?: string } = {}): Promise<SseClient> {
    const query = options.tabId ? `?tabId=${options.tabId}` : '';
    const client = await SseClient.open(`${options.base ?? stack.baseUrl}/v1/accounts/${account.id}/stream${query}`, { authorization: `Bearer ${key}` });
    clients.push(client);
    await client.next((e) => e.type === 'ready');
    return client;
  }
  const presenceEvent = (userId: string, presence?: string) => (e: SseEvent) => e.type === 'presence' && e.data.userId === userId && (presence === undefined || e.data.presence === presence);
  const presenceOf = async (userId: string) => {
    const users = await stack.http.get(`/v1/accounts/${account.id}/users`, account.keys.owner);
    return (users.body.users as { id: string; presence: string }[]).find((u) => u.id === userId)!.presence;
  };
  const choose = (userId: string, status: string, key: string) => stack.http.request('PUT', `/v1/accounts/${account.id}/users/${userId}/presence`, { key, body: { status } });
  const beat = (key: string, tabId: string, active: boolean) => stack.http.post(`/v1/accounts/${account.id}/presence-heartbeats`, { tabId, active }, key);

  test('a presence chosen by hand goes on the stream as a presence event, and automatic hands it back to the tabs', async () => {
    const watcher = await stream(account.keys.owner);
    expect((await choose(account.users.agent, 'away', account.keys.agent)).status).toBe(200);
    const away = await watcher.next(presenceEvent(account.users.agent));
    expect(away.data).toEqual({ userId: account.users.agent, presence: 'away', manual: true, at: expect.any(String) });
    expect(away.id).toMatch(/^\d+\.0$/);
    expect((await choose(account.users.agent, 'automatic', account.keys.agent)).body.user.presence).toBe('offline');
    expect((await watcher.next(presenceEvent(account.users.agent))).data).toMatchObject({ presence: 'offline', manual: false });
  });

  test('a tab connecting makes its user online; the last tab going away makes them offline after the grace time', async () => {
    const watcher = await stream(account.keys.owner);
    const user = account.users.agent2;
    expect(await presenceOf(user)).toBe('offline');
    const tab = await stream(account.keys.agent2, { tabId: 'tab-a' });
    await watcher.next(presenceEvent(user, 'online'));
    expect(await presenceOf(user)).toBe('online');
    // A stream without a tab id (an API client) says nothing about presence: closing it changes nothing.
    (await stream(account.keys.agent2)).close();
    tab.close();
    const closedAt = Date.now();
    const offline = await watcher.next(presenceEvent(user), 15_000);
    expect(offline.data.presence).toBe('offline');
    expect(Date.parse(offline.data.at) - closedAt).toBeGreaterThanOrEqual(fast.offlineGraceMs - 100);
    expect(await presenceOf(user)).toBe('offline');
  });

  test('a reload inside the grace time does not flap', async () => {
    const watcher = await stream(account.keys.owner);
    const user = account.users.admin;
    const first = await stream(account.keys.admin, { tabId: 'tab-r' });
    await watcher.next(presenceEvent(user, 'online'));
    const tabs = stack.db.collection('presence_tabs');
    const [old] = await tabs.find({ userId: user, accountId: account.id }).toArray();
    first.close();
    await stream(account.keys.admin, { tabId: 'tab-r', base: processes[0]!.base });
    // The fact that the grace time has passed and been swept: the closed stream's document is deleted
    // (after grace and staleness), and the new one is there. No change of this user may have happened.
    await eventually(async () => {
      const now = await tabs.find({ userId: user, accountId: account.id }).toArray();
      return now.length === 1 && now[0]!._id !== old!._id ? true : undefined;
    });
    expect(watcher.events.filter(presenceEvent(user)).map((e) => e.data.presence)).toEqual(['online']);
    expect(await presenceOf(user)).toBe('online');
  });

  test("when the API process holding a user's tab dies, another process's sweep takes them offline", async () => {
    const watcher = await stream(account.keys.manager);
    const user = account.users.owner;
    // A process with its own database connection, which it then loses without closing anything.
    const mongo = await MongoClient.connect(testServers().mongoUri, { serverSelectionTimeoutMS: 500 });
    const doomed = await apiProcess(mongo.db(stack.db.databaseName));
    await stream(account.keys.owner, { tabId: 'tab-d', base: doomed.base });
    await watcher.next(presenceEvent(user, 'online'));
    await mongo.close(true);
    const offline = await watcher.next(presenceEvent(user), 20_000);
    expect(offline.data).toMatchObject({ presence: 'offline', manual: false });
  });

  test('a manual choice holds over tabs until automatic; then heartbeats say online or away', async () => {
    const watcher = await stream(account.keys.owner);
    const user = account.users.manager;
    expect((await choose(user, 'away', account.keys.manager)).status).toBe(200);
    await watcher.next(presenceEvent(user, 'away'));
    await stream(account.keys.manager, { tabId: 'tab-m' });
    // The probe: a heartbeat answers the presence after the rule ran for the open tab.
    expect((await beat(account.keys.manager, 'tab-m', true)).body).toEqual({ userId: user, presence: 'away', manual: true });
    expect(watcher.events.filter(presenceEvent(user)).map((e) => e.data.presence)).toEqual(['away']);

    expect((await choose(user, 'automatic', account.keys.manager)).body.user.presence).toBe('online');
    expect((await beat(account.keys.manager, 'tab-m', false)).body).toEqual({ userId: user, presence: 'away', manual: false });
    expect((await beat(account.keys.manager, 'tab-m', true)).body).toEqual({ userId: user, presence: 'online', manual: false });
    for (const [presence, manual] of [
      ['online', false],
      ['away', false],
      ['online', false],
    ] as const) {
      expect((await watcher.next(presenceEvent(user))).data).toMatchObject({ presence, manual });
    }
    expect((await beat(account.keys.service, 'tab-m', true)).status).toBe(403);
    expect((await beat(account.keys.manager, 'bad tab id!', true)).status).toBe(400);
  });
});
