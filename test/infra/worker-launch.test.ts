import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import type { OutboundMessage } from '../../channels/types';
import { spawnNodeChild } from '../../infra/node-child';
import type { campaignSendWorkflow } from '../../workflows/campaign/workflow';
import { campaignSendWorkflowType } from '../../workflows/campaign/ids';
import { testServers } from '../support/test-servers';
import { workerEnv, workerHeapMiB, workerMallocArenas, workerNodeArgs, workflowThreadPreload } from '../../infra/worker-launch';

const root = path.resolve(__dirname, '../..');

describe('worker launch settings', () => {
  it('caps the heap unless NODE_OPTIONS already chose a size', () => {
    const preload = ['--require', workflowThreadPreload];
    expect(workerNodeArgs({})).toEqual([`--max-old-space-size=${workerHeapMiB}`, ...preload]);
    expect(workerNodeArgs({ NODE_OPTIONS: '--enable-source-maps' })).toEqual([`--max-old-space-size=${workerHeapMiB}`, ...preload]);
    expect(workerNodeArgs({ NODE_OPTIONS: '--enable-source-maps --max-old-space-size=4096' })).toEqual(preload);
    expect(fs.existsSync(path.join(root, workflowThreadPreload))).toBe(true);
  });

  it('limits the malloc arenas unless the operator set their own limit', () => {
    expect(workerEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: String(workerMallocArenas) });
    expect(workerEnv({ MALLOC_ARENA_MAX: '8' }).MALLOC_ARENA_MAX).toBe('8');
  });

  it('is what `npm run worker` uses too', () => {
    const script = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.worker;
    expect(script).toBe(`MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-${workerMallocArenas}} exec node ${workerNodeArgs({}).join(' ')} --import tsx worker/main.ts`);
  });
});

/**
 * The preload in a real worker process, launched as the launchers do: a workflow that stays running (its
 * send to a refused webhook retries) answers the stack trace query only when the switch is on.
 */
describe('workflow stack traces in a launched worker', () => {
  const servers = testServers();
  const suffix = randomUUID().slice(0, 8);
  const database = `launch_${suffix}`;
  let connection: Connection;
  let client: Client;
  let mongo: MongoClient;

  beforeAll(async () => {
    connection = await Connection.connect({ address: servers.temporalAddress });
    client = new Client({ connection, namespace: 'default' });
    mongo = await MongoClient.connect(servers.mongoUri);
    const accountId = 'acct-launch';
    await mongo
      .db(database)
      .collection('channels')
      .insertOne({ _id: `${accountId}/wa-down` as never, accountId, channel: 'wa-down', config: { provider: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16-chars' }, createdAt: new Date(), updatedAt: new Date() });
  });

  afterAll(async () => {
    await connection?.close();
    await mongo?.db(database).dropDatabase().catch(() => undefined);
    await mongo?.close();
  });

  const stackTraceWith = async (stackTraces: 'true' | undefined): Promise<unknown> => {
    const taskQueue = `launch-${suffix}-${stackTraces ?? 'default'}`;
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: servers.temporalAddress,
      MONGODB_URI: servers.mongoUri,
      MONGODB_DATABASE: database,
      TEMPORAL_TASK_QUEUE: taskQueue,
      WHATSAPP_GRAPH_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'warn',
      WORKER_WORKFLOW_STACK_TRACES: stackTraces,
    };
    const logFile = path.join(servers.runDir, `worker-launch-${suffix}-${stackTraces ?? 'default'}.log`);
    const worker = spawnNodeChild({ name: 'worker', script: 'worker/main.ts', cwd: root, env: workerEnv(env), nodeArgs: workerNodeArgs(env), logFile });
    try {
      await worker.ready;
      const id = `campaign/acct-launch/c1/wa-down/4915100000001`;
      const message: OutboundMessage = { deliveryId: id, accountId: 'acct-launch', channel: 'wa-down', customer: '4915100000001', conversationId: null, messageId: id, campaignId: 'c1', kind: 'template', text: null, template: { name: 'hello' }, replyTo: null };
      const handle = await client.workflow.start<typeof campaignSendWorkflow>(campaignSendWorkflowType, { workflowId: `launch-${suffix}-${stackTraces ?? 'default'}`, taskQueue, args: [message] });
      try {
        return await handle.query<string>('__stack_trace').catch((error: unknown) => error);
      } finally {
        await handle.terminate('test done');
      }
    } finally {
      await worker.stop();
    }
  };

  it('are off by default: the query says so', async () => {
    const answer = await stackTraceWith(undefined);
    expect(answer).toBeInstanceOf(Error);
    expect(String((answer as Error).message)).toMatch(/stack traces are not enabled/);
  }, 120_000);

  it('are recorded with WORKER_WORKFLOW_STACK_TRACES=true', async () => {
    const answer = await stackTraceWith('true');
    expect(typeof answer).toBe('string');
    expect(answer).toMatch(/campaign/);
  }, 120_000);
});
