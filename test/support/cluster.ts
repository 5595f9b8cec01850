import { ClusterControl } from '../../dev/temporal-cluster';

/** Set by the cluster tier's global setup: the run folder of its Temporal cluster. */
export const clusterRunDirVariable = 'CONVOFLOW_TEST_CLUSTER_RUN_DIR';

/** The cluster the tier started, to kill and restart its processes; throws outside the cluster tier. */
export function testCluster(env: NodeJS.ProcessEnv = process.env): ClusterControl {
  const runDir = env[clusterRunDirVariable];
  if (!runDir) throw new Error(`${clusterRunDirVariable} is not set: run this file with npm run test:cluster (jest.cluster.config.js)`);
  return new ClusterControl(runDir);
}
