import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { InjectedSinks, NativeConnection, WorkerOptions } from '@temporalio/worker';
import type { ConversationSinks } from '../workflows/conversation/messages';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { createBroadcastActivities } from '../activities/broadcast-activities';
import type { ChannelProvider } from '../activities/channel-provider';
import { createConversationActivities } from '../activities/conversation-activities';
import { createReadActivities } from '../activities/read-activities';
import { createDeliveryActivities } from '../activities/delivery-activities';
import { createMediaActivities } from '../activities/media-activities';
import { createRouterClient } from '../activities/router-client';
import { createPolicyActivities } from '../activities/policy-activities';
import { createRoutingActivities } from '../activities/routing-activities';
import { createWebhookInboxActivities } from '../activities/webhook-inbox-activities';
import { defaultWorkerMaxCachedWorkflows } from '../infra/config';
import { createWorkerMetrics } from './metrics';
import type { WorkerMetrics } from './metrics';
import type { SecretBox } from '../store/secret-box';
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
  /** Opens channel secrets (SECRETS_KEY); none: they are read as stored. */
  secrets?: SecretBox;
  /** OUTBOUND_ALLOW_PRIVATE: webhook sends may go to plain http and to private or loopback addresses. */
  outboundAllowPrivate?: boolean;
  /** How many workflows stay cached (WORKER_MAX_CACHED_WORKFLOWS); the default is the configuration's. */
  maxCachedWorkflows?: number;
  /** A prebuilt bundle (tests share one per process); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** SPEC 11's episode rows on every persist (activities/episode-rows.ts); on unless false (a bench's "off" side). */
  episodeRows?: boolean;
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
 * after it starts). A copy of the 18 shared before was about 50 KiB of each cached workflow's 130 KiB
 * of heap (README, "Worker memory"). The SDK runs them before any workflow exists and deep-freezes what
 * they export, so only modules that keep no state of their own and call nothing that needs a workflow
 * belong here. That is said by the folder, not by a list: every module of a workflow's `core/` (lint
 * keeps `@temporalio/*`, IO libraries and Node built-ins out of it, eslint.config.mjs), every workflow's
 * `messages.ts` (definitions only), and the few definition modules named below. The workflow functions
 * and the shell modules beside them (`workflow.ts`, `outbox.ts`, `router-workflow.ts`, ...) stay per
 * workflow: their module scope makes the activity and sink proxies.
 */
const workflowsDir = path.dirname(workflowsPath);
const definitionModules = ['conversation/delivery-options', 'conversation/search-attributes', 'routing/routing'];

/** The shared modules, as paths without extension: derived from the workflows/ tree at start. */
export function sharedModulesIn(dir: string): string[] {
  const modulesOf = (folder: string) =>
    fs.existsSync(folder)
      ? fs
          .readdirSync(folder)
          .filter((file) => /\.(ts|js)$/.test(file) && !/\.d\.ts$/.test(file))
          .map((file) => path.join(folder, file.replace(/\.(ts|js)$/, '')))
          .sort()
      : [];
  const workflows = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name)).sort();
  return [
    ...workflows.flatMap((folder) => modulesOf(path.join(folder, 'core'))),
    ...workflows.filter((folder) => fs.existsSync(path.join(folder, 'messages.ts')) || fs.existsSync(path.join(folder, 'messages.js'))).map((folder) => path.join(folder, 'messages')),
    ...definitionModules.map((m) => path.join(dir, m)),
  ];
}

export const sharedWorkflowModules = sharedModulesIn(workflowsDir);

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
      ...createConversationActivities({ db: deps.db, log: deps.log, router, episodeRows: deps.episodeRows }),
      ...createRoutingActivities({ db: deps.db }),
      ...createDeliveryActivities({
        db: deps.db,
        log: deps.log,
        graphUrl: deps.whatsappGraphUrl,
        recording: deps.provider,
        secrets: deps.secrets,
        allowPrivate: deps.outboundAllowPrivate,
        onSend: metrics.onSend,
      }),
      ...createReadActivities({ db: deps.db, log: deps.log, graphUrl: deps.whatsappGraphUrl, secrets: deps.secrets }),
      ...createMediaActivities({ db: deps.db, log: deps.log, graphUrl: deps.whatsappGraphUrl, secrets: deps.secrets, allowPrivate: deps.outboundAllowPrivate }),
      ...createBroadcastActivities({ db: deps.db, client }),
      ...createPolicyActivities({ db: deps.db, client, log: deps.log }),
      ...createWebhookInboxActivities({ db: deps.db, client, taskQueue: deps.taskQueue, log: deps.log }),
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
