import fs from 'node:fs';
import path from 'node:path';
import { startFerretDB } from '../../dev/local-servers';
import type { FerretDBServer } from '../../dev/local-servers';
import { forgetPid, recordPid } from '../../dev/pid-records';

/**
 * What jest's global setup started for this run, read from the environment it published. Test files
 * call this instead of reading process.env, so a missing setup fails with one clear message.
 */
export type TestServers = {
  /** host:port of the shared Temporal dev server (headless, default namespace, search attributes registered). */
  temporalAddress: string;
  /** mongodb:// URI of the shared FerretDB; give each test its own database name. */
  mongoUri: string;
  /** Binary for TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } }). */
  temporalTestServer: string;
  /** Temporal CLI binary, e.g. for createLocal({ server: { executable: ... } }). */
  temporalCli: string;
  /** FerretDB binary, for a test that starts and stops its own database (see startOwnFerretDB). */
  ferretdb: string;
  /** Scratch folder of this run; removed by global teardown. */
  runDir: string;
};

export const testServerVariables = {
  temporalAddress: 'CONVOFLOW_TEST_TEMPORAL_ADDRESS',
  mongoUri: 'CONVOFLOW_TEST_MONGODB_URI',
  temporalTestServer: 'CONVOFLOW_TEST_TEMPORAL_TEST_SERVER',
  temporalCli: 'CONVOFLOW_TEST_TEMPORAL_CLI',
  ferretdb: 'CONVOFLOW_TEST_FERRETDB',
  runDir: 'CONVOFLOW_TEST_RUN_DIR',
} as const satisfies Record<keyof TestServers, string>;

export function testServers(env: NodeJS.ProcessEnv = process.env): TestServers {
  const missing = Object.values(testServerVariables).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `test servers are not available (${missing.join(', ')} not set): run tests through jest with ` +
        `jest.config.js, whose globalSetup (test/support/global-setup.ts) starts them`,
    );
  }
  const read = (key: keyof TestServers) => env[testServerVariables[key]] as string;
  return {
    temporalAddress: read('temporalAddress'),
    mongoUri: read('mongoUri'),
    temporalTestServer: read('temporalTestServer'),
    temporalCli: read('temporalCli'),
    ferretdb: read('ferretdb'),
    runDir: read('runDir'),
  };
}

export type OwnFerretDB = FerretDBServer & {
  dataDir: string;
  port: number;
  /** Stops the server (if running) and deletes its data folder. */
  dispose(): Promise<void>;
};

/**
 * A FerretDB only this test uses, e.g. to stop it and watch readiness go false. Pass the `dataDir` and
 * `port` of an earlier one to start it again on the same data and address. Its pid is recorded in the
 * run folder so global teardown kills it even if the test never calls stop().
 */
export async function startOwnFerretDB(opts: { dataDir?: string; port?: number; extraArgs?: string[] } = {}): Promise<OwnFerretDB> {
  const { ferretdb, runDir } = testServers();
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(runDir, 'own-ferretdb-'));
  const server = await startFerretDB({
    binary: ferretdb,
    dataDir,
    port: opts.port,
    extraArgs: opts.extraArgs,
    logFile: path.join(dataDir, 'ferretdb.log'),
    onSpawn: (pid) => recordPid(runDir, pid, ferretdb),
  });
  const port = Number(new URL(server.uri).port);
  const stop = async () => {
    await server.stop();
    forgetPid(runDir, server.pid);
  };
  return {
    ...server,
    dataDir,
    port,
    stop,
    dispose: async () => {
      await stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
