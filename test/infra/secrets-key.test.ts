import fs from 'node:fs/promises';
import path from 'node:path';
import { loadOrCreateSecretsKey } from '../../dev/secrets-key';
import { loadConfig } from '../../infra/config';
import { testServers } from '../support/test-servers';

describe('generated SECRETS_KEY', () => {
  it('is created once, readable by its owner only, the same on the next start, and a key the config accepts', async () => {
    const dataDir = await fs.mkdtemp(path.join(testServers().runDir, 'data-'));
    const first = await loadOrCreateSecretsKey(dataDir);
    const second = await loadOrCreateSecretsKey(dataDir);
    expect(first.created).toBe(true);
    expect(second).toEqual({ ...first, created: false });
    expect((await fs.stat(first.file)).mode & 0o777).toBe(0o600);
    expect(loadConfig({ SECRETS_KEY: first.key }).secrets.key).toHaveLength(32);
  });

  it('refuses a file that holds no key instead of replacing it (the stored secrets need the old one)', async () => {
    const dataDir = await fs.mkdtemp(path.join(testServers().runDir, 'data-'));
    await fs.writeFile(path.join(dataDir, 'secrets-key'), 'not a key\n');
    await expect(loadOrCreateSecretsKey(dataDir)).rejects.toThrow(/holds no 32-byte base64 key/);
    expect(await fs.readFile(path.join(dataDir, 'secrets-key'), 'utf8')).toBe('not a key\n');
  });
});
