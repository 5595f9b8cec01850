import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../dev/free-port';
import { spawnNodeChild } from '../../dev/node-child';
import type { NodeChild } from '../../dev/node-child';
import { forgetPid, recordPid } from '../../dev/pid-records';
import { workerEnv, workerNodeArgs } from '../../infra/worker-launch';
import { startFakeGraph } from '../support/fake-graph';
import { testServers } from '../support/test-servers';

/**
 * The stack the fuzz tier attacks: the worker and the API as their own processes (`api/main.ts`,
 * `worker/main.ts`, as `npm start` runs them), on the Temporal dev server and FerretDB of jest's global
 * setup, with their own task queue, database and port. Processes rather than the in-process stack of the
 * HTTP tests so that the API reads its whole configuration from the environment, as in production (the
 * rate limits below among it), and so that what it logs at error level can be read back from its log.
 */

/**
 * Rate limits for the fuzz stack, in one place (the lead adjusts the names here if the rate limiter
 * reads others). Raised far above the defaults, since the fuzzer sends thousands of requests with one key
 * from one address; a 429 that still happens is counted, never a failure. A `RATE_LIMIT_*` variable set
 * in the environment of `npm run test:fuzz` wins over these.
 */
export const fuzzRateLimits: Record<string, string> = {
  RATE_LIMIT_USER: '100000/100000',
  RATE_LIMIT_SERVICE: '100000/100000',
  RATE_LIMIT_ANONYMOUS: '100000/100000',
};

export function rateLimitEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const given = Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('RATE_LIMIT_') && e[1] !== undefined);
  return { ...fuzzRateLimits, ...Object.fromEntries(given) };
}

export type FuzzStack = {
  baseUrl: string;
  platformKey: string;
  /** The API's and the worker's log files (pino JSON lines). */
  logs: { api: string; worker: string };
  stop(): Promise<void>;
};

export async function startFuzzStack(): Promise<FuzzStack> {
  const servers = testServers();
  const id = randomUUID().slice(0, 8);
  const dir = fs.mkdtempSync(path.join(servers.runDir, 'fuzz-'));
  const port = await freePort();
  const platformKey = `platform-${randomUUID()}`;
  const graph = await startFakeGraph();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...rateLimitEnv(),
    PORT: String(port),
    PLATFORM_API_KEY: platformKey,
    TEMPORAL_ADDRESS: servers.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: `fuzz-${id}`,
    MONGODB_URI: servers.mongoUri,
    MONGODB_DATABASE: `fuzz_${id}`,
    DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    // A Graph API that answers (sends succeed; a listing of a business account it does not know is refused,
    // as Meta refuses a wrong wabaId): the template sync the fuzzer calls then answers 409, not 503.
    WHATSAPP_GRAPH_URL: graph.url,
    // Channel secrets are encrypted at rest with it where the database is not the embedded one (SPEC 12).
    SECRETS_KEY: randomBytes(32).toString('base64'),
  };
  const logs = { api: path.join(dir, 'api.log'), worker: path.join(dir, 'worker.log') };
  const projectRoot = path.resolve(__dirname, '..', '..');
  const children: NodeChild[] = [];
  const stop = async () => {
    await Promise.allSettled(children.map((child) => child.stop(10_000)));
    await graph.close();
    for (const child of children) forgetPid(servers.runDir, child.pid);
  };
  try {
    const worker = spawnNodeChild({
      name: 'worker',
      script: path.join(projectRoot, 'worker', 'main.ts'),
      cwd: projectRoot,
      env: workerEnv(env),
      nodeArgs: workerNodeArgs(env),
      logFile: logs.worker,
    });
    children.push(worker);
    recordPid(servers.runDir, worker.pid, process.execPath);
    const api = spawnNodeChild({ name: 'api', script: path.join(projectRoot, 'api', 'main.ts'), cwd: projectRoot, env, logFile: logs.api });
    children.push(api);
    recordPid(servers.runDir, api.pid, process.execPath);
    await Promise.all([worker.ready, api.ready]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl: `http://127.0.0.1:${port}`, platformKey, logs, stop };
}

/** The lines a process logged at error level or above (pino: 50 error, 60 fatal). */
export function errorLines(logFile: string): Record<string, unknown>[] {
  const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => typeof entry.level === 'number' && entry.level >= 50);
}
