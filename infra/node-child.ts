import { spawn } from 'node:child_process';
import path from 'node:path';
import { stopChild } from './server-process';

/**
 * A TypeScript entry point (worker/main.ts, api/main.ts) run as its own Node process through tsx, with an
 * IPC channel on which it reports `{ type: 'ready' }` once it serves. Output goes straight to our terminal.
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
};

/** tsx's ESM loader as a file URL, resolved from this project so the child never depends on its cwd. */
function tsxLoader(): string {
  const root = path.dirname(require.resolve('tsx/package.json'));
  return `file://${path.join(root, 'dist', 'loader.mjs')}`;
}

export function spawnNodeChild(opts: { name: string; script: string; env: NodeJS.ProcessEnv; cwd?: string }): NodeChild {
  const child = spawn(process.execPath, ['--import', tsxLoader(), opts.script], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${opts.name} (${opts.script})`);
  let exited = false;
  const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready') resolve();
    });
    void exitedPromise.then(({ code, signal }) =>
      reject(new Error(`${opts.name} exited before it was ready (${signal ?? `exit code ${code}`})`)),
    );
  });
  ready.catch(() => undefined); // the caller may not be awaiting it when the child exits
  return {
    name: opts.name,
    pid: child.pid,
    ready,
    exited: exitedPromise,
    hasExited: () => exited,
    stop: (graceMs) =>
      stopChild(
        child,
        exitedPromise.then(() => undefined),
        () => exited,
        graceMs,
      ),
  };
}
