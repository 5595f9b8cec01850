import path from 'node:path';
import { ConfigError, loadConfig } from '../infra/config';
import type { Config } from '../infra/config';
import { startFerretDB, startTemporalDevServer } from './local-servers';
import type { LocalServer } from './local-servers';
import { spawnNodeChild } from './node-child';
import { workerEnv, workerNodeArgs } from '../infra/worker-launch';
import type { NodeChild } from './node-child';
import { claimRunDir, killRecorded, liveOwner, recordPid } from './pid-records';
import type { PlatformKeyOrigin } from './platform-key';
import { loadOrCreatePlatformKey, platformKeyBannerLine } from './platform-key';
import { loadOrCreateSecretsKey } from './secrets-key';
import { ensureTool } from './tools';

/**
 * `npm start`: the embedded servers a setting does not point elsewhere (Temporal dev server with its
 * Web UI, FerretDB; both persisting under DATA_DIR), then the worker and the API as child processes.
 * Ctrl-C stops the children first and the servers they depend on last.
 */

const projectRoot = path.resolve(__dirname, '..');
const servers: LocalServer[] = [];
let runDir: string | undefined;
const children: NodeChild[] = [];
let stopping = false;

async function main(): Promise<void> {
  const config = loadConfig();
  runDir = path.join(config.dataDir, 'run');
  const owner = liveOwner(runDir);
  if (owner !== undefined) throw new Error(`another npm start (pid ${owner}) is using DATA_DIR ${config.dataDir}`);
  killRecorded(runDir); // servers left by a start that was killed with no chance to clean up
  claimRunDir(runDir);
  // `on`, not `once`: a terminal Ctrl-C arrives twice (from the terminal to the whole group, and
  // relayed by npm), and a second signal with no listener would kill us before the servers are stopped.
  // package.json runs this file with `node --import tsx`, not the tsx CLI: the CLI relays a signal to
  // its child and SIGKILLs it when the child does not acknowledge within 30 ms, which left the servers
  // orphaned on `kill -TERM <npm pid>`.
  process.on('SIGINT', () => void shutdown(0, 'SIGINT'));
  process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
  watchParent();

  const [temporal, mongo, platformKeyOrigin] = await Promise.all([
    temporalServer(config, runDir),
    mongoServer(config, runDir),
    config.platformApiKey !== undefined
      ? ({ from: 'environment' } as const)
      : loadOrCreatePlatformKey(config.dataDir).then((k): PlatformKeyOrigin => ({ from: 'data-dir', ...k })),
  ]);
  const platformKey = platformKeyOrigin.from === 'environment' ? config.platformApiKey! : platformKeyOrigin.key;

  const env = { ...process.env, TEMPORAL_ADDRESS: temporal.address, MONGODB_URI: mongo.uri, PLATFORM_API_KEY: platformKey };
  // Channel secrets are stored sealed with it (SPEC section 12); kept under DATA_DIR like the platform key.
  if (!config.secrets.key) Object.assign(env, { SECRETS_KEY: (await loadOrCreateSecretsKey(config.dataDir)).key });
  for (const [name, script] of [
    ['worker', 'worker/main.ts'],
    ['api', 'api/main.ts'],
  ] as const) {
    const launch = name === 'worker' ? { env: workerEnv(env), nodeArgs: workerNodeArgs(env) } : { env };
    const child = spawnNodeChild({ name, script: path.join(projectRoot, script), cwd: projectRoot, ...launch });
    children.push(child);
    void child.exited.then(({ code, signal }) => {
      if (!stopping) {
        console.error(`${name} exited unexpectedly (${signal ?? `exit code ${code}`}); stopping everything`);
        void shutdown(1);
      }
    });
  }
  await Promise.all(children.map((child) => child.ready));

  console.log(
    [
      '',
      `convoflow ready in ${process.uptime().toFixed(1)} s`,
      `  API            http://localhost:${config.port}`,
      `  Agent inbox    http://localhost:${config.port}/app/ (sign in with a user's API key)`,
      `  Temporal       ${temporal.address}${temporal.embedded ? ' (dev server)' : ''}`,
      `  Temporal UI    ${temporal.uiUrl ?? '(not started here)'}`,
      `  MongoDB        ${mongo.uri}${mongo.embedded ? ' (FerretDB)' : ''}`,
      platformKeyBannerLine(platformKeyOrigin),
      `  Data           ${config.dataDir}`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

/**
 * Whoever started us (npm, a process manager) may die without passing a signal on (kill -9, a crash):
 * the kernel then gives us a new parent. Stop everything then too, rather than run on orphaned.
 */
function watchParent(): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) void shutdown(1, 'parent process gone');
  }, 1_000);
  timer.unref();
}

async function temporalServer(config: Config, runDir: string) {
  if (config.temporal.address) return { address: config.temporal.address, uiUrl: undefined, embedded: false };
  const binary = await ensureTool('temporal', { log: (line) => console.error(`[tools] ${line}`) });
  const server = await startTemporalDevServer({
    binary,
    dbFile: path.join(config.dataDir, 'temporal', 'temporal.db'),
    port: config.embedded.temporalPort,
    uiPort: config.embedded.temporalUiPort,
    namespace: config.temporal.namespace,
    logFile: path.join(config.dataDir, 'logs', 'temporal.log'),
    detached: true,
    onSpawn: (pid) => recordPid(runDir, pid, binary),
  });
  servers.push(server);
  return { address: server.address, uiUrl: server.uiUrl, embedded: true };
}

async function mongoServer(config: Config, runDir: string) {
  if (config.mongo.uri) return { uri: config.mongo.uri, embedded: false };
  const binary = await ensureTool('ferretdb', { log: (line) => console.error(`[tools] ${line}`) });
  const server = await startFerretDB({
    binary,
    dataDir: path.join(config.dataDir, 'ferretdb'),
    port: config.embedded.ferretdbPort,
    logFile: path.join(config.dataDir, 'logs', 'ferretdb.log'),
    detached: true,
    onSpawn: (pid) => recordPid(runDir, pid, binary),
  });
  servers.push(server);
  return { uri: server.uri, embedded: true };
}

async function shutdown(code: number, signal?: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (signal) console.error(`\n${signal}: stopping worker and API, then the servers`);
  // The worker finishes its in-flight tasks against Temporal and MongoDB, so those stop last.
  await Promise.allSettled(children.map((child) => child.stop(15_000)));
  await Promise.allSettled(servers.map((server) => server.stop()));
  if (runDir) killRecorded(runDir); // nothing is left by now unless a stop failed; also clears the records
  process.exit(code);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
  await shutdown(1);
});
