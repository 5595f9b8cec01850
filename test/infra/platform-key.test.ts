import fs from 'node:fs/promises';
import path from 'node:path';
import { loadOrCreatePlatformKey, platformKeyBannerLine } from '../../dev/platform-key';
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

  it("is printed by the start banner, unlike a key from PLATFORM_API_KEY, which is the operator's and never shown", async () => {
    const dataDir = await fs.mkdtemp(path.join(testServers().runDir, 'data-'));
    const generated = await loadOrCreatePlatformKey(dataDir);
    expect(platformKeyBannerLine({ from: 'data-dir', ...generated })).toContain(generated.key);
    expect(platformKeyBannerLine({ from: 'data-dir', ...(await loadOrCreatePlatformKey(dataDir)) })).toContain(generated.key);
    const fromEnvironment = platformKeyBannerLine({ from: 'environment' });
    expect(fromEnvironment).toMatch(/PLATFORM_API_KEY \(not shown\)/);
  });
});
