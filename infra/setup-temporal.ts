import { Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from './config';
import { applyTemporalSetup, checkTemporalSetup, describeProblems, TemporalSetupError } from './temporal-setup';
import type { TemporalTarget } from './temporal-setup';

/**
 * `npm run setup:temporal [-- --check]`: the one-time setup of an existing Temporal cluster for convoflow,
 * with the same TEMPORAL_* variables the worker and API read. Creates the namespace if it is missing
 * (retention TEMPORAL_RETENTION_DAYS, default 3) and registers the search attributes the workflows use;
 * `--check` only reports. Safe to run again: what exists is left alone. docker-compose.yml runs it too.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const address = config.temporal.address;
  if (!address) throw new ConfigError('TEMPORAL_ADDRESS: set it to the cluster to set up (npm start sets up its own dev server)');
  const target: TemporalTarget = { address, namespace: config.temporal.namespace, apiKey: config.temporal.apiKey };
  const retentionDays = Number(process.env.TEMPORAL_RETENTION_DAYS ?? 3);
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new ConfigError('TEMPORAL_RETENTION_DAYS: must be a whole number of days, at least 1');
  const connection = await Connection.connect({ address, tls: config.temporal.tls, apiKey: config.temporal.apiKey, connectTimeout: 10_000 });
  try {
    if (process.argv.includes('--check')) {
      const problems = await checkTemporalSetup(connection, target.namespace);
      if (problems.length > 0) throw new TemporalSetupError(describeProblems(problems, target), problems);
      console.log(`Temporal at ${address}, namespace ${target.namespace}: ready for convoflow`);
      return;
    }
    const done = await applyTemporalSetup(connection, target, { retentionDays, log: (line) => console.log(line) });
    console.log(`Temporal at ${address}, namespace ${target.namespace}: ${done.length > 0 ? done.join(', ') : 'already set up'}; ready for convoflow`);
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
