import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import type { OutboundMessage } from '../../channels/types';
import { freePort } from '../../dev/free-port';
import type { NodeChild } from '../../dev/node-child';
import { spawnNodeChild } from '../../dev/node-child';
import type { campaignSendWorkflow } from '../../workflows/campaign/workflow';
import { campaignSendWorkflowType } from '../../workflows/campaign/ids';
import { eventually } from '../support/stack';
import { testServers } from '../support/test-servers';

/**
 * The worker process serves Prometheus metrics on WORKER_METRICS_PORT (issue 11, item 8): the SDK's own
 * and convoflow's. `Runtime.install` is process-global, so this runs the real worker as its own process
 * (worker/main.ts) rather than in jest's.
 */
describe('worker metrics', () => {
  const servers = testServers();
  const suffix = randomUUID().slice(0, 8);
  const taskQueue = `metrics-${suffix}`;
  const database = `metrics_${suffix}`;
  let port: number;
  let worker: NodeChild;
  let connection: Connection;
  let client: Client;
  let mongo: MongoClient;
  const logFile = path.join(servers.runDir, `worker-metrics-${suffix}.log`);

  beforeAll(async () => {
    port = await freePort();
    worker = spawnNodeChild({
      name: 'worker',
      script: path.resolve(__dirname, '../../worker/main.ts'),
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: servers.temporalAddress,
        MONGODB_URI: servers.mongoUri,
        MONGODB_DATABASE: database,
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKER_METRICS_PORT: String(port),
        WHATSAPP_GRAPH_URL: 'http://127.0.0.1:9',
        // The webhook channel below points at a closed port on loopback over http: a retry, not a forbidden destination.
        OUTBOUND_ALLOW_PRIVATE: 'true',
        LOG_LEVEL: 'warn',
      },
      logFile,
    });
    await worker.ready;
    connection = await Connection.connect({ address: servers.temporalAddress });
    client = new Client({ connection, namespace: 'default' });
    mongo = await MongoClient.connect(servers.mongoUri);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await connection?.close();
    await mongo?.db(database).dropDatabase().catch(() => undefined);
    await mongo?.close();
    fs.rmSync(logFile, { force: true });
  });

  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  /** A sample line of `name` whose labels include every one of `labels`. */
  const sample = (text: string, name: string, labels: Record<string, string>) =>
    text
      .split('\n')
      .find((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)));

  const campaignSend = (accountId: string, channel: string): OutboundMessage => {
    const id = `campaign/${accountId}/c1/${channel}/4915100000001`;
    return { deliveryId: id, accountId, channel, customer: '4915100000001', conversationId: null, messageId: id, campaignId: 'c1', content: { kind: 'template', template: { name: 'hello' } }, replyTo: null };
  };

  test("the SDK's task latencies, slots and sticky cache, and sends by provider and outcome, in Prometheus format", async () => {
    const message = campaignSend('acct-metrics', 'wa-main');
    const outcome = await client.workflow.execute<typeof campaignSendWorkflow>(campaignSendWorkflowType, { workflowId: `metrics-${suffix}-1`, taskQueue, args: [message] });
    expect(outcome.outcome).toBe('sent');

    const text = await eventually(async () => {
      const t = await scrape();
      return sample(t, 'convoflow_sends_total', { provider: 'recording', outcome: 'sent' }) ? t : undefined;
    });
    expect(sample(text, 'convoflow_sends_total', { provider: 'recording', outcome: 'sent' })).toMatch(/ 1$/);
    expect(text).toMatch(/^temporal_workflow_task_execution_latency_(bucket|seconds_bucket)\{/m);
    expect(text).toMatch(/^temporal_activity_execution_latency_(bucket|seconds_bucket)\{/m);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
    expect(text).toMatch(/^temporal_sticky_cache_size\{/m);
  });

  test('an activity that fails and retries is counted, by activity type', async () => {
    // A webhook channel whose backend refuses connections: the send is a transient failure, retried.
    const accountId = 'acct-refused';
    await mongo
      .db(database)
      .collection('channels')
      .insertOne({ _id: `${accountId}/wa-down` as never, accountId, channel: 'wa-down', config: { provider: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16-chars' }, createdAt: new Date(), updatedAt: new Date() });
    const handle = await client.workflow.start<typeof campaignSendWorkflow>(campaignSendWorkflowType, { workflowId: `metrics-${suffix}-2`, taskQueue, args: [campaignSend(accountId, 'wa-down')] });
    try {
      const text = await eventually(async () => {
        const t = await scrape();
        return sample(t, 'convoflow_activity_retries_total', { activity_type: 'deliver' }) ? t : undefined;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      expect(sample(text, 'convoflow_activity_failures_total', { activity_type: 'deliver', failure: 'retryable' })).toBeDefined();
      expect(sample(text, 'convoflow_sends_total', { provider: 'webhook', outcome: 'retry' })).toBeDefined();
    } finally {
      await handle.terminate('test done');
    }
  });
});
