import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stopChild } from '../infra/server-process';

/**
 * A TypeScript entry point (worker/main.ts, api/main.ts, bench/noop-worker.ts) as its own Node process
 * through tsx, reporting `{ type: 'ready' }` on its IPC channel. Unlike infra/node-child.ts, its output goes
 * to a log file, not our terminal: the benchmark's progress lines stay readable, and a failure shows the
 * tail. (A candidate for infra/ if anyone else wants it.)
 */
export interface BenchProcess {
  name: string;
  pid: number;
  ready: Promise<void>;
  hasExited(): boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once, as a crash would; resolves once the process is gone. */
  kill9(): Promise<void>;
  logFile: string;
  tail(lines?: number): string;
}

function tsxLoader(): string {
  const root = path.dirname(require.resolve('tsx/package.json'));
  return `file://${path.join(root, 'dist', 'loader.mjs')}`;
}

export function spawnBenchProcess(opts: {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  cwd: string;
  /** CommonJS modules to load before anything else (node --require), e.g. bench/ferretdb-index-shim.cjs. */
  preload?: string[];
}): BenchProcess {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const out = fs.openSync(opts.logFile, 'a');
  const preload = (opts.preload ?? []).flatMap((file) => ['--require', file]);
  const child = spawn(process.execPath, [...preload, '--import', tsxLoader(), opts.script], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', out, out, 'ipc'],
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${opts.name}`);
  let exited = false;
  const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  const tail = (n = 20) => {
    try {
      return fs.readFileSync(opts.logFile, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  };
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready') resolve();
    });
    void exitedPromise.then(({ code, signal }) =>
      reject(new Error(`${opts.name} exited before it was ready (${signal ?? `exit code ${code}`}); its log:\n${tail()}`)),
    );
  });
  ready.catch(() => undefined);
  return {
    name: opts.name,
    pid: child.pid,
    ready,
    exited: exitedPromise,
    hasExited: () => exited,
    logFile: opts.logFile,
    tail,
    stop: (graceMs) =>
      stopChild(
        child,
        exitedPromise.then(() => undefined),
        () => exited,
        graceMs,
      ),
    async kill9() {
      if (exited) return;
      child.kill('SIGKILL');
      await exitedPromise;
    },
  };
}
