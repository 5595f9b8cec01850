import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { freePort } from '../dev/free-port';
import { workerEnv, workerNodeArgs } from '../infra/worker-launch';
import { startFerretDB, startTemporalDevServer } from '../dev/local-servers';
import type { FerretDBServer, TemporalDevServer } from '../dev/local-servers';
import { ensureTool } from '../dev/tools';
import { Http } from './http-client';
import { spawnNodeChild } from '../dev/node-child';
import { claimRunDir, forgetPid, killRecorded, liveOwner, recordPid } from '../dev/pid-records';
import type { NodeChild } from '../dev/node-child';

/**
 * The real stack for a benchmark or chaos run: its own Temporal dev server (headless, SQLite) and FerretDB
 * in a temporary folder, and real worker and API processes pointed at them with a fresh task queue and
 * database. Every process it starts is recorded by pid in the run folder (dev/pid-records.ts) and stopped
 * by `stop()`; if the run dies another way (an exception, Ctrl-C, process.exit) the exit hook SIGKILLs
 * whatever is left, by pid.
 */

const projectRoot = path.resolve(__dirname, '..');

const stacks = new Set<BenchStack>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Every process a stack starts is recorded in its run folder (dev/pid-records.ts, as npm start and the
  // test servers do); whatever is still running its recorded binary when this process exits is SIGKILLed.
  process.once('exit', () => {
    for (const stack of stacks) killRecorded(stack.runDir);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping every process this run started`);
      // A second signal while stopping goes straight to the exit hook above.
      process.once(signal, () => process.exit(130));
      void Promise.allSettled([...stacks].map((s) => s.stop())).then(() => process.exit(130));
    });
  }
}

/**
 * A run killed outright (kill -9, a closed terminal) could not stop its servers; the next run stops
 * whatever such a folder recorded. The folders stay: they hold the logs of a run that went wrong.
 */
function stopAbandonedRuns(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith('convoflow-bench-')) continue;
    const runDir = path.join(os.tmpdir(), name);
    const owner = readOwner(runDir);
    // liveOwner leaves out this process itself, whose other stacks may be running.
    if (owner !== undefined && owner !== process.pid && liveOwner(runDir) === undefined) killRecorded(runDir);
  }
}

function readOwner(runDir: string): number | undefined {
  try {
    return Number.parseInt(fs.readFileSync(path.join(runDir, 'owner'), 'utf8'), 10);
  } catch {
    return undefined;
  }
}

export interface ApiProcess {
  proc: NodeChild;
  baseUrl: string;
  http: Http;
}

export interface BenchStackOptions {
  log: (line: string) => void;
  /** Keep the temporary folder (logs, SQLite files) after stop; by default it is removed on success. */
  keepDir?: boolean;
  /** Write a V8 CPU profile of every worker and API process here when it stops (`--profile`). */
  profileDir?: string;
}

export class BenchStack {
  readonly taskQueue = `bench-${randomUUID().slice(0, 8)}`;
  readonly database = `bench_${randomUUID().slice(0, 8)}`;
  readonly platformKey = `platform-${randomUUID()}`;
  readonly workers: NodeChild[] = [];
  readonly apis: ApiProcess[] = [];
  readonly others: NodeChild[] = [];
  /** Extra environment for every worker started from now on (e.g. WHATSAPP_GRAPH_URL of a fake Graph API). */
  readonly workerEnv: Record<string, string> = {};
  /** Each started worker's Prometheus endpoint (the SDK core's task and activity latencies). */
  readonly workerMetricsUrls = new Map<NodeChild, string>();
  temporal!: TemporalDevServer;
  ferret: FerretDBServer | undefined;
  client!: Client;
  connection!: Connection;
  mongo!: MongoClient;
  db!: Db;
  private temporalBinary = '';
  private ferretBinary = '';
  private ferretPort = 0;
  private temporalPort = 0;
  private stopped = false;
  private counter = 0;

  private constructor(
    readonly runDir: string,
    private readonly opts: BenchStackOptions,
  ) {}

  static async start(opts: BenchStackOptions): Promise<BenchStack> {
    installHooks();
    stopAbandonedRuns();
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convoflow-bench-'));
    claimRunDir(runDir);
    const stack = new BenchStack(runDir, opts);
    stacks.add(stack);
    try {
      await stack.startServers();
      return stack;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  get temporalDbFile(): string {
    return path.join(this.runDir, 'temporal', 'temporal.db');
  }
  get ferretDir(): string {
    return path.join(this.runDir, 'ferretdb');
  }
  get mongoUri(): string {
    return `mongodb://127.0.0.1:${this.ferretPort}/`;
  }
  get temporalAddress(): string {
    return `127.0.0.1:${this.temporalPort}`;
  }

  private async startServers(): Promise<void> {
    const log = (line: string) => this.opts.log(`[tools] ${line}`);
    [this.temporalBinary, this.ferretBinary] = await Promise.all([ensureTool('temporal', { log }), ensureTool('ferretdb', { log })]);
    this.temporalPort = await freePort();
    this.ferretPort = await freePort();
    await Promise.all([this.startTemporal(), this.startFerret()]);
    this.connection = await Connection.connect({ address: this.temporalAddress });
    this.client = new Client({ connection: this.connection, namespace: 'default' });
    // Short server selection: while FerretDB is deliberately down, bench reads fail fast and are retried.
    this.mongo = await MongoClient.connect(this.mongoUri, { serverSelectionTimeoutMS: 2_000, maxPoolSize: 20 });
    this.db = this.mongo.db(this.database);
  }

  /** Starts (or restarts, on the same port and SQLite file) the Temporal dev server. */
  async startTemporal(): Promise<void> {
    this.temporal = await startTemporalDevServer({
      binary: this.temporalBinary,
      headless: true,
      port: this.temporalPort,
      dbFile: this.temporalDbFile,
      logFile: path.join(this.runDir, 'temporal.log'),
      onSpawn: (pid) => this.record(pid, this.temporalBinary),
    });
    const { pid } = this.temporal;
    void this.temporal.process.exited.then(() => forgetPid(this.runDir, pid));
  }

  async stopTemporal(): Promise<void> {
    await this.temporal.stop();
  }

  /** Starts (or restarts, on the same port and data folder) FerretDB. */
  async startFerret(): Promise<void> {
    const server = await startFerretDB({
      binary: this.ferretBinary,
      dataDir: this.ferretDir,
      port: this.ferretPort,
      logFile: path.join(this.runDir, 'ferretdb.log'),
      onSpawn: (pid) => this.record(pid, this.ferretBinary),
    });
    void server.process.exited.then(() => forgetPid(this.runDir, server.pid));
    this.ferret = server;
  }

  async stopFerret(): Promise<void> {
    await this.ferret?.stop();
    this.ferret = undefined;
  }

  private record(pid: number, binary: string): void {
    recordPid(this.runDir, pid, binary);
  }

  private env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      TEMPORAL_ADDRESS: this.temporalAddress,
      MONGODB_URI: this.mongoUri,
      PLATFORM_API_KEY: this.platformKey,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      MONGODB_DATABASE: this.database,
      // Per-request info lines would cost the API CPU the benchmark is measuring.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      // The bench measures the engine, not SPEC 12's per-key limits: one agent's key sends every reply of
      // the replies phase (goal 1 asks above 46/s; a user key's default is 50/s) and the staleness lanes
      // poll every 5 ms, so at the defaults the limiter, answering 429, would be what they measure.
      // The buckets are still claimed and checked on every request, so their cost stays in the figures.
      RATE_LIMIT_USER: '100000/100000',
      RATE_LIMIT_SERVICE: '100000/100000',
      ...extra,
    };
  }

  /** A worker launched as every launcher does (infra/worker-launch.ts), so its memory is the product's. */
  private spawnWorker(name: string, extra: Record<string, string> = {}): NodeChild {
    const env = this.env({ ...this.workerEnv, ...extra });
    return this.spawn(name, 'worker/main.ts', workerEnv(env), workerNodeArgs(env));
  }

  private spawn(name: string, script: string, env: NodeJS.ProcessEnv, launchArgs: string[] = []): NodeChild {
    this.counter += 1;
    const proc = spawnNodeChild({
      name,
      script: path.join(projectRoot, script),
      env,
      cwd: projectRoot,
      logFile: path.join(this.runDir, 'logs', `${this.counter}-${name}.log`),
      // One folder per process: each of its threads (workflow threads, the loader's) writes its own file.
      nodeArgs: [...launchArgs, ...(this.opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(this.opts.profileDir, `${this.counter}-${name}`)}`] : [])],
    });
    this.record(proc.pid, process.execPath);
    // Forgotten once it exits, so a pid recycled by another Node process is never killed.
    void proc.exited.then(() => forgetPid(this.runDir, proc.pid));
    return proc;
  }

  /** A real worker process (worker/main.ts) on the stack's task queue. */
  async startWorker(): Promise<NodeChild> {
    const metricsPort = await freePort();
    const proc = this.spawnWorker(`worker${this.workers.length + 1}`, { WORKER_METRICS_PORT: String(metricsPort) });
    this.workerMetricsUrls.set(proc, `http://127.0.0.1:${metricsPort}/metrics`);
    this.workers.push(proc);
    await proc.ready;
    return proc;
  }

  /** Starts a worker again in the place of one that stopped, keeping the list's order. */
  async replaceWorker(old: NodeChild): Promise<NodeChild> {
    const index = this.workers.indexOf(old);
    const proc = this.spawnWorker(`${old.name}-restarted`);
    if (index >= 0) this.workers[index] = proc;
    else this.workers.push(proc);
    await proc.ready;
    return proc;
  }

  /**
   * A real API process (api/main.ts) on a free loopback port. Its reports pack builder is off unless `extra`
   * turns it on (REPORT_PACKS_EVERY): the `reports` phase measures reads with and without packs, and starts
   * an API with the builder for the part that needs one.
   */
  async startApi(extra: Record<string, string> = {}): Promise<ApiProcess> {
    const port = await freePort();
    // The stream phase holds 100 idle streams of one agent (the cost per account's clients): above the per-user cap of 5.
    const proc = this.spawn(`api${this.apis.length + 1}`, 'api/main.ts', this.env({ PORT: String(port), STREAM_MAX_PER_USER: '1000', REPORT_PACKS_EVERY: 'off', ...extra }));
    await proc.ready;
    const baseUrl = `http://127.0.0.1:${port}`;
    const api = { proc, baseUrl, http: new Http(baseUrl) };
    this.apis.push(api);
    return api;
  }

  /** Starts an API again in the place of one that stopped (a kill -9 in chaos 8), on a new port, keeping the list's order. */
  async replaceApi(old: ApiProcess): Promise<ApiProcess> {
    const index = this.apis.indexOf(old);
    const port = await freePort();
    const proc = this.spawn(`${old.proc.name}-restarted`, 'api/main.ts', this.env({ PORT: String(port), STREAM_MAX_PER_USER: '1000' }));
    await proc.ready;
    const baseUrl = `http://127.0.0.1:${port}`;
    const api = { proc, baseUrl, http: new Http(baseUrl) };
    if (index >= 0) this.apis[index] = api;
    else this.apis.push(api);
    return api;
  }

  async stopProcess(proc: NodeChild): Promise<void> {
    await proc.stop(10_000);
    const w = this.workers.indexOf(proc);
    if (w >= 0) this.workers.splice(w, 1);
    const a = this.apis.findIndex((x) => x.proc === proc);
    if (a >= 0) this.apis.splice(a, 1);
  }

  /** The baseline's worker: bench/noop-worker.ts, a separate process like the real worker. */
  async startNoopWorker(taskQueue: string): Promise<NodeChild> {
    const proc = this.spawn('noop-worker', 'bench/noop-worker.ts', this.env({ TEMPORAL_TASK_QUEUE: taskQueue }));
    this.others.push(proc);
    await proc.ready;
    return proc;
  }

  /** Pids by role, for CPU and memory sampling. */
  pids(): Record<string, number> {
    const pids: Record<string, number> = { bench: process.pid, temporal: this.temporal.pid };
    if (this.ferret) pids.ferretdb = this.ferret.pid;
    this.workers.forEach((w, i) => (pids[`worker${i + 1}`] = w.pid));
    this.apis.forEach((a, i) => (pids[`api${i + 1}`] = a.proc.pid));
    for (const o of this.others) if (!o.hasExited()) pids[o.name] = o.pid;
    return pids;
  }

  /** Children before servers (they finish their work against them), then our own connections. */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled([...this.workers, ...this.apis.map((a) => a.proc), ...this.others].map((p) => p.stop(10_000)));
    await Promise.allSettled([this.connection?.close(), this.mongo?.close()]);
    await Promise.allSettled([this.temporal?.stop(), this.ferret?.stop()]);
    // Anything that did not stop (or that a phase started by hand) goes by its recorded pid.
    killRecorded(this.runDir);
    stacks.delete(this);
    if (!this.opts.keepDir && !opts.keepDir) fs.rmSync(this.runDir, { recursive: true, force: true });
  }
}
