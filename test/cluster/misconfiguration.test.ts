import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { MongoClient } from 'mongodb';
import { createApp } from '../../api/app';
import { toolVersions } from '../../dev/tools';
import { ensureIndexes } from '../../store/collections';
import { Http, quietLog } from '../support/stack';
import { testServers } from '../support/test-servers';

/**
 * What the API answers when the cluster is not set up for convoflow (a process started past the start-up
 * check, or a cluster changed under a running one): the real server's errors, mapped to 503 `unavailable`
 * with what Temporal said and the fix, never 500 `internal`.
 */
describe('an API on a cluster that is not set up for convoflow', () => {
  const platformKey = `platform-${randomUUID()}`;
  let connection: Connection;
  let mongo: MongoClient;
  const servers: Server[] = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address: testServers().temporalAddress });
    mongo = await MongoClient.connect(testServers().mongoUri);
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await connection.close();
    await mongo.close();
  });

  async function apiOn(namespace: string): Promise<Http> {
    const db = mongo.db(`misconf_${randomUUID().slice(0, 8)}`);
    await ensureIndexes(db);
    const { app } = createApp({ db, temporal: new Client({ connection, namespace }), taskQueue: `misconf-${randomUUID().slice(0, 8)}`, platformApiKey: platformKey, log: quietLog });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    servers.push(server);
    return new Http(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  /** Creates an account and delivers a customer message; returns the first answer that is not a success. */
  async function firstFailure(http: Http) {
    const id = `acme-${randomUUID().slice(0, 6)}`;
    const steps = [
      () => http.post('/v1/accounts', { id, name: 'Acme' }, platformKey),
      () => http.post(`/v1/accounts/${id}/service-keys`, { name: 'wa' }, platformKey),
    ];
    let serviceKey = '';
    for (const step of steps) {
      const res = await step();
      if (res.status >= 300) return res;
      if (res.body?.apiKey) serviceKey = res.body.apiKey as string;
    }
    return http.post(`/v1/accounts/${id}/messages`, { channel: 'wa-main', customer: '4915112345678', messageId: 'wamid.1', text: 'Hi' }, serviceKey);
  }

  it('answers 503 unavailable naming the unregistered search attribute and the setup command', async () => {
    const namespace = `bare-${randomUUID().slice(0, 8)}`;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const http = await apiOn(namespace);
    // A new namespace reaches every service's cache within a second here (dynamic config of the tier).
    let res = await firstFailure(http);
    for (let i = 0; i < 20 && res.status === 503 && /does not exist|not found/i.test(res.body?.error?.message ?? ''); i++) {
      await new Promise((r) => setTimeout(r, 500));
      res = await firstFailure(http);
    }
    process.stderr.write(`[misconfiguration] unregistered search attributes: HTTP ${res.status} ${JSON.stringify(res.body)}\n`);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    expect(res.body.error.message).toMatch(/search attribute/i);
    expect(res.body.error.message).toMatch(/setup:temporal/);
  });

  it('answers 503 unavailable naming the namespace that does not exist', async () => {
    const namespace = `absent-${randomUUID().slice(0, 8)}`;
    const res = await firstFailure(await apiOn(namespace));
    process.stderr.write(`[misconfiguration] missing namespace: HTTP ${res.status} ${JSON.stringify(res.body)}\n`);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    expect(res.body.error.message).toContain(namespace);
    expect(res.body.error.message).toMatch(/setup:temporal/);
  });
});

describe('the cluster tier', () => {
  it('runs the server version pinned in dev/tools.ts (and so in docker-compose.yml)', async () => {
    const connection = await Connection.connect({ address: testServers().temporalAddress });
    try {
      expect((await connection.workflowService.getSystemInfo({})).serverVersion).toBe(toolVersions.temporalServer);
    } finally {
      await connection.close();
    }
  });
});
