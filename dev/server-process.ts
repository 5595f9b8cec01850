import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A long-running server binary we started: its output goes to an optional log file and a small in-memory
 * tail (so a start-up failure can show why), and stop() signals only this process's own pid.
 */
export type ServerProcess = {
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited, however that happened. */
  exited: Promise<void>;
  hasExited(): boolean;
  /** The last lines the process printed, for error messages. */
  tail(lines?: number): string;
  stop(graceMs?: number): Promise<void>;
};

export type SpawnServerOptions = {
  binary: string;
  args: string[];
  /** Appends the server's stdout and stderr here. */
  logFile?: string;
  /** Called with every output line, e.g. to forward it to a test's log. */
  onLog?: (line: string) => void;
  /**
   * Own process group, so a Ctrl-C in the terminal reaches only our supervisor, which can then stop the
   * worker and API before the servers they depend on.
   */
  detached?: boolean;
  /** Variables added to (or overriding) this process's environment for the server. */
  env?: Record<string, string>;
};

const tailSize = 60;

export function spawnServer(opts: SpawnServerOptions): ServerProcess {
  const child = spawn(opts.binary, opts.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  if (child.pid === undefined) {
    // spawn reports ENOENT/EACCES asynchronously but leaves pid undefined synchronously.
    throw new Error(`could not start ${opts.binary}`);
  }
  const pid = child.pid;
  const lines: string[] = [];
  if (opts.logFile) fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const file = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  // A log file we cannot write must not crash the supervisor; the in-memory tail still works.
  file?.on('error', (error) => lines.push(`[log file error: ${error.message}]`));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      lines.push(`[process exited: ${signal ?? `code ${code}`}]`);
      resolve();
    });
    child.once('error', (error) => {
      lines.push(`[process error: ${error.message}]`);
      if (child.exitCode === null && child.signalCode === null && !child.pid) {
        exited = true;
        resolve();
      }
    });
  });
  void exitedPromise.then(() => file?.end());

  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      file?.write(chunk);
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        opts.onLog?.(line);
      }
      if (lines.length > tailSize) lines.splice(0, lines.length - tailSize);
    });
  }
  // Our pipes must not keep a test runner or supervisor alive on their own.
  if (opts.detached) child.unref();

  return {
    pid,
    child,
    exited: exitedPromise,
    hasExited: () => exited,
    tail: (n = 25) => lines.slice(-n).join('\n'),
    stop: (graceMs) => stopChild(child, exitedPromise, () => exited, graceMs),
  };
}

/** SIGTERM to the process's own pid, SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(
  child: ChildProcess,
  exitedPromise: Promise<void>,
  hasExited: () => boolean,
  graceMs = 10_000,
): Promise<void> {
  if (hasExited()) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exitedPromise.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
  ]);
  clearTimeout(timer);
  if (timedOut && !hasExited()) {
    child.kill('SIGKILL');
    await exitedPromise;
  }
}

/**
 * Polls `check` until it resolves, failing early with the server's last output if the server exits,
 * or after `timeoutMs` with the last error of `check` and that output.
 */
export async function waitUntilReady(
  server: ServerProcess,
  what: string,
  check: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (server.hasExited()) {
      throw new Error(`${what} exited before it was ready. Its last output:\n${server.tail()}`);
    }
    try {
      await check();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      await server.stop(2_000);
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(
        `${what} did not answer within ${timeoutMs / 1000} s (last error: ${reason}). Its last output:\n${server.tail()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
