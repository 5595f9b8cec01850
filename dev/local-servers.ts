import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { freePort } from './free-port';
import { applyTemporalSetup } from '../infra/temporal-setup';
import { spawnServer, waitUntilReady } from './server-process';
import type { ServerProcess } from './server-process';

/**
 * The two servers that make the stack run on one machine: the Temporal CLI dev server (SQLite, Web UI)
 * and FerretDB (SQLite handler). Both bind loopback only, on given ports or free ones.
 */

type LogOptions = {
  /** Appends the server's output to this file. */
  logFile?: string;
  /** Receives each output line. */
  onLog?: (line: string) => void;
  /** Own process group: a terminal Ctrl-C then reaches only the supervisor (see spawnServer). */
  detached?: boolean;
  /** Called with the pid right after spawning, before readiness, e.g. to record it for orphan cleanup. */
  onSpawn?: (pid: number) => void;
  readyTimeoutMs?: number;
};

export type LocalServer = { pid: number; stop(): Promise<void>; process: ServerProcess };

export type TemporalDevServerOptions = LogOptions & {
  binary: string;
  /** SQLite file to persist to; without it everything is lost when the server stops. */
  dbFile?: string;
  port?: number;
  namespace?: string;
} & ({ headless: true; uiPort?: never } | { headless?: false; uiPort?: number });

export type TemporalDevServer = LocalServer & { address: string; uiUrl: string | undefined; namespace: string };

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const host = '127.0.0.1';
  const port = opts.port || (await freePort());
  const uiPort = opts.headless ? undefined : opts.uiPort || (await freePort());
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--log-level', 'warn'];
  if (uiPort === undefined) args.push('--headless');
  // No internet access is assumed: the UI's news feed would only produce failed requests.
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  if (opts.dbFile) {
    await fs.mkdir(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  // SQLite's write-ahead log with a full sync on commit: as durable as the default rollback journal
  // (a crash loses no acknowledged write) and much cheaper per commit, which is what every workflow
  // task, signal and timer costs (README, "What `npm start` runs").
  args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=full');
  // An activity a workflow task schedules goes back to the worker in the task's own answer instead
  // of through a matching round trip (the SDK asks for it; the server grants it only when enabled).
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  if (namespace !== 'default') args.push('--namespace', namespace);
  // No --search-attribute flags: the CLI applies them only when it creates the SQLite file, so a file
  // made before a key existed would never get it. The search attributes are registered below, once the
  // server answers, by the same code that sets up a production cluster (infra/temporal-setup.ts).

  const server = spawnServer({ binary: opts.binary, args, ...logOptions(opts) });
  opts.onSpawn?.(server.pid);
  const address = `${host}:${port}`;
  await waitUntilReady(
    server,
    `Temporal dev server on ${address}`,
    async () => {
      // lazy + ensureConnected, so a failed attempt is closed too: a leaked channel keeps retrying and
      // holds the process (jest's parent would never exit).
      const connection = Connection.lazy({ address, connectTimeout: 1_000 });
      try {
        await connection.ensureConnected();
        // The frontend answers before the namespace exists; a worker would fail on that gap.
        await connection.workflowService.describeNamespace({ namespace });
        // Registers what is missing and waits until the server lists it; a no-op on a file that has them.
        await applyTemporalSetup(connection, { address, namespace }, { timeoutMs: 10_000 });
      } finally {
        await connection.close();
      }
    },
    opts.readyTimeoutMs ?? 30_000,
  );
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://${host}:${uiPort}`,
    namespace,
    pid: server.pid,
    process: server,
    stop: () => server.stop(),
  };
}

export type FerretDBOptions = LogOptions & {
  binary: string;
  dataDir: string;
  port?: number;
  /** More flags, e.g. `--test-disable-pushdown` for FerretDB's own evaluation of every query (the differential test). */
  extraArgs?: string[];
};
export type FerretDBServer = LocalServer & { uri: string };

/** The share of the machine's memory FerretDB's heap is kept within (a soft limit: see `ferretdbGoRuntime`). */
export const ferretdbMemoryShare = 0.4;

/**
 * The Go runtime's garbage collector for FerretDB, unless the environment sets its own GOGC: a collection when
 * the heap has grown 200 % past what is live (Go's default is 100 %). FerretDB allocates a lot per document
 * it decodes; on an inbox page of 26 conversations (10,000 in the collection, 2 cores) the default spent a
 * sixth of FerretDB's time collecting: a page took 14.5 to 16 ms, 10 to 11 ms with 200 % or 400 %.
 *
 * And a soft memory limit (GOMEMLIMIT) of `memoryShare` of the machine's memory, unless the environment sets
 * one (the process inherits it): FerretDB sorts in memory whatever no index serves (a sort with a skip,
 * `sort=oldest_waiting`), holding every matching document decoded, and 200 % on top of that grew it to 22 GB
 * on a 24 GiB machine with a million conversations (the bench's deep-rank lookup), which then swapped until
 * every client timed out. With the limit the collector runs harder as the heap nears it, instead of the heap
 * growing. Not lower: a scan of 100,000 views holds more than 1 GiB live, and under a limit of 1 GiB the
 * collector ran without pause (the scan took 39 s instead of 24 s).
 */
export function ferretdbGoRuntime(env: NodeJS.ProcessEnv = process.env, totalMemory: number = os.totalmem()): Record<string, string> {
  const runtime: Record<string, string> = { GOGC: env.GOGC ?? '200' };
  if (env.GOMEMLIMIT === undefined) runtime.GOMEMLIMIT = `${Math.floor((totalMemory * ferretdbMemoryShare) / 2 ** 20)}MiB`;
  return runtime;
}

export async function startFerretDB(opts: FerretDBOptions): Promise<FerretDBServer> {
  const host = '127.0.0.1';
  const port = opts.port || (await freePort());
  const dataDir = path.resolve(opts.dataDir);
  await fs.mkdir(dataDir, { recursive: true });
  const args = [
    '--handler=sqlite',
    // FerretDB wants a directory URI ending in a slash; one SQLite file per database goes there.
    `--sqlite-url=file:${encodeURI(dataDir)}/`,
    `--listen-addr=${host}:${port}`,
    '--debug-addr=-', // its metrics endpoint would otherwise take a fixed port, 8088
    `--state-dir=${dataDir}`,
    '--telemetry=disable',
    '--log-level=warn',
    ...(opts.extraArgs ?? []),
  ];
  const server = spawnServer({ binary: opts.binary, args, env: ferretdbGoRuntime(), ...logOptions(opts) });
  opts.onSpawn?.(server.pid);
  const uri = `mongodb://${host}:${port}/`;
  await waitUntilReady(
    server,
    `FerretDB on ${host}:${port}`,
    async () => {
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
      try {
        await client.db('admin').command({ ping: 1 });
      } finally {
        await client.close();
      }
    },
    opts.readyTimeoutMs ?? 30_000,
  );
  return { uri, pid: server.pid, process: server, stop: () => server.stop() };
}

function logOptions(opts: LogOptions): { logFile?: string; onLog?: (line: string) => void; detached?: boolean } {
  return { logFile: opts.logFile, onLog: opts.onLog, detached: opts.detached };
}
