import { Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from './config';
import { applyTemporalSetup, checkTemporalSetup, describeProblems, TemporalSetupError } from './temporal-setup';
import type { TemporalTarget } from './temporal-setup';

/**
 * `npm run setup:temporal [-- --check] [-- --retention-days=N]`: the one-time setup of an existing Temporal
 * cluster for convoflow, with the same TEMPORAL_* variables the worker and API read. Creates the namespace
 * if it is missing (closed workflows kept N days, default 3) and registers the search attributes the
 * workflows use; `--check` only reports. Safe to run again: what exists is left alone. Waits up to two
 * minutes for the cluster to answer, so docker-compose.yml can run it as soon as the server container starts.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const address = config.temporal.address;
  if (!address) throw new ConfigError('TEMPORAL_ADDRESS: set it to the cluster to set up (npm start sets up its own dev server)');
  const target: TemporalTarget = { address, namespace: config.temporal.namespace, apiKey: config.temporal.apiKey };
  const retentionArg = process.argv.find((a) => a.startsWith('--retention-days='));
  const retentionDays = retentionArg ? Number(retentionArg.slice('--retention-days='.length)) : 3;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new ConfigError('--retention-days: must be a whole number of days, at least 1');
  const connection = await connectWhenUp(address, config.temporal.tls, config.temporal.apiKey);
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

async function connectWhenUp(address: string, tls: boolean, apiKey: string | undefined): Promise<Connection> {
  const deadline = Date.now() + 120_000;
  for (let told = false; ; told = true) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, tls, apiKey, connectTimeout: 5_000 });
      // A frontend that accepts connections may not reach its history service yet.
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (error) {
      await connection?.close().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} did not answer within 2 minutes: ${error instanceof Error ? error.message : String(error)}`);
      if (!told) console.log(`waiting for Temporal at ${address} to answer`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
