import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { loadConfig, requireSecretsKey, requireServers } from '../infra/config';
import { createLogger } from '../infra/logger';
import { ensureTemporalSetup } from '../infra/temporal-setup';
import { ensureIndexes } from '../store/collections';
import { createSecretBox } from '../store/secret-box';
import { purgeExpiredSessions } from '../store/sessions';
import { createApp } from './app';
import { purgeExpiredIdempotency } from './idempotency';

/** The API process: config, connections, then HTTP until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  const { temporalAddress, mongoUri } = requireServers(config);
  requireSecretsKey(config);
  const log = createLogger({ level: config.logLevel, base: { process: 'api' } });
  if (!config.platformApiKey) log.warn('PLATFORM_API_KEY is not set: platform routes will refuse every key');

  const connection = await Connection.connect({ address: temporalAddress, tls: config.temporal.tls, apiKey: config.temporal.apiKey });
  // Before listening: a cluster without the namespace or the search attributes would answer every message with an error.
  await ensureTemporalSetup(
    connection,
    { address: temporalAddress, namespace: config.temporal.namespace, apiKey: config.temporal.apiKey },
    { register: config.temporal.setup === 'register', log: { info: (m) => log.info(m), warn: (m) => log.warn(m) } },
  );
  // Fail reads fast when the database is away, so the API answers 503 instead of hanging.
  const mongo = await MongoClient.connect(mongoUri, { serverSelectionTimeoutMS: 3_000 });
  const db = mongo.db(config.mongo.database);
  await ensureIndexes(db);
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const { app, deps } = createApp({
    secrets: config.secrets.key ? createSecretBox(config.secrets.key, config.secrets.previous) : undefined,
    outboundAllowPrivate: config.outbound.allowPrivate,
    whatsappGraphUrl: config.whatsappGraphUrl,
    db,
    temporal,
    taskQueue: config.temporal.taskQueue,
    platformApiKey: config.platformApiKey,
    log,
    stream: { presence: config.presence, guard: { maxPerUser: config.streamMaxPerUser } },
    sessions: config.sessions,
    oidc: config.oidc,
    rateLimits: config.rateLimits,
    trustProxy: config.trustProxy,
    ...(config.reportPacksEveryMs !== null ? { reportPacksEveryMs: config.reportPacksEveryMs } : {}),
  });
  if (config.oidc) log.info({ issuer: config.oidc.issuer, redirectUrl: config.oidc.redirectUrl }, 'single sign-on through OpenID Connect is on');
  // Idempotency-Key answers are kept 24 h, and sessions end; FerretDB has no TTL indexes, so each API
  // process purges hourly (several doing it at once only delete the same documents).
  const purge = setInterval(() => {
    purgeExpiredIdempotency(deps.collections.idempotency).catch((error: unknown) => log.warn({ err: error }, 'idempotency purge failed'));
    purgeExpiredSessions(deps.collections).catch((error: unknown) => log.warn({ err: error }, 'session purge failed'));
  }, 3_600_000);
  purge.unref();

  const server = app.listen(config.port, () => {
    log.info({ port: config.port }, 'api listening');
    process.send?.({ type: 'ready', port: config.port });
  });
  server.on('error', (error) => {
    log.fatal({ err: error }, 'api cannot listen');
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(purge);
    log.info({ signal }, 'api stopping');
    // Open streams would hold the server open forever: end them (clients reconnect elsewhere).
    deps.streams.close();
    server.close(() => {
      void Promise.all([connection.close(), mongo.close()]).then(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Started by `npm start` with an IPC channel: if the supervisor dies (even by kill -9), stop too.
  process.on('disconnect', () => stop('disconnect'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
