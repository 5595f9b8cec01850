import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configVariables, loadConfig, requireSecretsKey, requireServers } from '../../infra/config';
import { toolVersions } from '../../dev/tools';
import { workerEnv, workerNodeArgs } from '../../infra/worker-launch';
import { conversationSearchAttributes } from '../../workflows/conversation/search-attributes';

/** Docker cannot run here, so these check what can be checked without it. */

const root = path.resolve(__dirname, '../..');
type Service = {
  image?: string;
  ports?: (string | number | { host_ip?: string; published?: string | number; target: number })[];
  expose?: unknown[];
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
};
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

/** Compose interpolation: `${NAME:-default}` takes the default, `${NAME:?message}` needs a value from outside. */
function interpolate(value: string | number): string {
  return String(value).replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) =>
    kind === '-' ? (rest ?? '') : name === 'SECRETS_KEY' ? Buffer.alloc(32, 1).toString('base64') : `value-given-for-${name}-outside-the-file`,
  );
}

function environmentOf(name: string): Record<string, string> {
  const env = services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, interpolate(value)]));
}

describe('docker-compose.yml', () => {
  it('runs the production topology: Temporal on PostgreSQL, its UI, MongoDB, worker and API', () => {
    expect(services.temporal?.image).toMatch(/^temporalio\/(auto-setup|server):/);
    expect(services.postgresql?.image).toMatch(/^postgres:/);
    expect(services['temporal-ui']?.image).toMatch(/^temporalio\/ui:/);
    expect(services.mongodb?.image).toMatch(/^mongo:/);
    expect(services.mongodb?.command).toEqual(expect.arrayContaining(['--replSet']));
    expect(services.worker?.build).toBe('.');
    expect(services.api?.build).toBe('.');
  });

  it.each(['worker', 'api'])('gives the %s only variables that infra/config.ts accepts (or the process launch settings), with values it accepts', (name) => {
    const env = environmentOf(name);
    const launchSettings = name === 'worker' ? Object.keys(workerEnv({})) : [];
    expect(Object.keys(env).filter((key) => !configVariables.includes(key) && !launchSettings.includes(key))).toEqual([]);
    const config = loadConfig(env);
    expect(() => requireServers(config)).not.toThrow();
    // MongoDB is another host: without SECRETS_KEY the process would refuse to start.
    expect(() => requireSecretsKey(config)).not.toThrow();
    expect(config.mongo.uri).toContain('replicaSet=');
  });

  /** Each published port of a service: the host address it binds (empty: every interface) and the host port. */
  function published(name: string): { hostIp: string; port: string }[] {
    return (services[name]?.ports ?? []).map((entry) => {
      if (typeof entry === 'object') return { hostIp: entry.host_ip ?? '', port: String(entry.published ?? '') };
      // Short syntax: [HOST_IP:][HOST_PORT:]CONTAINER_PORT, HOST_IP possibly [bracketed] IPv6.
      const text = String(entry);
      const ip = /^(\[[^\]]+\]|\d+\.\d+\.\d+\.\d+):/.exec(text);
      const rest = (ip ? text.slice(ip[0].length) : text).split(':');
      return { hostIp: ip ? ip[1]!.replace(/^\[|\]$/g, '') : '', port: rest.length > 1 ? rest[0]! : '' };
    });
  }
  const loopback = (ip: string) => /^127\./.test(ip) || ip === '::1';

  it('publishes only the API beyond loopback; Temporal and its UI on 127.0.0.1 only; the databases not at all (SPEC section 12)', () => {
    const beyondLoopback = Object.keys(services).filter((name) => published(name).some((p) => !loopback(p.hostIp)));
    expect(beyondLoopback).toEqual(['api']);
    expect(published('temporal')).toEqual([{ hostIp: '127.0.0.1', port: '7233' }]);
    expect(published('temporal-ui')).toEqual([{ hostIp: '127.0.0.1', port: '8233' }]);
    for (const database of ['postgresql', 'mongodb']) expect({ database, ports: services[database]?.ports ?? [] }).toEqual({ database, ports: [] });
    // The worker's metrics port stays on the compose network.
    expect(services.worker?.ports ?? []).toEqual([]);
  });

  it('is explained in README: the Temporal namespace is a trust boundary', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Trust boundaries'));
    expect(readme).toContain('### Trust boundaries');
    expect(section.slice(0, section.indexOf('\n### ', 5))).toMatch(/Temporal namespace is a trust boundary[\s\S]*args\.actor[\s\S]*mTLS[\s\S]*authorizer/);
  });

  it('gives the API a platform key it must be handed from outside', () => {
    expect(String(services.api?.environment?.PLATFORM_API_KEY)).toMatch(/^\$\{PLATFORM_API_KEY:\?/);
  });

  it.each([
    ['worker', 'worker/main.ts', workerNodeArgs({})],
    ['api', 'api/main.ts', []],
  ])('starts the %s with node and tsx on %s, which exists', (name, script, nodeArgs) => {
    expect(services[name]?.command).toEqual(['node', ...nodeArgs, '--import', 'tsx', script]);
    expect(fs.existsSync(path.join(root, script))).toBe(true);
  });

  it('gives the worker the malloc arena limit every worker launcher uses', () => {
    expect(String(services.worker?.environment?.MALLOC_ARENA_MAX)).toBe(workerEnv({}).MALLOC_ARENA_MAX);
  });

  it('sets Temporal up with the project setup command, which registers exactly the search attributes the workflows upsert', () => {
    const setup = services['temporal-setup'];
    expect(setup?.build).toBe('.');
    expect(setup?.command).toEqual(['node', '--import', 'tsx', 'infra/setup-temporal.ts']);
    expect(fs.existsSync(path.join(root, 'infra/setup-temporal.ts'))).toBe(true);
    const env = environmentOf('temporal-setup');
    expect(Object.keys(env).filter((key) => !configVariables.includes(key))).toEqual([]);
    expect(loadConfig(env).temporal.address).toBe(loadConfig(environmentOf('worker')).temporal.address);
    // The setup command registers this list (infra/temporal-setup.ts); no second copy of it lives in the file.
    expect(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')).not.toMatch(/search-attribute create/);
    expect(conversationSearchAttributes.map((k) => k.name).sort()).toEqual(['AccountId', 'AssigneeId', 'ConversationStatus']);
  });

  it.each(['worker', 'api'])('starts the %s only after the setup has succeeded', (name) => {
    expect(services[name]?.depends_on?.['temporal-setup']?.condition).toBe('service_completed_successfully');
  });

  it('runs the Temporal server and its schema tool at the version the cluster test tier builds and tests', () => {
    const tag = (name: string) => services[name]?.image?.split(':')[1];
    expect(services.temporal?.image).toMatch(/^temporalio\/server:/);
    expect(services['temporal-schema']?.image).toMatch(/^temporalio\/admin-tools:/);
    expect(tag('temporal')).toBe(toolVersions.temporalServer);
    expect(tag('temporal-schema')).toBe(toolVersions.temporalServer);
  });

  it('builds from a Node 20 image that installs production dependencies only', () => {
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toContain('npm ci --omit=dev');
  });

  it('runs node itself as the entry point (exec form), so SIGTERM from the runtime reaches the process that handles it', () => {
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    // npm, the tsx CLI or a shell form (`CMD node ...` runs under /bin/sh -c) would stand between the
    // runtime's signal and the process; npm and the tsx CLI do not forward it reliably.
    expect(dockerfile).not.toMatch(/^ENTRYPOINT/m);
    expect(dockerfile.match(/^CMD .*$/gm)).toEqual(['CMD ["node", "--import", "tsx", "api/main.ts"]']);
  });
});

describe('.env.example', () => {
  it('lists exactly the variables infra/config.ts reads, with values it accepts', () => {
    const lines = fs
      .readFileSync(path.join(root, '.env.example'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line));
    const env = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(Object.keys(env).sort()).toEqual([...configVariables].sort());
    expect(() => loadConfig(env)).not.toThrow();
  });
});
