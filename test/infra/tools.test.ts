import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withDirLock } from '../../dev/dir-lock';
import { ensureTools, toolsDir } from '../../dev/tools';
import { testServers } from '../support/test-servers';

describe('tool cache', () => {
  it('installs nothing and logs nothing when every tool is already in the cache', async () => {
    const lines: string[] = [];
    const paths = await ensureTools({ log: (line) => lines.push(line) });
    // Every install and every wait for another one logs a line: none means nothing was built or fetched.
    expect(lines).toEqual([]);
    const servers = testServers();
    expect(paths).toEqual({
      temporal: servers.temporalCli,
      temporalTestServer: servers.temporalTestServer,
      ferretdb: servers.ferretdb,
    });
  });

  it('lives in CONVOFLOW_TOOLS_DIR when set, else under XDG_CACHE_HOME, else under ~/.cache', () => {
    expect(toolsDir({ CONVOFLOW_TOOLS_DIR: '/opt/tools', XDG_CACHE_HOME: '/x' })).toBe('/opt/tools');
    expect(toolsDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/convoflow/tools');
    expect(toolsDir({})).toBe(path.join(os.homedir(), '.cache', 'convoflow', 'tools'));
  });
});

describe('install lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(testServers().runDir, 'lock-'));
  });

  it('lets only one of two concurrent installs work at a time', async () => {
    const lock = path.join(dir, 'lock');
    let inside = 0;
    let most = 0;
    const work = async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 50));
      inside--;
    };
    await Promise.all([withDirLock(lock, work), withDirLock(lock, work), withDirLock(lock, work)]);
    expect(most).toBe(1);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const lock = path.join(dir, 'lock');
    await fs.mkdir(lock);
    await fs.writeFile(path.join(lock, 'owner'), '999999999'); // above any pid_max
    await expect(withDirLock(lock, async () => 'done', { timeoutMs: 2_000 })).resolves.toBe('done');
  });
});
