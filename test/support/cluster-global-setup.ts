import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFerretDB } from '../../dev/local-servers';
import { claimRunDir, reapAbandonedRuns, recordPid } from '../../dev/pid-records';
import { createCluster, ensureClusterTools } from '../../dev/temporal-cluster';
import { ensureTools } from '../../dev/tools';
import { globalKey, killOnAbruptExit } from './global-setup';
import { clusterRunDirVariable } from './cluster';
import { testServerVariables } from './test-servers';

/**
 * Global setup of the cluster tier (jest.cluster.config.js, `npm run test:cluster`): instead of the dev
 * server, a real Temporal cluster (PostgreSQL + frontend, history, matching and worker as separate
 * processes) set up the way the README tells an operator to: `npm run setup:temporal` against a fresh
 * cluster. Test files see it through the same variables as the default tier, so test/api runs unchanged,
 * plus CONVOFLOW_TEST_CLUSTER_RUN_DIR for the fault tests (test/support/cluster.ts).
 */

export const clusterRunDirPrefix = 'convoflow-cluster-';
const root = path.resolve(__dirname, '../..');

export default async function clusterGlobalSetup(): Promise<void> {
  const started = Date.now();
  const say = (line: string) => process.stderr.write(`[cluster ${((Date.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
  reapAbandonedRuns(os.tmpdir(), clusterRunDirPrefix);
  const tools = await ensureTools({ log: (line) => say(`[tools] ${line}`) });
  await ensureClusterTools({ log: (line) => say(`[tools] ${line}`) });

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), clusterRunDirPrefix));
  claimRunDir(runDir);
  killOnAbruptExit(runDir);
  say(`run folder ${runDir}`);
  const cluster = await createCluster(runDir, say);
  await cluster.startTemporal(say);

  const setup = spawnSync(process.execPath, ['--import', 'tsx', 'infra/setup-temporal.ts'], {
    cwd: root,
    env: { ...process.env, TEMPORAL_ADDRESS: cluster.address, TEMPORAL_NAMESPACE: 'default' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (setup.status !== 0) throw new Error(`npm run setup:temporal failed on the fresh cluster:\n${setup.stdout}${setup.stderr}`);
  say(`setup:temporal: ${setup.stdout.trim().split('\n').at(-1)}`);

  const ferretdb = await startFerretDB({
    binary: tools.ferretdb,
    dataDir: path.join(runDir, 'ferretdb'),
    logFile: path.join(runDir, 'logs', 'ferretdb.log'),
    onSpawn: (pid) => recordPid(runDir, pid, tools.ferretdb),
  });
  (globalThis as Record<string, unknown>)[globalKey] = { runDir, cluster: true, ferretdb };

  process.env[testServerVariables.temporalAddress] = cluster.address;
  process.env[testServerVariables.mongoUri] = ferretdb.uri;
  process.env[testServerVariables.temporalTestServer] = tools.temporalTestServer;
  process.env[testServerVariables.temporalCli] = tools.temporal;
  process.env[testServerVariables.ferretdb] = tools.ferretdb;
  process.env[testServerVariables.runDir] = runDir;
  process.env[clusterRunDirVariable] = runDir;
  say(`cluster ready at ${cluster.address}; FerretDB at ${ferretdb.uri}`);
}
