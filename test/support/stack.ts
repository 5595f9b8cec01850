import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { createApp } from '../../api/app';
import type { AppOptions } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { createLogger } from '../../infra/logger';
import type { LogLevel } from '../../infra/logger';
import { ensureIndexes } from '../../store/collections';
import { createSecretBox } from '../../store/secret-box';
import { bundleWorkflows, startWorker } from '../../worker/worker';
import type { RunningWorker } from '../../worker/worker';
import { testServers } from './test-servers';
import type { TestServers } from './test-servers';

/**
 * The real stack in-process, isolated per test file: the shared dev server and FerretDB from global
 * setup, with this stack's own task queue and database, a real worker, and the API on port 0.
 */
export interface Stack {
  baseUrl: string;
  db: Db;
  client: Client;
  taskQueue: string;
  platformKey: string;
  http: Http;
  /** The API's dependencies, for tests that make one of them fail on purpose. */
  apiDeps: ApiDeps;
  /** Stops the worker only (as a crash or deploy would); the API and servers stay up. */
  stopWorker(): Promise<void>;
  /** Starts a fresh worker on the same task queue, with an empty workflow cache. */
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

let bundle: Promise<NonNullable<WorkerOptions['workflowBundle']>> | undefined;
/** Bundling takes seconds; every stack in one jest worker process shares one bundle. */
export function sharedBundle() {
  bundle ??= bundleWorkflows();
  return bundle;
}

export const quietLog = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as LogLevel });

/**
 * Servers default to jest's global setup; the history recorder passes its own. `log` replaces the quiet
 * logger of the worker and the API (a test that reads what they log).
 */
export interface StackOptions {
  /** Base URL of a fake Graph API for the worker's WhatsApp sends. */
  whatsappGraphUrl?: string;
  /** The logger of the worker and the API (silent by default); tests that read logs pass their own. */
  log?: Logger;
  /**
   * OUTBOUND_ALLOW_PRIVATE of the worker and the API: true by default, since tests point webhook
   * channels at fakes on loopback over http; tests of the outbound rules pass false.
   */
  outboundAllowPrivate?: boolean;
  /** SECRETS_KEY of the worker and the API: a fresh random key per stack unless given. */
  secretsKey?: Buffer;
  /** The API's token buckets, where a test needs other than SPEC section 12's defaults. */
  rateLimits?: AppOptions['rateLimits'];
}

/** Where sends to WhatsApp go unless a test starts a fake Graph API: a closed port, so nothing leaves the machine. */
export const unreachableGraphUrl = 'http://127.0.0.1:9';

export async function startStack(
  servers: Pick<TestServers, 'temporalAddress' | 'mongoUri'> = testServers(),
  prefix = 'test',
  options: StackOptions = {},
): Promise<Stack> {
  const log = options.log ?? quietLog;
  const suffix = randomUUID().slice(0, 8);
  const taskQueue = `${prefix}-${suffix}`;
  const platformKey = `platform-${randomUUID()}`;

  const mongo = await MongoClient.connect(servers.mongoUri, { serverSelectionTimeoutMS: 3_000 });
  const db = mongo.db(`${prefix}_${suffix}`);
  await ensureIndexes(db);

  // Like production: channel secrets sealed at rest, with a key of this stack's own.
  const secrets = createSecretBox(options.secretsKey ?? randomBytes(32));
  const outboundAllowPrivate = options.outboundAllowPrivate ?? true;

  const nativeConnection = await NativeConnection.connect({ address: servers.temporalAddress });
  const launchWorker = async () =>
    startWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      db,
      log,
      workflowBundle: await sharedBundle(),
      whatsappGraphUrl: options.whatsappGraphUrl ?? unreachableGraphUrl,
      secrets,
      outboundAllowPrivate,
    });
  let worker: RunningWorker | undefined = await launchWorker();

  const connection = await Connection.connect({ address: servers.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const { app, deps: apiDeps } = createApp({
    db,
    temporal: client,
    taskQueue,
    platformApiKey: platformKey,
    log,
    secrets,
    outboundAllowPrivate,
    rateLimits: options.rateLimits,
    whatsappGraphUrl: options.whatsappGraphUrl ?? unreachableGraphUrl,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    db,
    client,
    taskQueue,
    platformKey,
    http: new Http(baseUrl),
    apiDeps,
    async stopWorker() {
      await worker?.stop();
      worker = undefined;
    },
    async startWorker() {
      worker ??= await launchWorker();
    },
    async stop() {
      apiDeps.streams.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker?.stop();
      await nativeConnection.close();
      await connection.close();
      await db.dropDatabase().catch(() => undefined);
      await mongo.close();
    },
  };
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny JSON client over real HTTP: every test talks to the API the way a user's system would. */
export class Http {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  get<T = any>(path: string, key?: string) {
    return this.request<T>('GET', path, { key });
  }

  post<T = any>(path: string, body: unknown, key?: string, headers?: Record<string, string>) {
    return this.request<T>('POST', path, { key, body, headers });
  }

  patch<T = any>(path: string, body: unknown, key?: string) {
    return this.request<T>('PATCH', path, { key, body });
  }
}

/**
 * A logger like the processes' own (redacting) whose lines a test reads: pass `logger` as the stack's
 * `log`, then look at `lines` (one JSON line each) or `records()`.
 */
export function capturedLogs(level: LogLevel = 'info'): { logger: Logger; lines: string[]; records(): Record<string, any>[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, any>) };
}

/** Polls until `check` returns a value other than undefined; views are written a moment after a 202. */
export async function eventually<T>(check: () => Promise<T | undefined>, { timeoutMs = 15_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits until the wall clock has passed `instant` (epoch ms), and not longer: for a test whose fact is a
 * deadline itself (a key's grace period, a timer due while no worker runs). Returns at once if it has.
 */
export async function untilPast(instant: number): Promise<void> {
  const left = instant - Date.now() + 1;
  if (left > 0) await new Promise((r) => setTimeout(r, left));
}

/**
 * A stack for the enclosing describe block: started before its tests, stopped after them even when
 * they fail. Read `env.stack` inside tests or hooks.
 */
export function useStack(options: () => StackOptions = () => ({})): { stack: Stack } {
  const env = {} as { stack: Stack };
  beforeAll(async () => {
    env.stack = await startStack(undefined, undefined, options());
  });
  afterAll(async () => {
    await env.stack?.stop();
  });
  return env;
}
