import path from 'node:path';
import { Client } from '@temporalio/client';
import type { InjectedSinks, NativeConnection, WorkerOptions } from '@temporalio/worker';
import type { ConversationSinks } from '../workflows/conversation/workflow';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { createBroadcastActivities } from '../activities/broadcast-activities';
import type { ChannelProvider } from '../activities/channel-provider';
import { createConversationActivities } from '../activities/conversation-activities';
import { createDeliveryActivities } from '../activities/delivery-activities';
import { createRouterClient } from '../activities/router-client';
import { createRoutingActivities } from '../activities/routing-activities';
import { defaultWorkerMaxCachedWorkflows } from '../infra/config';
import { createWorkerMetrics } from './metrics';
import type { WorkerMetrics } from './metrics';
import { startStreamPruner, streamCollections } from '../store/stream-log';

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  log: Logger;
  /** Where channels without configuration record their messages; the `outbound` collection by default. */
  provider?: ChannelProvider;
  /** Base URL of the WhatsApp Graph API. */
  whatsappGraphUrl: string;
  /** How many workflows stay cached (WORKER_MAX_CACHED_WORKFLOWS); the default is the configuration's. */
  maxCachedWorkflows?: number;
  /** A prebuilt bundle (tests share one per process); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped polling and finished its tasks. */
  stop(): Promise<void>;
}

export const workflowsPath = require.resolve('../workflows');

/**
 * Modules evaluated once per workflow thread and shared by every workflow, instead of once per cached
 * workflow (the SDK's reusable V8 context gives each workflow its own copy of every module it loads
 * after it starts). A copy of these 18 was about 50 KiB of each cached workflow's 130 KiB of heap
 * (README, "Worker memory"). The SDK runs them before any workflow exists and deep-freezes what they
 * export, so only modules that keep no state of their own and call nothing that needs a workflow belong
 * here: the pure lifecycle, the policy, the routing rules, and the message, search attribute and
 * activity option definitions. The workflow functions (`workflow.ts`, `router-workflow.ts`) stay per
 * workflow: their module scope makes the activity and sink proxies.
 */
export const sharedWorkflowModules = [
  'conversation/model',
  'conversation/durations',
  'conversation/policy',
  'conversation/deadlines',
  'conversation/draft',
  'conversation/rules-agent',
  'conversation/rules-customer',
  'conversation/rules-delivery',
  'conversation/rules-system',
  'conversation/lifecycle',
  'conversation/view',
  'conversation/messages',
  'conversation/delivery-options',
  'conversation/persist-failures',
  'conversation/search-attributes',
  'routing/routing',
  'routing/messages',
  'broadcast/messages',
].map((m) => path.join(path.dirname(workflowsPath), m));

export async function bundleWorkflows(): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  return bundleWorkflowCode({ workflowsPath, preloadModules: sharedWorkflowModules, logger: quietBundlerLogger });
}

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const client = new Client({ connection: deps.connection, namespace: deps.namespace });
  const router = createRouterClient(client, deps.taskQueue);
  const metrics = createWorkerMetrics();
  const worker = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle ?? (await bundleWorkflows()),
    interceptors: { activity: [metrics.activityInterceptor] },
    activities: {
      ...createConversationActivities({ db: deps.db, log: deps.log, router }),
      ...createRoutingActivities({ db: deps.db }),
      ...createDeliveryActivities({ db: deps.db, log: deps.log, graphUrl: deps.whatsappGraphUrl, recording: deps.provider, onSend: metrics.onSend }),
      ...createBroadcastActivities({ db: deps.db, client }),
    },
    sinks: conversationSinks(deps.log, metrics),
    // A cached conversation costs memory while it idles; an evicted one costs a replay at its next input.
    // See the README's "Worker memory" for the measurements behind the default.
    maxCachedWorkflows: deps.maxCachedWorkflows ?? defaultWorkerMaxCachedWorkflows,
  });
  const running = worker.run();
  const stopPruner = startStreamPruner(streamCollections(deps.db), (error) => deps.log.warn({ err: error }, 'pruning the stream failed; trying again later'));
  return {
    worker,
    async stop() {
      stopPruner();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/** The workflow's side channel to the worker: rejected signals become a log line with the conversation id. */
function conversationSinks(log: Logger, metrics: WorkerMetrics): InjectedSinks<ConversationSinks> {
  return {
    conversation: {
      rejectedInput: {
        fn: (_info, rejection) => {
          metrics.onRejectedInput(rejection.input, rejection.code);
          log.warn(rejection, 'signal rejected by the lifecycle rules');
        },
        callDuringReplay: false,
      },
    },
  };
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: object) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: object) => console.error(message, meta ?? ''),
};
