import type { SearchQueryPoint } from './phases/search';
import type { BenchResults } from './results';

/** The run as a markdown table of figures against the goals of issue 6, and as an SVG chart. */

const fmt = (x: number | undefined, digits = 1) => (x === undefined || Number.isNaN(x) ? '—' : Number(x.toFixed(digits)).toString());
const verdict = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? 'met' : '**missed**');

export function markdown(r: BenchResults): string {
  const lines: string[] = [];
  lines.push(`# convoflow benchmark — ${r.startedAt}${r.quick ? ' (quick)' : ''}`);
  lines.push('');
  lines.push(`Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, ${r.machine.os}, Node ${r.machine.node}. ` +
    `Temporal CLI ${r.versions.temporalCli} dev server (SQLite) and FerretDB ${r.versions.ferretdb} (SQLite; our build${r.versions.ferretdbBuild ? ` ${r.versions.ferretdbBuild}` : ''}, dev/ferretdb-pushdown/README.md) on loopback, real worker and API processes. ${r.complete === false ? `**Partial: the run was still going or stopped after ${fmt(r.durationSeconds, 0)} s.** ` : `Run took ${fmt(r.durationSeconds, 0)} s. `}` +
    `Commit ${r.commit}.${Object.keys(r.environment ?? {}).length > 0 ? ` Set in the environment: ${Object.entries(r.environment!).map(([k, v]) => `\`${k}=${v}\``).join(', ')}.` : ''} Load average at start ${r.machine.loadAverageAtStart.join(' / ')}; the "(other processes)" CPU below is what else ran on the machine meanwhile.`);
  lines.push('');
  lines.push('| # | measure | convoflow | baseline (same run) | ratio | goal | |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  const g = r.goals;
  if (r.ingest) {
    const i = r.ingest;
    lines.push(`| 1 | ingest, messages/s with views persisted (${i.concurrency} in flight, ${i.conversations} conversations) | ${fmt(i.api.persistedRate, 0)} (202s: ${fmt(i.api.acceptRate, 0)}/s) | ${fmt(i.baseline.rate, 0)} signal-with-start/s (handled by the no-op workflows: ${fmt(i.baseline.handledRate, 0)}/s) | ${fmt(i.ratio, 2)} | ≥ 0.8 | ${verdict(g.ingest)} |`);
  }
  if (r.replies) {
    lines.push(`| 2 | reply saturation, replies/s (${r.replies.saturation.concurrency} in flight) | ${fmt(r.replies.saturation.apiRate, 0)} | ${fmt(r.replies.saturation.baselineRate, 0)} updates/s | ${fmt(r.replies.saturation.apiRate / r.replies.saturation.baselineRate, 2)} | | |`);
    for (const l of r.replies.levels) {
      lines.push(
        `| 2 | reply p50 / p95 / p99 ms at ${Math.round(l.fraction * 100)}% (${fmt(l.offeredRate, 0)}/s) | ${fmt(l.api.latencyMs.p50)} / ${fmt(l.api.latencyMs.p95)} / ${fmt(l.api.latencyMs.p99)} | ` +
          `${fmt(l.baseline.latencyMs.p50)} / ${fmt(l.baseline.latencyMs.p95)} / ${fmt(l.baseline.latencyMs.p99)} (bare update) | p50 ${fmt(l.ratioP50, 2)}, p99 ${fmt(l.ratioP99, 2)} | p99 ≤ 1.5× | ${verdict(l.ratioP99 <= 1.5)} |`,
      );
    }
  }
  if (r.staleness) {
    const s = r.staleness;
    lines.push(`| 3 | view staleness p50 / p99 ms (202 → view and timeline readable; ${s.samples} samples, ${fmt(s.backgroundRate, 0)}/s background) | ${fmt(s.stalenessMs.p50)} / ${fmt(s.stalenessMs.p99)} | | | p99 < 100 ms | ${verdict(g.staleness)} |`);
  }
  for (const p of r.inbox ?? []) {
    lines.push(`| 4 | inbox first page p50 / p99 ms, ${p.conversations} conversations (${p.firstPage.apiMs.count} samples) | ${fmt(p.firstPage.apiMs.p50)} / ${fmt(p.firstPage.apiMs.p99)} | ${fmt(p.firstPage.driverMs.p50)} / ${fmt(p.firstPage.driverMs.p99)} (driver) | p99 ${fmt(p.firstPage.ratioP99, 2)} | p99 < 20 ms, ≤ 1.3× | ${verdict(p.firstPage.apiMs.p99 < 20 && p.firstPage.ratioP99 <= 1.3)} |`);
    lines.push(`| 4 | inbox deep page (rank ${p.deepPage.rank}) p50 / p99 ms, ${p.conversations} conversations (${p.deepPage.apiMs.count} samples) | ${fmt(p.deepPage.apiMs.p50)} / ${fmt(p.deepPage.apiMs.p99)} | ${fmt(p.deepPage.driverMs.p50)} / ${fmt(p.deepPage.driverMs.p99)} (driver) | p99 ${fmt(p.deepPage.ratioP99, 2)} | p99 < 20 ms, ≤ 1.3× | ${verdict(p.deepPage.apiMs.p99 < 20 && p.deepPage.ratioP99 <= 1.3)} |`);
    lines.push(`| 4 | conversation counts p50 / p99 ms, ${p.conversations} conversations (${p.counts.apiMs.count} samples; baseline backfill ${fmt(p.counts.backfillSeconds)} s) | ${fmt(p.counts.apiMs.p50)} / ${fmt(p.counts.apiMs.p99)} | ${fmt(p.counts.scanMs.p50)} / ${fmt(p.counts.scanMs.p99)} (one pass over the views, ${p.counts.scanMs.count} samples) | p99 ${fmt(p.counts.ratioP99, 4)} | p99 < 20 ms | ${verdict(p.counts.apiMs.p99 < 20)} |`);
  }
  if (r.timers) {
    const t = r.timers;
    const b = t.baseline;
    const bare = b ? `${fmt(b.latenessMs.p50)} / ${fmt(b.latenessMs.p99)} / ${fmt(b.latenessMs.max)} (${b.fired} of ${b.workflows} bare timers + a local activity)` : '';
    lines.push(`| 5 | auto-close lateness p50 / p99 / max ms (${t.conversations} deadlines in one ms; ${t.aligned} aligned) | ${fmt(t.latenessMs.p50)} / ${fmt(t.latenessMs.p99)} / ${fmt(t.latenessMs.max)} | ${bare} | p99 ${fmt(t.ratioP99, 2)} | p99 ≤ 1.5× bare timers | ${verdict(g.timers)} |`);
    lines.push(`| 5 | ${t.closed} of ${t.conversations} closed; after the deadline: last closedAt / all views closed | ${fmt(t.allClosedAfterMs, 0)} ms / ${fmt(t.allViewsClosedAfterMs, 0)} ms | ${b ? `last local activity done ${fmt(b.allDoneAfterMs, 0)} ms` : ''} | | all closed | ${verdict(t.closed === t.conversations)} |`);
    if (t.views) lines.push(`| 5 | views differing from their workflow / workflows not answering | ${t.views.mismatched} / ${t.views.unreachable} | | | all 0 | ${verdict(t.views.mismatched + t.views.unreachable === 0)} |`);
  }
  if (r.efficiency) {
    const e = r.efficiency;
    lines.push(`| 6 | history events per inbound message (sequential) | ${fmt(e.sequential.eventsPerMessage, 2)} | | | ≤ 5 | ${verdict(g.events)} |`);
    if (e.underLoad.conversations > 0) lines.push(`| 6 | history events per timeline message under load (incl. starts, replies) | ${fmt(e.underLoad.eventsPerMessage, 2)} | | | | |`);
    const l = e.longConversation;
    lines.push(`| 6 | one conversation after ${l.messages} messages: runs, current / longest run events | ${l.runs} runs, ${l.currentRunHistoryLength} / ${l.longestRunHistoryLength} | | | bounded | ${verdict(l.longestRunHistoryLength < 4_096)} |`);
  }
  for (const m of r.memory ?? []) {
    lines.push(`| 6 | worker RSS with ${m.openConversations} open conversations${m.target && m.openConversations < m.target ? ` (target ${m.target}: the time budget ran out)` : ''} | ${m.workerRssMiB.map((x) => fmt(x, 0)).join(', ')} MiB (API ${m.apiRssMiB.map((x) => fmt(x, 0)).join(', ')} MiB) | | | | |`);
  }
  if (r.cacheMiss) {
    for (const p of r.cacheMiss.points) {
      lines.push(
        `| 6 | reply to a conversation not in the worker's cache (replayed) vs cached, p50 / max ms; ${p.messages} messages, history ${p.historyLength.min}–${p.historyLength.max} events (${r.cacheMiss.conversationsPerPoint} each; load average ${r.cacheMiss.loadAverage.join(', ')}) | ${fmt(p.missMs.p50)} / ${fmt(p.missMs.max)} | ${fmt(p.hitMs.p50)} / ${fmt(p.hitMs.max)} (cached) | p50 ${fmt(p.missMs.p50 / p.hitMs.p50, 2)} | | |`,
      );
      lines.push(`| 6 | CPU per reply, not cached vs cached (${p.messages} messages): worker / Temporal ms | ${fmt(p.workerCpuMsPerMiss)} / ${fmt(p.temporalCpuMsPerMiss)} | ${fmt(p.workerCpuMsPerHit)} / ${fmt(p.temporalCpuMsPerHit)} (cached) | | | |`);
    }
  }
  if (r.stream) {
    const s = r.stream;
    lines.push(`| 8 | stream: first customer message (new workflow) 202 → event at a client, p50 / p99 ms (${s.customerMessageMs.count} samples, ${s.stored} conversations stored) | ${fmt(s.customerMessageMs.p50)} / ${fmt(s.customerMessageMs.p99)} | | | p99 < 300 ms | ${verdict(s.customerMessageMs.p99 < 300)} |`);
    lines.push(`| 8 | stream: next customer message (running workflow) 202 → event at a client, p50 / p99 ms | ${fmt(s.followUpMs.p50)} / ${fmt(s.followUpMs.p99)} | | | p99 < 300 ms | ${verdict(s.followUpMs.p99 < 300)} |`);
    lines.push(`| 8 | stream: 202 → decided (Temporal, workflow) / decided → event (persist, log, poller), p50 / p99 ms; load average ${s.loadAverage.join(', ')} | ${fmt(s.customerSplitMs.toDecision.p50)} / ${fmt(s.customerSplitMs.toDecision.p99)}; ${fmt(s.customerSplitMs.decisionToEvent.p50)} / ${fmt(s.customerSplitMs.decisionToEvent.p99)} | | | | |`);
    lines.push(`| 8 | stream: reply 200 → event at a client, p50 / p99 ms (${s.replyMs.count} samples; negative: the event came first) | ${fmt(s.replyMs.p50)} / ${fmt(s.replyMs.p99)} | | | p99 < 300 ms | ${verdict(s.replyMs.p99 < 300)} |`);
    lines.push(`| 8 | stream: reply request sent → event at a client, p50 / p99 ms | ${fmt(s.replyFromRequestMs.p50)} / ${fmt(s.replyFromRequestMs.p99)} | | | | |`);
    lines.push(`| 8 | stream: ${s.idle.clients} idle clients, API CPU % of a core (without → with), RSS MiB | ${fmt(s.idle.cpuPercentBaseline, 2)} → ${fmt(s.idle.cpuPercentWithClients, 2)}, ${fmt(s.idle.rssMiBBefore, 0)} → ${fmt(s.idle.rssMiBWithClients, 0)} | | | | |`);
  }
  if (r.search) {
    const s = r.search;
    const row = (what: string, q: SearchQueryPoint, goal: number | undefined) =>
      `| 11 | ${what}: ${q.kind} "${q.q}", p50 / p99 ms (${q.ms.count} samples; ${q.items} items${q.more ? ', more' : ''}; load ${q.load.join(' → ')}) | ${fmt(q.ms.p50)} / ${fmt(q.ms.p99)} | | rounds: ${(q.rounds ?? []).map((r) => `${fmt(r.p50)} / ${fmt(r.p99)}`).join('; ')} | ${goal === undefined ? '' : `p99 < ${goal} ms`} | ${goal === undefined ? '' : verdict(q.ms.p99 < goal)} |`;
    lines.push(`| 11 | contacts seeded: ${s.contacts.count} in ${fmt(s.contacts.seedSeconds, 0)} s, the first ${s.contacts.viaFunction} through recordContactMessages (${fmt(s.contacts.viaFunctionPerSecond, 0)}/s), the rest as the documents it writes | | | | | |`);
    for (const q of s.contacts.queries) lines.push(row(`contacts search at ${s.contacts.count}`, q, 50));
    for (const m of s.messages) {
      lines.push(`| 11 | messages seeded with their postings: ${m.count} (${m.postings} postings, ${fmt(m.postingsPerSecond, 0)} postings/s) | | | | | |`);
      for (const q of m.queries) lines.push(row(`search over ${m.count} messages`, q, m === s.messages.at(-1) ? 100 : undefined));
    }
  }
  if (r.scaleOut) {
    for (const p of r.scaleOut.points) {
      lines.push(`| 7 | ${p.workers} worker(s), ${p.apis} API(s): ingest persisted/s, replies/s (p99 ms) | ${fmt(p.ingest.persistedRate, 0)}, ${fmt(p.replies.rate, 0)} (${fmt(p.replies.latencyMs.p99)}) | | | | |`);
    }
    const c = r.scaleOut.timeline;
    lines.push(`| 7 | scale-out correctness: lost / duplicated / replies mismatched / views differing | ${c.lost} / ${c.duplicated} / ${c.repliesMismatched} / ${r.scaleOut.views.mismatched} | | | all 0 | ${verdict(g.scaleOut)} |`);
  }
  if (r.outbound) {
    const o = r.outbound;
    const t = o.throughput;
    lines.push(`| 8 | outbound sends/s reaching Graph with 200 (${t.concurrency} replies in flight, ${fmt(t.durationMs / 1000, 0)} s, ${o.conversations} conversations): during the load / until drained | ${fmt(t.sentRateDuringLoad)} / ${fmt(t.drainRate)} (replies accepted ${fmt(t.repliesRate)}/s; ${t.reachedGraph} of ${t.accepted} sent, ${t.duplicates} duplicates) | | | | |`);
    lines.push(`| 8 | reply 200 → Graph p50 / p99 ms under that load | ${fmt(t.delayUnderLoadMs.p50)} / ${fmt(t.delayUnderLoadMs.p99)} | | | | |`);
    const d = o.delay;
    lines.push(`| 8 | reply 200 → Graph p50 / p99 ms at ${fmt(d.offeredRate, 0)}/s (${d.delayMs.count} sends${d.notReached ? `, ${d.notReached} not reached` : ''}) | ${fmt(d.delayMs.p50)} / ${fmt(d.delayMs.p99)} | ${fmt(d.baselineUpdateMs.p50)} / ${fmt(d.baselineUpdateMs.p99)} (bare update; the baseline has no activity) | p50 ${fmt(d.ratioP50, 2)}, p99 ${fmt(d.ratioP99, 2)} | | |`);
    for (const w of o.webhook) {
      lines.push(`| 8 | WhatsApp webhook answer p50 / p99 ms, ${w.messagesPerBody} message(s) per body (${w.posts} posts${w.non200 ? `, ${w.non200} not 200` : ''}) | ${fmt(w.answerMs.p50)} / ${fmt(w.answerMs.p99)} | | | Meta: median ≤ ${w.metaTargetMedianMs} ms | ${verdict(w.non200 === 0 && w.answerMs.p50 <= w.metaTargetMedianMs)} |`);
      if (w.drainedMs !== undefined) {
        lines.push(`| 8 | then every body fanned out to its conversations, ms after the last answer (${w.posts * w.messagesPerBody} messages) | ${w.drainedMs === null ? 'not within 300 s' : fmt(w.drainedMs)} | | | | |`);
      }
    }
  }
  const loadOf = (l: { atStart: number[]; atEnd: number[]; max1m: number }) => `load average ${l.atStart.join(' / ')} → ${l.atEnd.join(' / ')}, 1-min max ${fmt(l.max1m, 2)}`;
  if (r.slaBreaches) {
    const s = r.slaBreaches;
    const b = s.baseline;
    lines.push(`| 10 | SLA breach lateness p50 / p99 / max ms (${s.conversations} first-response breaches due in one ms: ${s.firstResponse} of business time after the hours open at ${s.opensAt.slice(11, 19)} UTC; ${s.aligned} aligned; ${loadOf(s.loadAverage)}) | ${fmt(s.latenessMs.p50)} / ${fmt(s.latenessMs.p99)} / ${fmt(s.latenessMs.max)} | ${fmt(b.latenessMs.p50)} / ${fmt(b.latenessMs.p99)} / ${fmt(b.latenessMs.max)} (${b.fired} of ${b.workflows} bare timers + a local activity) | p99 ${fmt(s.ratioP99, 2)} | p99 ≤ 1.5× bare timers | ${verdict(g.slaBreaches)} |`);
    lines.push(`| 10 | ${s.breached} of ${s.conversations} breached (${s.dueAtMismatched} with another dueAt); after the due moment: last event's at / all events in the store | ${fmt(s.lastBreachAfterMs, 0)} ms / ${fmt(s.allRecordedAfterMs, 0)} ms | last local activity done ${fmt(b.allDoneAfterMs, 0)} ms | | all breached | ${verdict(s.breached === s.conversations)} |`);
    lines.push(`| 10 | views differing from their workflow / workflows not answering | ${s.views.mismatched} / ${s.views.unreachable} | | | all 0 | ${verdict(s.views.mismatched + s.views.unreachable === 0)} |`);
  }
  if (r.slaCost) {
    const s = r.slaCost;
    const q = s.ratios;
    const head = `${s.conversationsPerRound} new conversations a round, rounds ${s.rounds.join(', ')}`;
    lines.push(`| 10 | SLA + business hours on vs off: ingest messages/s with views persisted (${head}, ${s.concurrency} in flight, ${fmt(s.loadMs / 1000, 0)} s each; ${loadOf(s.loadAverage)}) | ${fmt(s.on.ingestPersistedRate)} | ${fmt(s.off.ingestPersistedRate)} (SLA off) | ${fmt(q.ingestRate, 3)} | ≥ 0.9 | ${verdict(q.ingestRate >= 0.9)} |`);
    lines.push(`| 10 | on vs off: ingest 202 p50 / p99 ms | ${fmt(s.on.ingest202Ms.p50)} / ${fmt(s.on.ingest202Ms.p99)} | ${fmt(s.off.ingest202Ms.p50)} / ${fmt(s.off.ingest202Ms.p99)} | p50 ${fmt(q.ingest202P50, 2)}, p99 ${fmt(q.ingest202P99, 2)} | | |`);
    lines.push(`| 10 | on vs off: replies/s at saturation (${s.concurrency} in flight; p50 / p99 ms) | ${fmt(s.on.replyRate)} (${fmt(s.on.replySaturationMs.p50)} / ${fmt(s.on.replySaturationMs.p99)}) | ${fmt(s.off.replyRate)} (${fmt(s.off.replySaturationMs.p50)} / ${fmt(s.off.replySaturationMs.p99)}) | ${fmt(q.replyRate, 3)} | ≥ 0.9 | ${verdict(q.replyRate >= 0.9)} |`);
    lines.push(`| 10 | on vs off: reply p50 / p99 ms at ${fmt(s.openLoopRate)}/s (open loop; ${s.on.replyOpenLoopMs.count} / ${s.off.replyOpenLoopMs.count} replies; failures on ${s.on.failed}, off ${s.off.failed}) | ${fmt(s.on.replyOpenLoopMs.p50)} / ${fmt(s.on.replyOpenLoopMs.p99)} | ${fmt(s.off.replyOpenLoopMs.p50)} / ${fmt(s.off.replyOpenLoopMs.p99)} | p50 ${fmt(q.replyOpenLoopP50, 2)}, p99 ${fmt(q.replyOpenLoopP99, 2)} | ≤ 1.1 | ${verdict(q.replyOpenLoopP50 <= 1.1 && q.replyOpenLoopP99 <= 1.1)} |`);
  }
  if (r.slaMemory) {
    const s = r.slaMemory;
    const last = s.points.at(-1);
    const extra = s.extrapolatedRssMiBAtTarget !== undefined ? ` (target ${s.target} not reached in ${s.budgetMinutes} min; a straight line through the last half of the points gives ${fmt(s.extrapolatedRssMiBAtTarget, 0)} MiB at ${s.target}: an extrapolation, not a measurement)` : '';
    lines.push(`| 10 | worker RSS with ${s.reached} open conversations with SLA clocks running (+ ${s.otherOpen} of earlier phases; worker cache ${s.workerMaxCachedWorkflows} workflows; ${loadOf(s.loadAverage)})${extra} | ${fmt(last?.workerRssMiB, 0)} MiB (before: ${fmt(s.workerRssBeforeMiB, 0)}; API ${fmt(last?.apiRssMiB, 0)}) | | | ≤ 1 GiB at ${s.target} | ${verdict(g.slaMemory)} |`);
    lines.push(`| 10 | worker RSS MiB as they opened (open with SLA: MiB) | ${s.points.map((p) => `${p.openWithSla}: ${fmt(p.workerRssMiB, 0)}`).join(', ')} | | | | |`);
  }
  if (r.reports) {
    const s = r.reports;
    const at = `load ${s.loadAverage.atStart.join(' / ')} at start, ${s.loadAverage.atEnd.join(' / ')} at end`;
    lines.push(`| 11 | summary of ${s.rows} episodes (groupBy=agent, ${s.summary.groups} groups) p50 / p99 ms, warm (packs, parsed once and kept by the API process; ${s.summary.warmMs.count} calls; ${at}) | ${fmt(s.summary.warmMs.p50)} / ${fmt(s.summary.warmMs.p99)} | cold (no pack, every row read, packs written): ${fmt(s.summary.coldMs, 0)}; after the margin: ${fmt(s.summary.afterMarginMs, 0)} | | p99 < 1 s | ${verdict(g.reportsSummary)} |`);
    lines.push(`| 11 | summary of ${s.rows} episodes, first read (packs read from the store) after the background builder packed its ${s.builder.months} months (REPORT_PACKS_EVERY=${s.builder.every}; packed ${fmt(s.builder.ms / 1000, 0)} s after the builder's API started), ms | ${fmt(s.summary.afterBuilderMs, 0)} | | | < 1 s | ${verdict(s.summary.afterBuilderMs < 1_000)} |`);
    lines.push(`| 11 | JSON page of 100 p50 / p99 ms: first / deep | ${fmt(s.pages.firstMs.p50)} / ${fmt(s.pages.firstMs.p99)} ; ${fmt(s.pages.deepMs.p50)} / ${fmt(s.pages.deepMs.p99)} | | | | |`);
    const c = s.csvCold;
    lines.push(`| 11 | CSV export of ${s.rows} rows, cold (no row pack: every row read), s (${fmt(c.bytes / 2 ** 20)} MiB); API RSS before / peak / after MiB | ${fmt(c.ms / 1000)} (${c.rssMiB.before} / ${c.rssMiB.peak} / ${c.rssMiB.after}) | | | | |`);
    for (const x of s.csv) lines.push(`| 11 | CSV export of ${s.rows} rows from row packs (after the builder ran; byte for byte the cold one), s (${fmt(x.bytes / 2 ** 20)} MiB); API RSS before / peak / after MiB | ${fmt(x.ms / 1000)} (${x.rssMiB.before} / ${x.rssMiB.peak} / ${x.rssMiB.after}) | | | < 10 s, flat | ${verdict(x.ms < 10_000 && x.rssMiB.peak - x.rssMiB.before < 64)} |`);
    const p = s.persist;
    lines.push(`| 11 | persist with episode rows on vs off: messages/s persisted, CPU ms per message (${p.conversations} new conversations a round, ${fmt(p.loadMs / 1000, 0)} s; rounds ${p.rounds.map((x) => `${x.side} ${fmt(x.persistedRate, 0)}/s ${fmt(x.cpuSecondsPerMessage * 1000, 2)} ms (load ${x.loadAverage1m})`).join(', ')}) | rate ratio ${fmt(p.rateRatio, 3)} | CPU ratio ${fmt(p.cpuRatio, 3)} | | rate ≥ 0.9, CPU ≤ 1.1 | ${verdict(g.reportsPersist)} |`);
  }
  if (r.correctness) {
    const c = r.correctness;
    lines.push(`| — | ingest + reply account: accepted / lost / duplicated / replies mismatched | ${c.accepted} / ${c.lost} / ${c.duplicated} / ${c.repliesMismatched} | | | all 0 | ${verdict(c.lost + c.duplicated + c.repliesMismatched === 0)} |`);
  }
  // A phase without a load of its own (efficiency, staleness, ...) has no CPU table in its result file.
  if (Object.keys(r.cpu).length > 0) {
    lines.push('');
    lines.push('## Where the CPU went (percent of one core, per process, during each load)');
    lines.push('');
    lines.push('| phase | CPU by process |');
    lines.push('| --- | --- |');
    for (const [phase, share] of Object.entries(r.cpu)) {
      lines.push(`| ${phase} | ${Object.entries(share.byProcess).sort((a, b) => b[1] - a[1]).map(([n, p]) => `${n} ${p}%`).join(', ')} |`);
    }
  }
  const staged = (r.replies?.levels ?? []).filter((l) => l.stages?.length);
  if (staged.length > 0) {
    lines.push('');
    lines.push("## Where a reply's time went (mean ms per stage, from the API's and the worker's own histograms)");
    lines.push('');
    const labels = [...new Set(staged.flatMap((l) => l.stages.map((s) => s.label)))];
    lines.push(`| stage | ${staged.map((l) => `${Math.round(l.fraction * 100)}% (${fmt(l.offeredRate, 0)}/s)`).join(' | ')} |`);
    lines.push(`| --- | ${staged.map(() => '---').join(' | ')} |`);
    for (const label of labels) {
      lines.push(`| ${label} | ${staged.map((l) => { const s = l.stages.find((x) => x.label === label); return s ? `${fmt(s.meanMs)} (${s.count})` : '—'; }).join(' | ')} |`);
    }
  }
  lines.push('');
  if (r.replies) {
    lines.push(`![reply latency over load](${r.files.svg})`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Reply latency (p50 and p99) over offered load, convoflow against the bare update, hand-written SVG. */
export function svg(r: BenchResults): string {
  const levels = r.replies?.levels ?? [];
  const W = 720;
  const H = 420;
  const m = { l: 70, r: 200, t: 40, b: 60 };
  const xs = levels.map((l) => l.offeredRate);
  const series = [
    { name: 'reply p99 (API)', color: '#c0392b', dash: '', values: levels.map((l) => l.api.latencyMs.p99) },
    { name: 'reply p50 (API)', color: '#e67e22', dash: '', values: levels.map((l) => l.api.latencyMs.p50) },
    { name: 'bare update p99', color: '#2c3e50', dash: '6 4', values: levels.map((l) => l.baseline.latencyMs.p99) },
    { name: 'bare update p50', color: '#2980b9', dash: '6 4', values: levels.map((l) => l.baseline.latencyMs.p50) },
  ];
  const xMax = Math.max(1, ...xs) * 1.1;
  const yMax = niceCeil(Math.max(1, ...series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)))) * 1.1);
  const px = (x: number) => m.l + (x / xMax) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - (y / yMax) * (H - m.t - m.b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.l}" y="22" font-size="15" font-weight="bold">Agent reply latency over load${r.quick ? ' (quick run)' : ''}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 8}" y="${py(y) + 4}" text-anchor="end">${fmt(y, 0)}</text>`);
  }
  for (const x of xs) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${H - m.b}" y2="${H - m.b + 5}" stroke="#333"/>`);
    out.push(`<text x="${px(x)}" y="${H - m.b + 18}" text-anchor="middle">${fmt(x, 0)}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`);
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 15}" text-anchor="middle">offered load (requests/s, open loop)</text>`);
  out.push(`<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`);
  series.forEach((s, k) => {
    const pts = xs.map((x, i) => `${px(x).toFixed(1)},${py(s.values[i] ?? 0).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>`);
    xs.forEach((x, i) => out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(s.values[i] ?? 0).toFixed(1)}" r="3" fill="${s.color}"/>`));
    const ly = m.t + 10 + k * 20;
    out.push(`<line x1="${W - m.r + 15}" x2="${W - m.r + 45}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>`);
    out.push(`<text x="${W - m.r + 52}" y="${ly + 4}">${s.name}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= x) return f * p;
  return 10 * p;
}
