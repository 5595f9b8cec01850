import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stopChild } from './server-process';

/**
 * A TypeScript entry point (worker/main.ts, api/main.ts) run as its own Node process through tsx, with an
 * IPC channel on which it reports `{ type: 'ready' }` once it serves. Output goes straight to our terminal,
 * or to `logFile` when one is given (the benchmark keeps its progress lines readable that way).
 */
export type NodeChild = {
  name: string;
  pid: number;
  /** Resolves on the child's ready message; rejects if it exits first. */
  ready: Promise<void>;
  /** Resolves with how the child ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once, as a crash would; resolves once the process is gone. */
  kill9(): Promise<void>;
  /** The last lines of `logFile` (empty without one). */
  tail(lines?: number): string;
};

/** tsx's ESM loader as a file URL, resolved from this project so the child never depends on its cwd. */
function tsxLoader(): string {
  const root = path.dirname(require.resolve('tsx/package.json'));
  return `file://${path.join(root, 'dist', 'loader.mjs')}`;
}

export function spawnNodeChild(opts: { name: string; script: string; env: NodeJS.ProcessEnv; cwd?: string; logFile?: string; nodeArgs?: string[] }): NodeChild {
  const { logFile } = opts;
  const out = logFile === undefined ? 'inherit' : openLog(logFile);
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', tsxLoader(), opts.script], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: [logFile === undefined ? 'inherit' : 'ignore', out, out, 'ipc'],
  });
  if (typeof out === 'number') fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${opts.name} (${opts.script})`);
  let exited = false;
  const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  const tail = (lines = 20): string => {
    if (logFile === undefined) return '';
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready') resolve();
    });
    void exitedPromise.then(({ code, signal }) =>
      reject(new Error(`${opts.name} exited before it was ready (${signal ?? `exit code ${code}`})${logFile ? `; its log:\n${tail()}` : ''}`)),
    );
  });
  ready.catch(() => undefined); // the caller may not be awaiting it when the child exits
  return {
    name: opts.name,
    pid: child.pid,
    ready,
    exited: exitedPromise,
    hasExited: () => exited,
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

function openLog(file: string): number {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return fs.openSync(file, 'a');
}
