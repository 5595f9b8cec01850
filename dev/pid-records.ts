import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from './dir-lock';

/**
 * A run folder remembers who owns it (`owner`, a pid) and which server processes it started (`pids/<pid>`
 * holding the binary path). If the owner dies without cleaning up (kill -9, a crashed test runner), the
 * next run finds the folder and stops the leftovers. A pid is only killed while /proc shows it still runs
 * the recorded binary, so a recycled pid is never hit. Synchronous on purpose: it is also used from
 * process 'exit' handlers.
 */

export function claimRunDir(runDir: string): void {
  fs.mkdirSync(path.join(runDir, 'pids'), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'owner'), String(process.pid));
}

/** The pid of a live process that owns this run folder, if any. */
export function liveOwner(runDir: string): number | undefined {
  const pid = Number.parseInt(readOr(path.join(runDir, 'owner'), ''), 10);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : undefined;
}

export function recordPid(runDir: string, pid: number, binary: string): void {
  fs.mkdirSync(path.join(runDir, 'pids'), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'pids', String(pid)), binary);
}

export function forgetPid(runDir: string, pid: number): void {
  fs.rmSync(path.join(runDir, 'pids', String(pid)), { force: true });
}

/** SIGKILLs every recorded process that still runs its recorded binary; returns how many. */
export function killRecorded(runDir: string): number {
  const dir = path.join(runDir, 'pids');
  let killed = 0;
  for (const name of readdirOr(dir)) {
    const pid = Number.parseInt(name, 10);
    const binary = readOr(path.join(dir, name), '');
    if (Number.isInteger(pid) && binary && runsBinary(pid, binary)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // exited meanwhile
      }
    }
    fs.rmSync(path.join(dir, name), { force: true });
  }
  return killed;
}

/** Removes run folders named `${prefix}*` under `parent` whose owner is dead, killing their leftovers. */
export function reapAbandonedRuns(parent: string, prefix: string): number {
  let reaped = 0;
  for (const name of readdirOr(parent)) {
    if (!name.startsWith(prefix)) continue;
    const runDir = path.join(parent, name);
    if (!fs.existsSync(path.join(runDir, 'owner')) || liveOwner(runDir) !== undefined) continue;
    killRecorded(runDir);
    fs.rmSync(runDir, { recursive: true, force: true });
    reaped++;
  }
  return reaped;
}

function runsBinary(pid: number, binary: string): boolean {
  const cmdline = readOr(`/proc/${pid}/cmdline`, '');
  return cmdline.split('\0')[0] === binary;
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function readdirOr(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
