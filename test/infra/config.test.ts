import { ConfigError, defaultWorkerMaxCachedWorkflows, loadConfig, namesExternalDatabase, requireSecretsKey } from '../../infra/config';

describe('configuration', () => {
  it.each([
    ['PORT', 'eighty'],
    ['TEMPORAL_ADDRESS', 'no-port-here'],
    ['MONGODB_URI', 'postgres://x'],
    ['TEMPORAL_TLS', 'yes'],
    ['LOG_LEVEL', 'loud'],
    ['WORKER_MAX_CACHED_WORKFLOWS', 'many'],
    ['WORKER_MAX_CACHED_WORKFLOWS', '-5'],
    ['WORKER_MAX_CACHED_WORKFLOWS', '10'],
    ['SECRETS_KEY', 'too-short'],
    ['SECRETS_KEY', Buffer.alloc(16).toString('base64')],
    ['SECRETS_KEY_PREVIOUS', 'nope'],
    ['OUTBOUND_ALLOW_PRIVATE', 'yes'],
    ['WHATSAPP_GRAPH_URL', 'http://graph.example.com'],
  ])('rejects %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it('starts the embedded servers on their default ports when nothing is set', () => {
    const config = loadConfig({});
    expect(config.temporal.address).toBeUndefined();
    expect(config.mongo.uri).toBeUndefined();
    expect(config.embedded).toEqual({ temporalPort: 7233, temporalUiPort: 8233, ferretdbPort: 27017 });
  });

  it('takes the worker cache size from WORKER_MAX_CACHED_WORKFLOWS: 0 turns the cache off', () => {
    expect(loadConfig({}).workerMaxCachedWorkflows).toBe(defaultWorkerMaxCachedWorkflows);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '2500' }).workerMaxCachedWorkflows).toBe(2500);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).workerMaxCachedWorkflows).toBe(0);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '' }).workerMaxCachedWorkflows).toBe(defaultWorkerMaxCachedWorkflows);
  });

  it('reads SECRETS_KEY (32 bytes, base64) and the older keys that still open', () => {
    const key = Buffer.alloc(32, 7);
    const old = Buffer.alloc(32, 9);
    const config = loadConfig({ SECRETS_KEY: key.toString('base64'), SECRETS_KEY_PREVIOUS: `${old.toString('base64url')}` });
    expect(config.secrets.key).toEqual(key);
    expect(config.secrets.previous).toEqual([old]);
    expect(loadConfig({}).secrets).toEqual({ key: undefined, previous: [] });
  });

  it('refuses to start against an external database without SECRETS_KEY, with a message that says what to do', () => {
    const external = loadConfig({ MONGODB_URI: 'mongodb://user:pw@db.internal:27017/convoflow' });
    expect(() => requireSecretsKey(external)).toThrow(ConfigError);
    expect(() => requireSecretsKey(external)).toThrow(/SECRETS_KEY: required when MONGODB_URI names an external database.*openssl rand -base64 32/);
    expect(() => requireSecretsKey(loadConfig({ MONGODB_URI: 'mongodb://127.0.0.1:27017/' }))).not.toThrow();
    expect(() => requireSecretsKey(loadConfig({ MONGODB_URI: external.mongo.uri, SECRETS_KEY: Buffer.alloc(32).toString('base64') }))).not.toThrow();
    expect(namesExternalDatabase('mongodb+srv://cluster0.example.net/')).toBe(true);
    expect(namesExternalDatabase('mongodb://localhost:27017,db2.example.net:27017/?replicaSet=rs')).toBe(true);
    expect(namesExternalDatabase('mongodb://u:p@localhost:27017/x')).toBe(false);
    expect(namesExternalDatabase('mongodb://[::1]:27017')).toBe(false);
  });

  it('lets OUTBOUND_ALLOW_PRIVATE lift the outbound rules, off by default', () => {
    expect(loadConfig({}).outbound.allowPrivate).toBe(false);
    expect(loadConfig({ OUTBOUND_ALLOW_PRIVATE: 'true' }).outbound.allowPrivate).toBe(true);
  });

  it('takes WHATSAPP_GRAPH_URL over https, or over http on loopback only (a fake Graph API)', () => {
    expect(loadConfig({ WHATSAPP_GRAPH_URL: 'http://127.0.0.1:9911' }).whatsappGraphUrl).toBe('http://127.0.0.1:9911');
    expect(loadConfig({}).whatsappGraphUrl).toBe('https://graph.facebook.com');
  });

  it('runs the reports pack builder every 15 s unless REPORT_PACKS_EVERY says otherwise or "off"; a bad value names the variable', () => {
    expect(loadConfig({}).reportPacksEveryMs).toBe(15_000);
    expect(loadConfig({ REPORT_PACKS_EVERY: '2m' }).reportPacksEveryMs).toBe(120_000);
    expect(loadConfig({ REPORT_PACKS_EVERY: 'off' }).reportPacksEveryMs).toBeNull();
    expect(() => loadConfig({ REPORT_PACKS_EVERY: '10ms' })).toThrow(/REPORT_PACKS_EVERY/);
  });
});
