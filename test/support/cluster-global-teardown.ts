import fs from 'node:fs';
import type { FerretDBServer } from '../../dev/local-servers';
import { killRecorded } from '../../dev/pid-records';
import { ClusterControl } from '../../dev/temporal-cluster';
import { globalKey } from './global-setup';

/**
 * Stops the cluster tier's processes: FerretDB, the Temporal services (whichever pids the fault tests left
 * running) and PostgreSQL, each by its recorded pid; then anything else recorded, and deletes the folder
 * unless CONVOFLOW_KEEP_CLUSTER is set (its logs/ then tell what happened).
 */
export default async function clusterGlobalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>)[globalKey] as { runDir: string; ferretdb: FerretDBServer } | undefined;
  if (!state) return;
  await state.ferretdb.stop().catch(() => undefined);
  await new ClusterControl(state.runDir).stopAll().catch(() => undefined);
  killRecorded(state.runDir);
  if (process.env.CONVOFLOW_KEEP_CLUSTER) process.stderr.write(`\ncluster run folder kept: ${state.runDir}\n`);
  else fs.rmSync(state.runDir, { recursive: true, force: true });
}
