import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toolPath, toolVersions } from '../dev/tools';
import { fullSizes, quickSizes } from './context';
import type { BenchContext } from './context';
import { runCacheMiss, runEfficiency, runOpenConversationMemory } from './phases/efficiency';
import { runInbox } from './phases/inbox';
import { runIngest } from './phases/ingest';
import { runOutbound } from './phases/outbound';
import { runReplies } from './phases/replies';
import { reportsGoals, runReports } from './phases/reports';
import { runScaleOut } from './phases/scale-out';
import { runSearch, searchGoals } from './phases/search';
import { runSlaBreaches, runSlaCost, runSlaMemory, slaBreachesGoalMet, slaCostGoalMet, slaEnvironmentKeys, slaMemoryGoalMet } from './phases/sla';
import { runStaleness } from './phases/staleness';
import { runStream } from './phases/stream';
import { runTimers, timersGoalMet } from './phases/timers';
import { summarizeProfiles } from './profile';
import { markdown, svg } from './report';
import { phaseResults, phases, phaseStem } from './results';
import type { BenchResults, Phase } from './results';
import { BenchStack } from './stack';
import { checkTimelines } from './verify';
import { startGraphForStack } from './whatsapp';

/**
 * `npm run bench [-- --quick] [--only=ingest,replies,...] [--profile]`: the real stack on this machine, measured
 * against baselines taken in the same run on the same servers; each phase's result replaces that phase's
 * previous one in bench/results/ (`<phase>.{json,md}`, `-quick` for quick runs; the history is in git).
 */

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const profile = args.includes('--profile');
  const onlyArg = args.find((a) => a.startsWith('--only='));
  const only = new Set<Phase>(onlyArg ? (onlyArg.slice('--only='.length).split(',') as Phase[]) : phases);
  const sizes = quick ? quickSizes : fullSizes;
  const t0 = Date.now();
  const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const startedAt = new Date(t0).toISOString();
  const stem = startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z') + (quick ? '-quick' : '');
  const resultsDir = path.join(__dirname, 'results');
  const results: BenchResults = {
    startedAt,
    quick,
    durationSeconds: 0,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    },
    commit: gitCommit(),
    // What the environment changed about the processes measured (the worker's cache, Node and malloc flags).
    environment: Object.fromEntries(benchEnvironmentKeys.filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
    versions: { temporalCli: toolVersions.temporal, ferretdb: toolVersions.ferretdb, ferretdbBuild: path.basename(path.dirname(toolPath('ferretdb'))) },
    sizes,
    cpu: {},
    goals: {},
    errors: [],
    files: { svg: `${phaseStem('replies', quick)}.svg` },
  };

  /** Written as each phase starts too, so a run stopped part way keeps what it measured. */
  const save = (final: boolean) => {
    results.durationSeconds = Math.round((Date.now() - t0) / 1000);
    results.complete = final;
    fs.mkdirSync(resultsDir, { recursive: true });
    for (const name of phases) {
      const slice = phaseResults(results, name);
      if (!slice) continue; // not run, or not measured yet: the previous result stays
      const file = path.join(resultsDir, phaseStem(name, quick));
      fs.writeFileSync(`${file}.json`, JSON.stringify(slice, null, 2) + '\n');
      fs.writeFileSync(`${file}.md`, markdown(slice));
      if (slice.replies) fs.writeFileSync(path.join(resultsDir, slice.files.svg), svg(slice));
    }
  };

  log(`convoflow bench${quick ? ' (quick)' : ''}: starting a Temporal dev server and FerretDB in a temporary folder`);
  // Outside the repository: a profile is megabytes; open one in Chrome DevTools or speedscope.
  const profileDir = profile ? path.join(os.tmpdir(), `convoflow-profiles-${stem}`) : undefined;
  // BENCH_KEEP_DIR=1 keeps the temporary folder (logs, SQLite files) even when the run succeeds.
  const stack = await BenchStack.start({ log, profileDir, keepDir: process.env.BENCH_KEEP_DIR === '1' });
  let failed = false;
  let closeGraph: (() => Promise<void>) | undefined;
  try {
    log(`servers up (Temporal ${stack.temporalAddress}, FerretDB ${stack.mongoUri}); starting worker, API and the baseline's no-op worker`);
    const noopQueue = `${stack.taskQueue}-noop`;
    // One after the other: both create the database's indexes at start, and FerretDB 1.24 drops the
    // connection when two clients create the same indexes at once on a new database (see README).
    const noop = stack.startNoopWorker(noopQueue);
    // Before the worker: every worker of the run sends WhatsApp Cloud API messages to this fake.
    const graph = await startGraphForStack(stack);
    closeGraph = () => graph.close();
    await stack.startWorker();
    const api = await stack.startApi();
    await noop;
    log(`stack ready: worker pid ${stack.workers[0]!.pid}, API pid ${api.proc.pid} on ${api.baseUrl}, logs in ${stack.runDir}/logs`);
    const ctx: BenchContext = { stack, api, sizes, quick, noopQueue, log };

    const phase = async <T>(name: Phase, fn: () => Promise<T>): Promise<T | undefined> => {
      if (!only.has(name)) return undefined;
      save(false); // what the phases before this one measured
      try {
        return await fn();
      } catch (error) {
        failed = true;
        const message = error instanceof Error ? error.message : String(error);
        results.errors.push(`${name}: ${message}`);
        log(`${name} failed: ${message}`);
        return undefined;
      }
    };

    const ingest = await phase('ingest', () => runIngest(ctx));
    if (ingest) {
      results.ingest = ingest.result;
      results.cpu['ingest (API path)'] = ingest.result.api.cpu;
      results.cpu['ingest baseline (signal-with-start)'] = ingest.result.baseline.cpu;
      results.goals.ingest = ingest.result.ratio >= 0.8;
      const replies = await phase('replies', () => runReplies(ctx, ingest.state));
      if (replies) {
        results.replies = replies;
        results.cpu['replies at saturation'] = replies.saturation.cpu;
        for (const l of replies.levels) results.cpu[`replies at ${Math.round(l.fraction * 100)}%`] = l.api.cpu;
        results.goals.replyP99 = replies.levels.every((l) => l.ratioP99 <= 1.5);
      }
      const staleness = await phase('staleness', () => runStaleness(ctx, ingest.state, ingest.result.api.persistedRate));
      if (staleness) {
        results.staleness = staleness;
        results.goals.staleness = staleness.stalenessMs.p99 < 100;
      }
    }
    const timers = await phase('timers', () => runTimers(ctx));
    if (timers) {
      results.timers = timers.result;
      results.cpu['auto-closes falling due'] = timers.result.cpu;
      if (timers.result.baseline) results.cpu['auto-close baseline (bare timers + local activity)'] = timers.result.baseline.cpu;
      results.goals.timers = timersGoalMet(timers.result);
    }
    const efficiency = await phase('efficiency', () => runEfficiency(ctx, ingest?.state.conversationIds ?? []));
    if (efficiency) {
      results.efficiency = efficiency;
      results.goals.events = efficiency.sequential.eventsPerMessage <= 5;
    }
    const scale = await phase('scale', () => runScaleOut(ctx));
    if (scale) {
      results.scaleOut = scale;
      for (const p of scale.points) results.cpu[`scale-out ${p.workers}w/${p.apis}a`] = p.cpu;
      results.goals.scaleOut = scale.timeline.lost + scale.timeline.duplicated + scale.timeline.repliesMismatched + scale.views.mismatched + scale.views.unreachable === 0;
    }
    const inbox = await phase('inbox', () => runInbox(ctx));
    if (inbox) {
      results.inbox = inbox.points;
      const last = inbox.points.at(-1)!;
      results.goals.inbox = [last.firstPage, last.deepPage].every((q) => q.apiMs.p99 < 20 && q.ratioP99 <= 1.3) && last.counts.apiMs.p99 < 20;
    }
    const memory = await phase('memory', () => runOpenConversationMemory(ctx, inbox ? [inbox.accountId] : []));
    if (memory) results.memory = memory;
    // After the RSS points: it restarts the worker (an empty cache), and that worker serves what follows.
    const cacheMiss = await phase('memory', () => runCacheMiss(ctx));
    if (cacheMiss) results.cacheMiss = cacheMiss;
    const outbound = await phase('outbound', () => runOutbound(ctx, graph));
    if (outbound) {
      results.outbound = outbound;
      results.cpu['outbound sends at saturation'] = outbound.throughput.cpu;
    }
    const stream = await phase('stream', () => runStream(ctx));
    if (stream) {
      results.stream = stream;
      results.goals.stream = stream.customerMessageMs.p99 < 300 && stream.followUpMs.p99 < 300 && stream.replyMs.p99 < 300;
    }
    // SPEC 11's contacts and message search at scale (issue 27).
    const search = await phase('search', () => runSearch(ctx));
    if (search) {
      results.search = search;
      Object.assign(results.goals, searchGoals(search));
    }
    // Issue 25's SLA clocks. The memory phase last: it leaves thousands of open conversations behind.
    const slaBreaches = await phase('sla-breaches', () => runSlaBreaches(ctx));
    if (slaBreaches) {
      results.slaBreaches = slaBreaches;
      results.cpu['SLA breaches falling due'] = slaBreaches.cpu;
      results.cpu['SLA breach baseline (bare timers + local activity)'] = slaBreaches.baseline.cpu;
      results.goals.slaBreaches = slaBreachesGoalMet(slaBreaches);
    }
    const slaCost = await phase('sla-cost', () => runSlaCost(ctx));
    if (slaCost) {
      results.slaCost = slaCost;
      for (const side of ['off', 'on'] as const) {
        slaCost[side].cpuIngest.forEach((cpu, i) => (results.cpu[`SLA ${side}: ingest, round ${i + 1}`] = cpu));
        slaCost[side].cpuReplies.forEach((cpu, i) => (results.cpu[`SLA ${side}: replies at saturation, round ${i + 1}`] = cpu));
      }
      results.goals.slaCost = slaCostGoalMet(slaCost);
    }
    const slaMemory = await phase('sla-memory', () => runSlaMemory(ctx));
    if (slaMemory) {
      results.slaMemory = slaMemory;
      const met = slaMemoryGoalMet(slaMemory);
      if (met !== undefined) results.goals.slaMemory = met;
    }
    // Issue 27's reports: after the others, since it restarts the worker (rows off, then on again).
    const reports = await phase('reports', () => runReports(ctx));
    if (reports) {
      results.reports = reports;
      Object.assign(results.goals, reportsGoals(reports));
    }

    if (ingest) {
      results.correctness = await checkTimelines(stack.db, ingest.state.account.id, ingest.state.ledger);
      const c = results.correctness;
      log(`correctness of the ingest/reply account: ${c.accepted} accepted, lost ${c.lost}, duplicated ${c.duplicated}, replies mismatched ${c.repliesMismatched}`);
      if (c.examples.length) log(`  ${c.examples.join('\n  ')}`);
    }
  } catch (error) {
    failed = true;
    results.errors.push(error instanceof Error ? error.message : String(error));
    log(`run failed: ${error instanceof Error ? error.stack : String(error)}`);
  } finally {
    log(failed ? `stopping every process (keeping ${stack.runDir} for its logs)` : 'stopping every process');
    await stack.stop({ keepDir: failed });
    await closeGraph?.();
  }

  if (profileDir) {
    results.profiles = summarizeProfiles(profileDir);
    log(`CPU profiles in ${profileDir}`);
    for (const p of results.profiles) {
      log(`profile of ${p.process} (busy ${p.busyPercent}% of ${p.sampledSeconds} s; shares of its busy samples):`);
      log(`  by origin: ${p.byOrigin.map((o) => `${o.origin} ${o.percent}%`).join(', ')}`);
      log(`  top functions (self): ${p.topFunctions.map((f) => `${f.fn} ${f.percent}%`).join('; ')}`);
    }
  }
  save(true);
  console.log('\n' + markdown(results));
  const written = phases.filter((name) => phaseResults(results, name)).map((name) => phaseStem(name, quick));
  log(`wrote ${written.map((stem) => `bench/results/${stem}.{json,md}`).join(', ')} in ${results.durationSeconds} s`);
  process.exitCode = failed ? 1 : 0;
}

const benchEnvironmentKeys = ['WORKER_MAX_CACHED_WORKFLOWS', 'NODE_OPTIONS', 'MALLOC_ARENA_MAX', 'BENCH_OPEN_CONVERSATIONS', ...slaEnvironmentKeys];

/** The commit measured, and whether the working tree differed from it. */
function gitCommit(): string {
  // A run from an exported tree (git archive) says which commit it was exported from.
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.join(__dirname, '..') }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '.', ':!bench', ':!chaos'], { cwd: path.join(__dirname, '..') }).toString().trim();
    return dirty ? `${head} (with uncommitted changes outside bench/ and chaos/)` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
