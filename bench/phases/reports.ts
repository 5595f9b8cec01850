import { createHash } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { collections } from '../../store/collections';
import { episodeDoc, writeEpisodeRow } from '../../store/episodes';
import { seededRow } from '../../test/support/episode-seed';
import { createBenchAccount, customerId } from '../accounts';
import type { BenchAccount } from '../accounts';
import type { BenchContext } from '../context';
import { closedLoop, mapLimit, sleep, summarize } from '../load';
import type { LatencySummary } from '../load';
import { cpuSeconds, rssMiB } from '../proc-stats';
import { waitForInbound } from '../verify';
import { messageBody, round } from './ingest';

/**
 * SPEC 11's report goals (issue 27): the summary of 100,000 episodes < 1 s, the CSV export of 100,000
 * rows streamed in < 10 s with flat API memory, and persist with the episode rows on within 10 % of off.
 *
 * Rows are folded by the pure core from real decisions (test/support/episode-seed.ts) and written through
 * `writeEpisodeRow`, the function persist writes them with (compact documents, `writtenAt` stamped), 16 at
 * a time, so the summary's packs are built as in production: by the first summary that reads the months
 * without one. Then, over HTTP through an API process without the background pack builder (the bench starts
 * APIs with REPORT_PACKS_EVERY=off):
 * - the cold case: the summary (`groupBy=agent`, the whole range; no pack: every row read, the summary packs
 *   written) and the CSV export (no row pack: every row read); then one summary after the packs' one-minute
 *   margin has passed since the last row was written (it repacks the rows written within it);
 * - the background builder: the summary packs are dropped and a second API process with the builder
 *   (REPORT_PACKS_EVERY, default 15 s; `BENCH_REPORT_PACKS_EVERY`) is started; how long until every month
 *   has both packs; that process is stopped before the reads below;
 * - the summary's first read after the builder ran (the packs read from the store, then kept parsed by the
 *   API process: store/episode-packs.ts `packCache`), then `summaryCalls` warm calls, p50/p99;
 * - JSON pages of 100: the first page and a page deep in the range (its cursor from a walk), p50/p99;
 * - the CSV export of the whole range from the row packs, twice (its SHA-256 must equal the cold export's),
 *   read as a stream by the bench while the API process's RSS is sampled every 100 ms: before, peak, after;
 * - persist cost: the ingest phase's load (POST /messages, 32 in flight, new conversations, until every
 *   view is persisted) with the worker started with `WORKER_EPISODE_ROWS=false` and `true`, rounds off, on,
 *   on, off; per side the persisted rate and the stack's CPU seconds per message; ratios on/off.
 */
export interface ReportsResult {
  rows: number;
  loadAverage: { atStart: number[]; atEnd: number[] };
  seed: { ms: number; rowsPerSecond: number };
  summary: { coldMs: number; afterMarginMs: number; afterBuilderMs: number; warmMs: LatencySummary; groups: number; episodes: number };
  /** The background builder (an API process with REPORT_PACKS_EVERY): how long after it started every month had both packs. */
  builder: { every: string; months: number; ms: number };
  pages: { firstMs: LatencySummary; deepMs: LatencySummary };
  /** The CSV export before any row pack (every row read). */
  csvCold: CsvRun;
  /** The CSV export after the builder ran (row packs), twice. */
  csv: CsvRun[];
  persist: {
    conversations: number;
    loadMs: number;
    rounds: { side: 'off' | 'on'; accepted: number; persistedRate: number; cpuSecondsPerMessage: number; loadAverage1m: number }[];
    /** on / off of the pooled persisted rates (goal: at least 0.9). */
    rateRatio: number;
    /** on / off of the pooled CPU seconds per message (goal: at most 1.1). */
    cpuRatio: number;
  };
}

export interface CsvRun {
  ms: number;
  bytes: number;
  lines: number;
  /** Of the whole text: exports from row packs must equal the one from the rows. */
  sha256: string;
  rssMiB: { before: number; peak: number; after: number };
}

/** The three goals: summary warm p99 < 1 s, every CSV export < 10 s with the API's RSS flat, persist within 10 %. */
export function reportsGoals(r: ReportsResult): { reportsSummary: boolean; reportsCsv: boolean; reportsPersist: boolean } {
  return {
    // Warm, and the first read after the background builder packed the months.
    reportsSummary: r.summary.warmMs.p99 < 1_000 && r.summary.afterBuilderMs < 1_000,
    // Flat: the peak within 64 MiB of the RSS before (a page or two of rows, whatever the row count).
    reportsCsv: r.csv.every((x) => x.ms < 10_000 && x.rssMiB.peak - x.rssMiB.before < 64),
    reportsPersist: r.persist.rateRatio >= 0.9 && r.persist.cpuRatio <= 1.1,
  };
}

function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got ${raw}`);
  return n;
}

const load = () => os.loadavg().map((x) => round(x, 2));

export async function runReports(ctx: BenchContext): Promise<ReportsResult> {
  const { stack, api } = ctx;
  const atStart = load();
  const rows = envCount('BENCH_REPORTS_ROWS', ctx.quick ? 10_000 : 100_000);
  const summaryCalls = envCount('BENCH_REPORTS_SUMMARY_CALLS', ctx.quick ? 10 : 20);
  const account = await createBenchAccount(api.http, stack.platformKey, 'reports');
  const c = collections(stack.db);

  ctx.log(`reports: seeding ${rows} episode rows through writeEpisodeRow, 16 at a time`);
  const seedStart = Date.now();
  const start = Date.UTC(2026, 0, 1);
  await mapLimit(
    Array.from({ length: rows }, (_, i) => i),
    16,
    async (i) => {
      await writeEpisodeRow(c, episodeDoc(seededRow(account.id, i, start), 1), undefined, 'read-then-write');
      if ((i + 1) % 20_000 === 0) ctx.log(`  ${i + 1} rows`);
    },
  );
  const seeded = Date.now();
  const seed = { ms: seeded - seedStart, rowsPerSecond: round((rows / (seeded - seedStart)) * 1000) };
  ctx.log(`  seeded in ${(seed.ms / 1000).toFixed(1)} s (${seed.rowsPerSecond} rows/s)`);

  const range = `from=${new Date(start).toISOString()}&to=${new Date(start + 366 * 86_400_000 - 1).toISOString()}`;
  const summaryPath = `/v1/accounts/${account.id}/reports/summary?${range}&groupBy=agent`;
  const timed = async (path: string): Promise<{ ms: number; body: any }> => {
    const t = performance.now();
    const res = await api.http.request('GET', path, account.managerKey, undefined, 600_000);
    const ms = performance.now() - t;
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return { ms, body: res.body };
  };

  // The API the phase reads through has no pack builder (the stack starts APIs with it off): first the reads
  // of months without packs (the cold case), then an API process with the builder is started beside it.
  const listPath = `/v1/accounts/${account.id}/reports/episodes?${range}`;
  const cold = await timed(summaryPath);
  const episodes = (cold.body.items as { episodesStarted: number }[]).reduce((n, i) => n + i.episodesStarted, 0);
  if (episodes !== rows) throw new Error(`summary counted ${episodes} episodes of ${rows}`);
  ctx.log(`  summary, cold (no pack; packs written): ${cold.ms.toFixed(0)} ms, ${cold.body.items.length} groups`);
  const csvCold = await streamCsv(api.baseUrl, listPath, account.managerKey, api.proc.pid);
  if (csvCold.lines !== rows + 1) throw new Error(`CSV had ${csvCold.lines} lines for ${rows} rows`);
  ctx.log(`  CSV export, cold (no row pack: every row read): ${(csvCold.ms / 1000).toFixed(1)} s`);
  // The packs' margin (one minute) from the last row written: rows within it are read on top of a pack.
  const wait = seeded + 61_000 - Date.now();
  if (wait > 0) {
    ctx.log(`  waiting ${(wait / 1000).toFixed(0)} s: the packs' one-minute margin from the last row written`);
    await sleep(wait);
  }
  const afterMargin = await timed(summaryPath);
  ctx.log(`  summary after the margin (repacks the rows written within it): ${afterMargin.ms.toFixed(0)} ms`);

  // The background builder: the summary packs above are dropped, so it builds both kinds for every month.
  await c.episodePacks.headers.deleteMany({ accountId: account.id });
  const builderEvery = process.env.BENCH_REPORT_PACKS_EVERY ?? '15s';
  const builderApi = await stack.startApi({ REPORT_PACKS_EVERY: builderEvery });
  const months = (await c.episodeMonths.find({ accountId: account.id }).toArray()).map((m) => m.month);
  const builderStart = Date.now();
  let builderMs = 0;
  try {
    for (;;) {
      const [summaryPacks, rowPacks] = await Promise.all([c.episodePacks.headers.distinct('month', { accountId: account.id }), c.episodePacks.rowHeaders.distinct('month', { accountId: account.id })]);
      if (months.every((m) => summaryPacks.includes(m) && rowPacks.includes(m))) break;
      if (Date.now() - builderStart > 900_000) throw new Error(`the pack builder did not pack ${months.join(', ')} within 15 minutes`);
      await sleep(1_000);
    }
    builderMs = Date.now() - builderStart;
  } finally {
    // Stopped before the reads: its ticks would share the two cores with what is measured.
    await stack.stopProcess(builderApi.proc);
  }
  ctx.log(`  pack builder (an API process with REPORT_PACKS_EVERY=${builderEvery}): ${months.length} month${months.length === 1 ? '' : 's'} packed ${(builderMs / 1000).toFixed(0)} s after it started`);
  const afterBuilder = await timed(summaryPath);
  if (JSON.stringify(afterBuilder.body) !== JSON.stringify(cold.body)) throw new Error('the summary after the builder differs from the cold one');
  ctx.log(`  summary, first read after the builder ran: ${afterBuilder.ms.toFixed(0)} ms`);

  const warm: number[] = [];
  for (let k = 0; k < summaryCalls; k++) {
    const r = await timed(summaryPath);
    if (JSON.stringify(r.body) !== JSON.stringify(cold.body)) throw new Error('a warm summary differs from the cold one');
    warm.push(r.ms);
  }
  const warmMs = summarize(warm);
  ctx.log(`  summary, warm: p50 ${warmMs.p50} ms, p99 ${warmMs.p99} ms over ${warm.length} calls`);

  // JSON pages: the first, and one deep in the range (its cursor from a walk).
  let cursor: string | null = null;
  for (let walked = 0; walked < Math.floor(rows * 0.9); walked += 1_000) {
    const page: { ms: number; body: any } = await timed(`${listPath}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    cursor = page.body.nextCursor;
    if (cursor === null) break;
  }
  const first: number[] = [];
  const deep: number[] = [];
  for (let k = 0; k < 20; k++) {
    first.push((await timed(`${listPath}&limit=100`)).ms);
    deep.push((await timed(`${listPath}&limit=100${cursor ? `&cursor=${cursor}` : ''}`)).ms);
  }
  const pages = { firstMs: summarize(first), deepMs: summarize(deep) };
  ctx.log(`  JSON page of 100: first p50 ${pages.firstMs.p50} / p99 ${pages.firstMs.p99} ms, deep p50 ${pages.deepMs.p50} / p99 ${pages.deepMs.p99} ms`);

  const csv: ReportsResult['csv'] = [];
  for (let k = 0; k < 2; k++) {
    const run = await streamCsv(api.baseUrl, listPath, account.managerKey, api.proc.pid);
    if (run.lines !== rows + 1) throw new Error(`CSV had ${run.lines} lines for ${rows} rows`);
    if (run.sha256 !== csvCold.sha256) throw new Error('a CSV export from row packs differs from the one read from the rows');
    csv.push(run);
    ctx.log(`  CSV export (row packs): ${(run.ms / 1000).toFixed(1)} s, ${(run.bytes / 2 ** 20).toFixed(1)} MiB; API RSS ${run.rssMiB.before} -> peak ${run.rssMiB.peak} -> ${run.rssMiB.after} MiB`);
  }

  const persist = await persistCost(ctx);
  return {
    rows,
    loadAverage: { atStart, atEnd: load() },
    seed,
    summary: { coldMs: round(cold.ms), afterMarginMs: round(afterMargin.ms), afterBuilderMs: round(afterBuilder.ms), warmMs, groups: cold.body.items.length, episodes },
    builder: { every: builderEvery, months: months.length, ms: builderMs },
    pages,
    csvCold,
    csv,
    persist,
  };
}

/** The CSV export read as a stream (nothing held), with the API process's RSS sampled every 100 ms. */
async function streamCsv(baseUrl: string, path: string, key: string, apiPid: number): Promise<CsvRun> {
  const before = rssMiB(apiPid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(apiPid))), 100);
  const url = new URL(path, baseUrl);
  const t = performance.now();
  try {
    const hash = createHash('sha256');
    const { bytes, lines } = await new Promise<{ bytes: number; lines: number }>((resolve, reject) => {
      const req = http.get(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/csv' } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`CSV: HTTP ${res.statusCode}`));
        let bytes = 0;
        let lines = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
        });
        res.on('end', () => resolve({ bytes, lines }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    const ms = performance.now() - t;
    clearInterval(sampler);
    peak = Math.max(peak, rssMiB(apiPid));
    return { ms: round(ms), bytes, lines, sha256: hash.digest('hex'), rssMiB: { before, peak, after: rssMiB(apiPid) } };
  } finally {
    clearInterval(sampler);
  }
}

/** Ingest with the worker's episode rows off and on, rounds off, on, on, off, each on new conversations. */
async function persistCost(ctx: BenchContext): Promise<ReportsResult['persist']> {
  const { stack, api, sizes } = ctx;
  const n = envCount('BENCH_REPORTS_PERSIST_CONVERSATIONS', ctx.quick ? 300 : 1_500);
  const loadMs = envCount('BENCH_REPORTS_PERSIST_MS', ctx.quick ? 5_000 : 15_000);
  const sides = ['off', 'on', 'on', 'off'] as const;
  const accounts: Record<'off' | 'on', BenchAccount> = {
    off: await createBenchAccount(api.http, stack.platformKey, 'rowsoff'),
    on: await createBenchAccount(api.http, stack.platformKey, 'rowson'),
  };
  const inbound = { off: 0, on: 0 };
  const rounds: ReportsResult['persist']['rounds'] = [];
  let current: 'off' | 'on' | undefined;
  const stackCpu = () => Object.values(stack.pids()).reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0);
  try {
    for (const [r, side] of sides.entries()) {
      if (current !== side) {
        // A fresh worker process with the option: the only difference between the two sides.
        for (const w of [...stack.workers]) await stack.stopProcess(w);
        stack.workerEnv.WORKER_EPISODE_ROWS = side === 'on' ? 'true' : 'false';
        await stack.startWorker();
        current = side;
      }
      const account = accounts[side];
      const customers = Array.from({ length: n }, (_, i) => customerId(40 + r, i));
      ctx.log(`  persist cost, round ${r + 1} (rows ${side}): ${n} new conversations, ${sizes.concurrency} in flight, ${loadMs / 1000} s`);
      const loadAverage1m = round(os.loadavg()[0]!, 2);
      const cpu0 = stackCpu();
      const started = Date.now();
      const res = await closedLoop({
        concurrency: sizes.concurrency,
        count: 1_000_000,
        durationMs: loadMs,
        task: async (i) => {
          const reply = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customers[i % n]!, `rc-${r}-${i}`), account.serviceKey);
          return reply.status === 202 ? true : `HTTP ${reply.status}`;
        },
      });
      inbound[side] += res.ok;
      const caught = await waitForInbound(stack.db, account.id, inbound[side], 180_000);
      if (!caught.ok) throw new Error(`rows ${side}: views did not catch up (${caught.count} of ${inbound[side]})`);
      const cpu = stackCpu() - cpu0;
      const persistedRate = res.ok / ((caught.at - started) / 1000);
      rounds.push({ side, accepted: res.ok, persistedRate: round(persistedRate), cpuSecondsPerMessage: round(cpu / res.ok, 5), loadAverage1m });
      ctx.log(`    ${res.ok} accepted, ${persistedRate.toFixed(0)}/s persisted, ${((cpu / res.ok) * 1000).toFixed(2)} ms of CPU per message`);
    }
  } finally {
    // The worker the rest of the run expects: rows on (the default).
    if (current === 'off') {
      for (const w of [...stack.workers]) await stack.stopProcess(w);
      delete stack.workerEnv.WORKER_EPISODE_ROWS;
      await stack.startWorker();
    }
  }
  const pooled = (side: 'off' | 'on') => {
    const mine = rounds.filter((x) => x.side === side);
    const accepted = mine.reduce((s, x) => s + x.accepted, 0);
    return {
      rate: mine.reduce((s, x) => s + x.persistedRate * x.accepted, 0) / accepted,
      cpu: mine.reduce((s, x) => s + x.cpuSecondsPerMessage * x.accepted, 0) / accepted,
    };
  };
  const off = pooled('off');
  const on = pooled('on');
  return { conversations: n, loadMs, rounds, rateRatio: round(on.rate / off.rate, 3), cpuRatio: round(on.cpu / off.cpu, 3) };
}
