import fs from 'node:fs/promises';
import path from 'node:path';
import { loadOrCreatePlatformKey } from '../../dev/platform-key';
import { testServers } from '../support/test-servers';

describe('generated platform key', () => {
  it('is created once, readable by its owner only, and the same on the next start', async () => {
    const dataDir = await fs.mkdtemp(path.join(testServers().runDir, 'data-'));
    const first = await loadOrCreatePlatformKey(dataDir);
    const second = await loadOrCreatePlatformKey(dataDir);
    expect(first.created).toBe(true);
    expect(first.key.length).toBeGreaterThanOrEqual(32);
    expect(second).toEqual({ ...first, created: false });
    expect((await fs.stat(first.file)).mode & 0o777).toBe(0o600);
  });
});
