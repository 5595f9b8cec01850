import { ConfigError, loadConfig } from '../../infra/config';

describe('configuration', () => {
  it.each([
    ['PORT', 'eighty'],
    ['TEMPORAL_ADDRESS', 'no-port-here'],
    ['MONGODB_URI', 'postgres://x'],
    ['TEMPORAL_TLS', 'yes'],
    ['LOG_LEVEL', 'loud'],
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
});
