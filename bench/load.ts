/**
 * Load shapes and the statistics of what they measured. Every loop is bounded both in count and in time,
 * so a stalled server ends a phase with a figure instead of hanging the run.
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    count: sorted.length,
    p50: r(percentile(sorted, 50)),
    p95: r(percentile(sorted, 95)),
    p99: r(percentile(sorted, 99)),
    max: r(sorted.at(-1) ?? NaN),
    mean: r(sorted.length ? sum / sorted.length : NaN),
  };
}

export interface LoopResult {
  ok: number;
  failed: number;
  elapsedMs: number;
  /** Successful operations per second over the loop's wall time. */
  rate: number;
  latencies: number[];
  /** Status or error text of failures, counted. */
  failures: Record<string, number>;
}

/** What one operation reports: true on success, or a short reason for the failure tally. */
export type Task = (i: number) => Promise<true | string>;

function newResult(): LoopResult {
  return { ok: 0, failed: 0, elapsedMs: 0, rate: 0, latencies: [], failures: {} };
}

async function timed(task: Task, i: number, result: LoopResult): Promise<void> {
  const started = performance.now();
  let outcome: true | string;
  try {
    outcome = await task(i);
  } catch (error) {
    outcome = error instanceof Error ? error.message.slice(0, 80) : String(error);
  }
  if (outcome === true) {
    result.ok++;
    result.latencies.push(performance.now() - started);
  } else {
    result.failed++;
    result.failures[outcome] = (result.failures[outcome] ?? 0) + 1;
  }
}

/**
 * Closed loop: `concurrency` operations always in flight, until `count` operations or `durationMs`,
 * whichever comes first. At saturation this measures throughput.
 */
export async function closedLoop(opts: {
  concurrency: number;
  count: number;
  durationMs: number;
  task: Task;
  onProgress?: (done: number, elapsedMs: number) => void;
}): Promise<LoopResult> {
  const result = newResult();
  const started = performance.now();
  const deadline = started + opts.durationMs;
  let next = 0;
  let lastReport = started;
  const lane = async () => {
    while (next < opts.count && performance.now() < deadline) {
      const i = next++;
      await timed(opts.task, i, result);
      const now = performance.now();
      if (opts.onProgress && now - lastReport >= 2_000) {
        lastReport = now;
        opts.onProgress(result.ok + result.failed, now - started);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  result.elapsedMs = performance.now() - started;
  result.rate = result.ok / (result.elapsedMs / 1000);
  return result;
}

/**
 * Open loop: operations start at a fixed rate regardless of how long earlier ones take (so a slow server
 * meets the same offered load), for `durationMs`. At most `maxInFlight` run at once; an operation that
 * would exceed it is counted as failed ('overloaded') rather than queued, so overload shows as failures.
 */
export async function openLoop(opts: {
  rate: number;
  durationMs: number;
  maxInFlight?: number;
  task: Task;
  /** Ends the loop early once it returns true. */
  stop?: () => boolean;
}): Promise<LoopResult & { offered: number }> {
  const result = newResult();
  const maxInFlight = opts.maxInFlight ?? 256;
  const total = Math.max(1, Math.floor((opts.rate * opts.durationMs) / 1000));
  const interval = 1000 / opts.rate;
  const started = performance.now();
  const running = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (opts.stop?.()) break;
    if (running.size >= maxInFlight) {
      result.failed++;
      result.failures.overloaded = (result.failures.overloaded ?? 0) + 1;
      continue;
    }
    const p: Promise<void> = timed(opts.task, i, result).finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
  result.elapsedMs = performance.now() - started;
  result.rate = result.ok / (result.elapsedMs / 1000);
  return { ...result, offered: opts.rate };
}

/**
 * Polls `check` until it returns true or `timeoutMs` passes; returns whether it succeeded and when.
 * Between checks it waits `intervalMs`, or four times as long as the last check took if that is
 * longer: a check that scans a collection (FerretDB answers most filters that way) then takes at most
 * a fifth of the server's time, instead of competing with the load it observes.
 */
export async function waitUntil(check: () => Promise<boolean>, opts: { timeoutMs: number; intervalMs?: number }): Promise<{ ok: boolean; at: number }> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const started = Date.now();
    try {
      if (await check()) return { ok: true, at: Date.now() };
    } catch {
      // a server being restarted; try again
    }
    if (Date.now() > deadline) return { ok: false, at: Date.now() };
    await sleep(Math.max(opts.intervalMs ?? 100, 4 * (Date.now() - started)));
  }
}

export { mapLimit } from '../infra/map-limit';
