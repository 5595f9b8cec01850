import { Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import v8 from 'node:v8';
import { MongoClient } from 'mongodb';
import { loadConfig, requireSecretsKey, requireServers } from '../infra/config';
import { createLogger } from '../infra/logger';
import { ensureTemporalSetup } from '../infra/temporal-setup';
import { heapNeededMiB } from '../infra/worker-launch';
import { ensureIndexes } from '../store/collections';
import { createSecretBox } from '../store/secret-box';
import { sdkLoggerOf } from './sdk-logger';
import { startWorker } from './worker';

/** The worker process: config, connections, then the worker until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  const { temporalAddress, mongoUri } = requireServers(config);
  requireSecretsKey(config);
  const log = createLogger({ level: config.logLevel, base: { process: 'worker' } });
  // A cache larger than the heap holds fails later, under load, as the process running out of memory.
  const heapLimitMiB = Math.floor(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  const neededMiB = heapNeededMiB(config.workerMaxCachedWorkflows);
  if (heapLimitMiB < neededMiB) {
    log.warn(
      { maxCachedWorkflows: config.workerMaxCachedWorkflows, heapLimitMiB, neededMiB },
      `WORKER_MAX_CACHED_WORKFLOWS may not fit this heap: start the worker with --max-old-space-size=${neededMiB} (or in NODE_OPTIONS), or cache fewer (README "Worker memory")`,
    );
  }
  // Before anything uses the runtime: the SDK's own lines then go through the same redacting logger,
  // with the Rust core's forwarded too (at WARN, its default filter).
  // With WORKER_METRICS_PORT, the Rust core serves Prometheus metrics on it: the SDK's own (task latencies,
  // slots, pollers, sticky cache) and ours (worker/metrics.ts), which are made on the runtime's meter.
  // Runtime.install is process-global and may run once, so only this process does it, never startWorker.
  Runtime.install({
    logger: sdkLoggerOf(log),
    telemetryOptions: {
      logging: { forward: {} },
      ...(config.workerMetricsPort === undefined
        ? {}
        : { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.workerMetricsPort}`, countersTotalSuffix: true, useSecondsForDurations: true } } }),
    },
  });

  // Before anything else: a cluster without the namespace or the search attributes fails every workflow.
  const check = await Connection.connect({ address: temporalAddress, tls: config.temporal.tls, apiKey: config.temporal.apiKey });
  try {
    await ensureTemporalSetup(
      check,
      { address: temporalAddress, namespace: config.temporal.namespace, apiKey: config.temporal.apiKey },
      { register: config.temporal.setup === 'register', log: { info: (m) => log.info(m), warn: (m) => log.warn(m) } },
    );
  } finally {
    await check.close();
  }

  const mongo = await MongoClient.connect(mongoUri);
  const db = mongo.db(config.mongo.database);
  await ensureIndexes(db);
  const connection = await NativeConnection.connect({
    address: temporalAddress,
    tls: config.temporal.tls,
    apiKey: config.temporal.apiKey,
  });
  const running = await startWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db,
    log,
    whatsappGraphUrl: config.whatsappGraphUrl,
    secrets: config.secrets.key ? createSecretBox(config.secrets.key, config.secrets.previous) : undefined,
    outboundAllowPrivate: config.outbound.allowPrivate,
    maxCachedWorkflows: config.workerMaxCachedWorkflows,
    episodeRows: config.workerEpisodeRows,
  });
  log.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, metricsPort: config.workerMetricsPort ?? null, maxCachedWorkflows: config.workerMaxCachedWorkflows }, 'worker running');
  process.send?.({ type: 'ready' });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker stopping');
    await running.stop();
    await connection.close();
    await mongo.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Started by `npm start` with an IPC channel: if the supervisor dies (even by kill -9), stop too.
  process.on('disconnect', () => void stop('disconnect'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
