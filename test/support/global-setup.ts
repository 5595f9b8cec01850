import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFerretDB, startTemporalDevServer } from '../../dev/local-servers';
import type { FerretDBServer, TemporalDevServer } from '../../dev/local-servers';
import { claimRunDir, killRecorded, reapAbandonedRuns, recordPid } from '../../dev/pid-records';
import { ensureTools } from '../../dev/tools';
import { testServerVariables } from './test-servers';

/**
 * Starts one Temporal dev server and one FerretDB for the whole jest run, on free ports, with their data
 * in a fresh temporary folder (never DATA_DIR), and publishes them to test files through environment
 * variables (read them with testServers()). Global teardown stops them.
 */

export const runDirPrefix = 'convoflow-test-';

export type GlobalServers = { runDir: string; temporal: TemporalDevServer; ferretdb: FerretDBServer };

/** Shared with global-teardown.ts: jest runs both in its parent process. */
export const globalKey = '__convoflowTestServers';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  // Folders of runs whose jest was killed before teardown, with any server still running in them.
  reapAbandonedRuns(os.tmpdir(), runDirPrefix);

  const tools = await ensureTools({ log: (line) => process.stderr.write(`[tools] ${line}\n`) });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), runDirPrefix));
  claimRunDir(runDir);
  killOnAbruptExit(runDir);

  const [temporal, ferretdb] = await Promise.all([
    startTemporalDevServer({
      binary: tools.temporal,
      headless: true,
      dbFile: path.join(runDir, 'temporal', 'temporal.db'),
      logFile: path.join(runDir, 'temporal.log'),
      onSpawn: (pid) => recordPid(runDir, pid, tools.temporal),
    }),
    startFerretDB({
      binary: tools.ferretdb,
      dataDir: path.join(runDir, 'ferretdb'),
      logFile: path.join(runDir, 'ferretdb.log'),
      onSpawn: (pid) => recordPid(runDir, pid, tools.ferretdb),
    }),
  ]);
  (globalThis as Record<string, unknown>)[globalKey] = { runDir, temporal, ferretdb } satisfies GlobalServers;

  process.env[testServerVariables.temporalAddress] = temporal.address;
  process.env[testServerVariables.mongoUri] = ferretdb.uri;
  process.env[testServerVariables.temporalTestServer] = tools.temporalTestServer;
  process.env[testServerVariables.temporalCli] = tools.temporal;
  process.env[testServerVariables.ferretdb] = tools.ferretdb;
  process.env[testServerVariables.runDir] = runDir;
  if (process.env.CONVOFLOW_TEST_VERBOSE) {
    process.stderr.write(`\ntest servers ready in ${Date.now() - started} ms: ${temporal.address}, ${ferretdb.uri}\n`);
  }
}

/**
 * If jest exits without teardown (process.exit, a fatal error, SIGTERM/SIGHUP from a CI timeout), kill
 * the servers synchronously. A Ctrl-C needs nothing: the servers share jest's process group and get it.
 */
export function killOnAbruptExit(runDir: string): void {
  const cleanup = () => {
    killRecorded(runDir);
    fs.rmSync(runDir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanup();
      process.kill(process.pid, signal); // our listener is gone now, so this takes the default action
    });
  }
}
