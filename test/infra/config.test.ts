import { ConfigError, defaultWorkerMaxCachedWorkflows, loadConfig } from '../../infra/config';

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
});
