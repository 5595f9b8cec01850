import fs from 'node:fs';
import path from 'node:path';
import { defaultWorkerMaxCachedWorkflows } from '../../infra/config';
import { heapNeededMiB, workerEnv, workerHeapMiB, workerMallocArenas, workerNodeArgs } from '../../infra/worker-launch';

const root = path.resolve(__dirname, '../..');

describe('worker launch settings', () => {
  it('caps the heap unless NODE_OPTIONS already chose a size', () => {
    expect(workerNodeArgs({})).toEqual([`--max-old-space-size=${workerHeapMiB}`]);
    expect(workerNodeArgs({ NODE_OPTIONS: '--enable-source-maps' })).toEqual([`--max-old-space-size=${workerHeapMiB}`]);
    expect(workerNodeArgs({ NODE_OPTIONS: '--enable-source-maps --max-old-space-size=4096' })).toEqual([]);
  });

  it('limits the malloc arenas unless the operator set their own limit', () => {
    expect(workerEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: String(workerMallocArenas) });
    expect(workerEnv({ MALLOC_ARENA_MAX: '8' }).MALLOC_ARENA_MAX).toBe('8');
  });

  it('is what `npm run worker` uses too', () => {
    const script = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.worker;
    expect(script).toBe(`MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-${workerMallocArenas}} exec node ${workerNodeArgs({}).join(' ')} --import tsx worker/main.ts`);
  });

  it('is what docker-compose runs the worker with', () => {
    expect(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')).toContain(`command: ["node", "${workerNodeArgs({}).join('", "')}", "--import", "tsx", "worker/main.ts"]`);
  });

  it('fits the default cache, and says what a larger one needs', () => {
    expect(heapNeededMiB(defaultWorkerMaxCachedWorkflows)).toBeLessThanOrEqual(workerHeapMiB);
    expect(heapNeededMiB(0)).toBeLessThan(heapNeededMiB(1));
    expect(heapNeededMiB(10_000)).toBeGreaterThan(workerHeapMiB);
    // 130 KiB a cached conversation (twice the 65 KiB measured) over a 128 MiB base.
    expect(heapNeededMiB(10_000)).toBe(Math.ceil(128 + (10_000 * 130) / 1024));
  });
});
