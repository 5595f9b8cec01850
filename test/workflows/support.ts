import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
// Not re-exported from the package root; this is the module the SDK's own replay samples import.
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { UpdateDefinition } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { createDeliveryActivities } from '../../activities/delivery-activities';
import { createConversationActivities } from '../../activities/conversation-activities';
import { collections, ensureIndexes } from '../../store/collections';
import type { Actor } from '../../workflows/conversation/core/lifecycle';
import type { ActionResult, ConversationRef, CustomerMessagePayload } from '../../workflows/conversation/messages';
import { conversationQuery, conversationWorkflowId, customerMessageSignal } from '../../workflows/conversation/messages';
import type { Policy } from '../../workflows/conversation/core/policy';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import type { ConversationView } from '../../workflows/conversation/core/view';
import type { ConversationWorkflowInput } from '../../workflows/conversation/messages';
import type { conversationWorkflow } from '../../workflows/conversation/workflow';
import { registerSearchAttributes } from '../../infra/temporal-setup';
import { quietLog, sharedBundle, unreachableGraphUrl } from '../support/stack';
import { testServers } from '../support/test-servers';
import type { TestServers } from '../support/test-servers';

/**
 * A real worker (shared bundle, real activities on its own FerretDB database) on its own task queue,
 * against either the time-skipping test server (timers) or the shared dev server (updates, history,
 * visibility). No API: tests talk to the workflow the way the API does, through the Temporal client.
 */
export interface Harness {
  client: Client;
  db: Db;
  taskQueue: string;
  accountId: string;
  /** Only on the time-skipping server: moves its clock. */
  env?: TestWorkflowEnvironment;
  /** A conversation of this harness's account with a customer of its own. */
  conversation(opts?: { limits?: ConversationWorkflowInput['limits'] }): Conversation;
  stop(): Promise<void>;
}

export const users = {
  agent: { kind: 'user', userId: 'agent-1', role: 'agent' },
  agent2: { kind: 'user', userId: 'agent-2', role: 'agent' },
  manager: { kind: 'user', userId: 'manager-1', role: 'manager' },
} as const satisfies Record<string, Actor>;

export interface HarnessOptions {
  server: 'time-skipping' | 'dev';
  /** The account's policy in MongoDB; the default one otherwise. */
  policy?: Policy;
  /** Where the servers are; jest's global setup (testServers()) unless given, e.g. by the history recorder. */
  servers?: Pick<TestServers, 'temporalAddress' | 'mongoUri' | 'temporalTestServer'>;
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const servers = opts.servers ?? testServers();
  const suffix = randomUUID().slice(0, 8);
  const taskQueue = `wf-${suffix}`;
  const accountId = `acct-${suffix}`;

  const mongo = await MongoClient.connect(servers.mongoUri, { serverSelectionTimeoutMS: 3_000 });
  const db = mongo.db(`wf_${suffix}`);
  await ensureIndexes(db);
  await collections(db).accounts.insertOne({ _id: accountId, name: accountId, policy: opts.policy ?? defaultPolicy, createdAt: new Date() });

  let env: TestWorkflowEnvironment | undefined;
  let client: Client;
  let nativeConnection: NativeConnection;
  let connection: Connection | undefined;
  if (opts.server === 'time-skipping') {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: servers.temporalTestServer } },
    });
    // Unlike the dev server, the test server starts with no custom search attributes and rejects an
    // upsert of an unknown one. It implements AddSearchAttributes but not ListSearchAttributes.
    await registerSearchAttributes(env.connection, 'default');
    client = env.client;
    nativeConnection = env.nativeConnection;
  } else {
    connection = await Connection.connect({ address: servers.temporalAddress });
    client = new Client({ connection, namespace: 'default' });
    nativeConnection = await NativeConnection.connect({ address: servers.temporalAddress });
  }

  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: await sharedBundle(),
    activities: {
      ...createConversationActivities({ db, log: quietLog }),
      ...createDeliveryActivities({ db, log: quietLog, graphUrl: unreachableGraphUrl }),
    },
  });
  const running = worker.run();

  let customers = 0;
  return {
    client,
    db,
    taskQueue,
    accountId,
    env,
    conversation(options = {}) {
      customers += 1;
      const ref = { accountId, channel: 'wa-main', customer: `4917${suffix.replace(/\D/g, '')}${customers}` };
      return new Conversation(client, taskQueue, ref, options.limits);
    },
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      if (env) await env.teardown();
      else await nativeConnection.close();
      await connection?.close();
      await db.dropDatabase().catch(() => undefined);
      await mongo.close();
    },
  };
}

/** One conversation workflow, addressed by its id (so always its latest run), the way the API does. */
export class Conversation {
  readonly id: string;
  /** The run the first customer message started; `runs()` follows the chain from it. */
  firstRunId: string | undefined;
  private sent = 0;

  constructor(
    readonly client: Client,
    readonly taskQueue: string,
    readonly ref: ConversationRef,
    private readonly limits?: ConversationWorkflowInput['limits'],
  ) {
    this.id = conversationWorkflowId(ref);
  }

  get handle(): WorkflowHandle<typeof conversationWorkflow> {
    return this.client.workflow.getHandle(this.id);
  }

  /** The customer writes (signal-with-start, as the API does); returns the provider message id. */
  async customerWrites(messageId = `wamid.${this.ref.customer}.${++this.sent}`, text = 'hello'): Promise<string> {
    const handle = await this.client.workflow.signalWithStart<typeof conversationWorkflow, [CustomerMessagePayload]>('conversationWorkflow', {
      workflowId: this.id,
      taskQueue: this.taskQueue,
      args: [{ ...this.ref, ...(this.limits ? { limits: this.limits } : {}) }],
      signal: customerMessageSignal,
      signalArgs: [{ messageId, text }],
    });
    this.firstRunId ??= handle.signaledRunId;
    return messageId;
  }

  view(): Promise<ConversationView> {
    return this.handle.query(conversationQuery);
  }

  /** Polls the query until the view satisfies `check`; signals are applied a moment after they are sent. */
  async until(check: (view: ConversationView) => boolean, timeoutMs = 15_000): Promise<ConversationView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await this.view().catch(() => undefined);
      if (view && check(view)) return view;
      if (Date.now() > deadline) throw new Error(`conversation ${this.id} never matched; last view: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The customer writes and the workflow has applied it (its view version moved past `version`). */
  async customerWritesAndWait(messageId?: string): Promise<ConversationView> {
    const before = await this.view().catch(() => undefined);
    await this.customerWrites(messageId);
    return this.until((v) => v.version > (before?.version ?? 0));
  }

  /** An agent action, as the API sends it: a Workflow Update that answers with the conversation after it. */
  act<A>(update: UpdateDefinition<ActionResult, [A]>, args: A): Promise<ActionResult> {
    return this.handle.executeUpdate(update, { args: [args] });
  }

  async runId(): Promise<string> {
    return (await this.handle.describe()).runId;
  }

  /** Every run of this conversation from the first, following continue-as-new links in the histories. */
  async runs(): Promise<{ runId: string; eventTypes: string[] }[]> {
    const runs: { runId: string; eventTypes: string[] }[] = [];
    let runId: string | undefined = this.firstRunId;
    while (runId) {
      const json = JSON.parse(historyToJSON(await this.client.workflow.getHandle(this.id, runId).fetchHistory()));
      const events: { eventType: string; workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string } }[] = json.events;
      runs.push({ runId, eventTypes: events.map((e) => shortType(e.eventType)) });
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    }
    return runs;
  }

  /** The event types of one run's history, without the `EVENT_TYPE_` prefix. */
  async eventTypes(runId?: string): Promise<string[]> {
    const json = JSON.parse(historyToJSON(await this.client.workflow.getHandle(this.id, runId).fetchHistory()));
    return (json.events as { eventType: string }[]).map((e) => shortType(e.eventType));
  }
}

function shortType(eventType: string): string {
  return eventType.replace(/^EVENT_TYPE_/, '');
}

export const hours = (n: number): number => n * 3_600_000;
export const minutes = (n: number): number => n * 60_000;
