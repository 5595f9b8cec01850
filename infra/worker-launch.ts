/**
 * How a worker process is launched, wherever it is: `npm start`, `npm run worker`, docker-compose, the
 * benchmark and the chaos runs. Both settings bound memory that the workflow cache does not (README,
 * "Worker memory"), and a test keeps every launcher in step with these values.
 *
 * - V8's old space capped at 1 GiB per isolate (the main thread and the workflow thread each). On a
 *   machine with more than 16 GiB V8 otherwise lets each heap grow to four times what it holds before a
 *   full collection; under 2 GiB the factor is 1.3 to 2. The cache at its default holds far less
 *   than the cap, so it is never reached in normal running.
 * - glibc's malloc limited to two arenas: the SDK core's threads otherwise each grow an arena of their
 *   own, and memory freed in one is not reused by another.
 *
 * Measured at 10,000 open conversations with the default cache (2,500), quick run, one each: worker
 * RSS 1,145 MiB with neither, 950 MiB with the heap cap, 821 MiB with both.
 */
export const workerHeapMiB = 1024;
export const workerMallocArenas = 2;

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
