/**
 * How a worker process is launched, wherever it is: `npm start`, `npm run worker`, docker-compose, the
 * benchmark and the chaos runs. Both settings bound memory that the workflow cache does not (README,
 * "Worker memory"), and a test keeps every launcher in step with these values.
 *
 * - V8's old space capped at 640 MiB per isolate (the main thread and the workflow thread each). V8 lets
 *   a heap grow well past what it holds before a full collection, the more the higher the cap: on a
 *   machine with more than 16 GiB and no cap, about four times. The workflow thread holds about 65 KiB
 *   per cached conversation (`npm run bench:heap`), so the default cache (2,500) lives in about 190 MiB.
 *   `heapNeededMiB` says what a larger cache needs; the worker warns at start when its heap is smaller.
 * - glibc's malloc limited to two arenas: the SDK core's threads otherwise each grow an arena of their
 *   own, and memory freed in one is not reused by another.
 *
 * Measured at 10,000 open conversations with the default cache (2,500), quick run, one each: worker
 * RSS 1,145 MiB with neither, 950 MiB with a 1 GiB cap, 821 MiB with both (2026-11-27). After the
 * ingest and timers phases of a full-size run: 1,046 MiB with a 1 GiB cap, 927 MiB with 640 MiB, the
 * auto-close burst's lateness unchanged (2026-12-07).
 */
export const workerHeapMiB = 640;
export const workerMallocArenas = 2;

/** The workflow thread's heap before any conversation is cached (the bundle, the SDK: 28 MiB measured), with room. */
const heapBaseMiB = 128;
/** Twice the live heap one cached conversation was measured to hold, so V8 has room to collect. */
const heapPerCachedConversationKiB = 130;

/** The heap cap a worker caching `maxCachedWorkflows` conversations needs (README, "Worker memory"). */
export function heapNeededMiB(maxCachedWorkflows: number): number {
  return Math.ceil(heapBaseMiB + (maxCachedWorkflows * heapPerCachedConversationKiB) / 1024);
}

/**
 * Node's flags for a worker. A heap size the operator already chose in `NODE_OPTIONS` wins: Node
 * applies the command line after `NODE_OPTIONS`, so ours is left out then.
 */
export function workerNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return /--max-old-space-size\b/.test(env.NODE_OPTIONS ?? '') ? [] : [`--max-old-space-size=${workerHeapMiB}`];
}

/** The worker's environment: the given one, with the arena limit unless the operator set their own. */
export function workerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: String(workerMallocArenas), ...env };
}
