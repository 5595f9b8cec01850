import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { spawnNodeChild } from '../../dev/node-child';
import { applyTemporalSetup, checkTemporalSetup, describeProblems, ensureTemporalSetup, TemporalSetupError } from '../../infra/temporal-setup';
import { toolVersions } from '../../dev/tools';
import { conversationSearchAttributes } from '../../workflows/conversation/search-attributes';
import { testServers } from '../support/test-servers';

/** The start-up check against a real server: the shared dev server, with namespaces of each test's own. */

const root = path.resolve(__dirname, '../..');
let connection: Connection;
let address: string;

beforeAll(async () => {
  address = testServers().temporalAddress;
  connection = await Connection.connect({ address });
});
afterAll(async () => {
  await connection.close();
});

const names = conversationSearchAttributes.map((k) => k.name).sort();

describe('checking a cluster for what convoflow needs', () => {
  it('finds nothing missing on the namespace the test servers set up', async () => {
    expect(await checkTemporalSetup(connection, 'default')).toEqual([]);
  });

  it('reports a namespace that does not exist, and says to run npm run setup:temporal', async () => {
    const namespace = `absent-${randomUUID().slice(0, 8)}`;
    const problems = await checkTemporalSetup(connection, namespace);
    expect(problems).toEqual([{ kind: 'namespace-missing', namespace }]);
    const text = describeProblems(problems, { address, namespace });
    expect(text).toContain(`namespace ${namespace} does not exist`);
    expect(text).toContain('npm run setup:temporal');
  });

  it('creates a missing namespace and registers every search attribute, then finds nothing missing; a second run changes nothing', async () => {
    const namespace = `fresh-${randomUUID().slice(0, 8)}`;
    const done = await applyTemporalSetup(connection, { address, namespace });
    expect(done).toEqual([`created namespace ${namespace}`, ...conversationSearchAttributes.map((k) => `registered ${k.name}`)]);
    expect(await checkTemporalSetup(connection, namespace)).toEqual([]);
    expect(await applyTemporalSetup(connection, { address, namespace })).toEqual([]);
  });

  it('stops with every missing search attribute named when registering was not asked for', async () => {
    const namespace = `bare-${randomUUID().slice(0, 8)}`;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const error: TemporalSetupError = await ensureTemporalSetup(connection, { address, namespace }, { register: false }).then(
      () => Promise.reject(new Error('expected a TemporalSetupError')),
      (e: TemporalSetupError) => e,
    );
    expect(error).toBeInstanceOf(TemporalSetupError);
    expect(error.problems.map((p) => (p.kind === 'namespace-missing' ? p.namespace : p.name)).sort()).toEqual(names);
    for (const name of names) expect(error.message).toContain(`temporal operator search-attribute create --address ${address} --namespace ${namespace} --name ${name} --type Keyword`);
  });

  it('on a self-hosted cluster that refuses these credentials, says someone with operator rights must run the setup', () => {
    const text = describeProblems([{ kind: 'search-attribute-missing', name: 'AccountId', type: 'KEYWORD' }], { address, namespace: 'default' }, { refused: '7 PERMISSION_DENIED' });
    expect(text).toContain('operator rights');
    expect(text).toContain('7 PERMISSION_DENIED');
    expect(text).toContain('--name AccountId --type Keyword');
    expect(text).not.toContain('TEMPORAL_SETUP=register');
  });

  it('tells a Temporal Cloud user to use the Cloud UI or tcld, not the setup command', () => {
    const text = describeProblems(
      conversationSearchAttributes.map((k) => ({ kind: 'search-attribute-missing' as const, name: k.name, type: k.type })),
      { address: 'acme.a1b2c.tmprl.cloud:7233', namespace: 'acme.a1b2c' },
    );
    expect(text).toContain('Cloud UI');
    expect(text).toContain('tcld namespace search-attributes add --namespace acme.a1b2c --search-attribute "ConversationStatus=Keyword"');
    expect(text).not.toContain('setup:temporal');
  });
});

describe('one Temporal server version everywhere', () => {
  it('the dev server runs the server version the cluster tier builds and docker-compose.yml pins', async () => {
    const { serverVersion } = await connection.workflowService.getSystemInfo({});
    expect(serverVersion).toBe(toolVersions.temporalServer);
  });
});

describe('the worker and the API at start', () => {
  it('the API started with TEMPORAL_SETUP=register sets up a fresh namespace itself, then serves', async () => {
    const namespace = `register-${randomUUID().slice(0, 8)}`;
    const { mongoUri, runDir } = testServers();
    const api = spawnNodeChild({
      name: 'api',
      script: path.join(root, 'api/main.ts'),
      cwd: root,
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, TEMPORAL_SETUP: 'register', MONGODB_URI: mongoUri, LOG_LEVEL: 'warn', PORT: '0' },
      logFile: path.join(runDir, `api-${namespace}.log`),
    });
    try {
      await api.ready;
      expect(await checkTemporalSetup(connection, namespace)).toEqual([]);
    } finally {
      await api.stop();
    }
  });

  it.each(['worker/main.ts', 'api/main.ts'])('%s exits with a message naming the missing namespace and the fix', (script) => {
    const namespace = `absent-${randomUUID().slice(0, 8)}`;
    const { mongoUri } = testServers();
    const result = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, MONGODB_URI: mongoUri, LOG_LEVEL: 'silent', PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`namespace ${namespace} does not exist`);
    expect(result.stderr).toContain('npm run setup:temporal');
  });
});
