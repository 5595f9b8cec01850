import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../dev/free-port';
import { testServers } from '../support/test-servers';

/**
 * Issue 11 item 0b: `npm start` stops everything it started, whichever of SIGINT or SIGTERM reaches it
 * and wherever it is sent: to the npm process (what a process manager or container runtime signals), to
 * the start script itself, or to the whole process group (a terminal's Ctrl-C). Each case runs the real
 * `npm start` on free ports with a fresh DATA_DIR, waits until it is ready, signals, and then checks
 * that every process it started is gone and every port it listened on is free.
 */

const projectRoot = path.resolve(__dirname, '../..');

interface Started {
  npm: ChildProcess;
  output: () => string;
  ports: Record<'api' | 'temporal' | 'temporalUi' | 'ferretdb', number>;
  dataDir: string;
  /** Every process below npm once it was ready: the start script, worker, API and both servers. */
  tree: { pid: number; cmdline: string }[];
}

const started: Started[] = [];

afterEach(() => {
  // A failed case must not leave servers running on a machine shared with other test runs.
  for (const run of started.splice(0)) {
    for (const { pid } of run.tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (run.npm.exitCode === null && run.npm.signalCode === null) run.npm.kill('SIGKILL');
  }
});

async function npmStart(): Promise<Started> {
  const dataDir = fs.mkdtempSync(path.join(testServers().runDir, 'npm-start-'));
  const ports = { api: await freePort(), temporal: await freePort(), temporalUi: await freePort(), ferretdb: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(ports.api),
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.temporalUi),
    FERRETDB_PORT: String(ports.ferretdb),
    LOG_LEVEL: 'warn',
  };
  for (const name of ['TEMPORAL_ADDRESS', 'MONGODB_URI', 'PLATFORM_API_KEY', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS']) delete env[name];
  // Its own process group, as a terminal would give it: the group case signals exactly that group.
  const npm = spawn('npm', ['start'], { cwd: projectRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  npm.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  npm.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const run: Started = { npm, output: () => text, ports, dataDir, tree: [] };
  started.push(run);
  await waitFor(() => text.includes('convoflow ready'), 150_000, () => `npm start was not ready:\n${text}`);
  run.tree = descendants(npm.pid!);
  return run;
}

type Target = 'npm process' | 'start script' | 'process group';

function targetPid(run: Started, target: Target): number {
  if (target === 'npm process') return run.npm.pid!;
  if (target === 'process group') return -run.npm.pid!;
  // The start script is the process whose children are the worker and the API.
  const worker = run.tree.find((p) => p.cmdline.includes('worker/main.ts'));
  const parent = worker && parentOf(worker.pid);
  if (!parent) throw new Error(`no start script found in ${JSON.stringify(run.tree)}`);
  return parent;
}

describe('npm start shuts down [load]', () => {
  test.each<[NodeJS.Signals, Target]>([
    ['SIGTERM', 'npm process'],
    ['SIGINT', 'npm process'],
    ['SIGTERM', 'start script'],
    ['SIGINT', 'start script'],
    ['SIGTERM', 'process group'],
    ['SIGINT', 'process group'],
  ])('%s to the %s stops Temporal, FerretDB, the worker and the API, and frees their ports', async (signal, target) => {
    const run = await npmStart();
    const names = run.tree.map((p) => p.cmdline);
    expect(names.some((c) => c.includes('worker/main.ts'))).toBe(true);
    expect(names.some((c) => c.includes('api/main.ts'))).toBe(true);
    expect(names.some((c) => /temporal\b.*start-dev/.test(c))).toBe(true);
    expect(names.some((c) => c.includes('ferretdb'))).toBe(true);

    process.kill(targetPid(run, target), signal);
    const exited = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 45_000);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      if (run.npm.exitCode !== null || run.npm.signalCode !== null) done();
      else run.npm.once('exit', done);
    });
    expect(exited).toBe(true);
    // npm returns once its script has; everything below it must be gone by then, not later.
    await waitFor(() => run.tree.every((p) => !alive(p.pid)), 5_000, () => `still running after npm exited: ${JSON.stringify(run.tree.filter((p) => alive(p.pid)))}\n${run.output()}`);
    for (const [name, port] of Object.entries(run.ports)) expect({ name, port, free: await portFree(port) }).toEqual({ name, port, free: true });
    expect(fs.readdirSync(path.join(run.dataDir, 'run', 'pids'))).toEqual([]);
    expect(run.output()).toContain('stopping worker and API, then the servers');
  }, 240_000);

  test('npm killed with SIGKILL (nothing is forwarded): the start script notices and stops everything', async () => {
    const run = await npmStart();
    run.npm.kill('SIGKILL');
    await waitFor(() => run.tree.every((p) => !alive(p.pid)), 45_000, () => `still running: ${JSON.stringify(run.tree.filter((p) => alive(p.pid)))}\n${run.output()}`);
    for (const [name, port] of Object.entries(run.ports)) expect({ name, port, free: await portFree(port) }).toEqual({ name, port, free: true });
  }, 240_000);
});

function readProc(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  const stat = readProc(pid, 'stat');
  // The command name in parentheses may contain spaces: the fields after the last ')' are fixed.
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : undefined;
}

/** Running and not a zombie. */
function alive(pid: number): boolean {
  const stat = readProc(pid, 'stat');
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

function descendants(root: number): { pid: number; cmdline: string }[] {
  const byParent = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent !== undefined) byParent.set(parent, [...(byParent.get(parent) ?? []), pid]);
  }
  const out: { pid: number; cmdline: string }[] = [];
  const visit = (pid: number) => {
    for (const child of byParent.get(pid) ?? []) {
      out.push({ pid: child, cmdline: (readProc(child, 'cmdline') ?? '').split('\0').join(' ') });
      visit(child);
    }
  };
  visit(root);
  return out;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    // No host: the API listens on every interface, the servers on 127.0.0.1; this conflicts with both.
    server.listen({ port }, () => server.close(() => resolve(true)));
  });
}

async function waitFor(check: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 100));
  }
}
