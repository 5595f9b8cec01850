import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A lock that is a directory: mkdir is atomic on every file system we care about, and needs no native
 * module. The owner's pid is written inside so a lock left by a killed process is taken over instead of
 * waited on forever.
 */
export async function withDirLock<T>(
  lockDir: string,
  work: () => Promise<T>,
  { timeoutMs = 15 * 60_000, onWait }: { timeoutMs?: number; onWait?: (ownerPid: number | undefined) => void } = {},
): Promise<T> {
  await acquire(lockDir, timeoutMs, onWait);
  try {
    return await work();
  } finally {
    await fs.rm(lockDir, { recursive: true, force: true });
  }
}

async function acquire(
  lockDir: string,
  timeoutMs: number,
  onWait: ((ownerPid: number | undefined) => void) | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      await fs.writeFile(path.join(lockDir, 'owner'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(lockDir);
    // The owner writes its pid right after mkdir; an unreadable owner is either that instant or a crash
    // between the two calls, so only an old ownerless lock counts as abandoned.
    if (owner === undefined ? await olderThan(lockDir, 10_000) : !isAlive(owner)) {
      await fs.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!told) {
      onWait?.(owner);
      told = true;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockDir} held by pid ${owner}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function readOwner(lockDir: string): Promise<number | undefined> {
  const text = await fs.readFile(path.join(lockDir, 'owner'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  const stat = await fs.stat(file).catch(() => undefined);
  return stat !== undefined && Date.now() - stat.mtimeMs > ms;
}

/** Signal 0 checks existence; EPERM means it exists but belongs to someone else. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
