/**
 * Where a reply's time goes: the mean time of each stage over a load level, from the Prometheus
 * histograms the API (`/metrics`) and the worker (`WORKER_METRICS_PORT`, the SDK core's own) already
 * serve. Each stage is the change of a histogram's `_sum` over the change of its `_count` between two
 * scrapes, so it covers exactly the work done in between (means, not percentiles: the histograms'
 * buckets are too coarse for a tail).
 */
export interface Stage {
  label: string;
  /** Where it is served: 'api' or 'worker'. */
  source: 'api' | 'worker';
  /** Histogram family name, without `_sum` / `_count`. */
  family: string;
  /** Every one of these labels must have this value. */
  labels: Record<string, string>;
}

/** A reply's path, in order: the API's own work and its update call; the worker's tasks and activities. */
export const replyStages: Stage[] = [
  { label: 'API request (POST .../replies)', source: 'api', family: 'convoflow_http_request_duration_seconds', labels: { method: 'POST', route: '/v1/accounts/:accountId/conversations/:conversationId/replies' } },
  { label: 'API: Workflow Update call', source: 'api', family: 'convoflow_temporal_call_duration_seconds', labels: { operation: 'reply' } },
  // The SDK labels schedule-to-start by task queue only: every workflow task and activity of the worker.
  { label: 'workflow task schedule-to-start (all types)', source: 'worker', family: 'temporal_workflow_task_schedule_to_start_latency', labels: {} },
  { label: 'workflow task execution', source: 'worker', family: 'temporal_workflow_task_execution_latency', labels: { workflow_type: 'conversationWorkflow' } },
  { label: 'persist (local activity)', source: 'worker', family: 'temporal_local_activity_execution_latency', labels: { activity_type: 'persist' } },
  { label: 'activity schedule-to-start (all types)', source: 'worker', family: 'temporal_activity_schedule_to_start_latency', labels: {} },
  { label: 'deliver execution', source: 'worker', family: 'temporal_activity_execution_latency', labels: { activity_type: 'deliver' } },
];

export type Scrape = Map<string, { sum: number; count: number }>;

export interface StageTime {
  label: string;
  count: number;
  meanMs: number;
}

const sampleLine = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const labelPair = /(\w+)="((?:[^"\\]|\\.)*)"/g;

interface Sample {
  /** The family: the name without `_sum` / `_count`. */
  base: string;
  kind: 'sum' | 'count';
  labels: Record<string, string>;
  value: number;
}

/** The `_sum` and `_count` samples of a Prometheus text exposition. */
function histogramSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = sampleLine.exec(line);
    const kind = m?.[1]!.match(/_(sum|count)$/)?.[1] as Sample['kind'] | undefined;
    if (!m || !kind) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(labelPair)].map((p) => [p[1]!, p[2]!]));
    samples.push({ base: m[1]!.slice(0, -kind.length - 1), kind, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sums `_sum` and `_count` of each stage's matching series in one scrape of each source. */
export async function scrapeStages(urls: { api: string; worker: string | undefined }, stages: Stage[] = replyStages): Promise<Scrape> {
  const [api, worker] = await Promise.all([fetchText(urls.api), urls.worker ? fetchText(urls.worker) : '']);
  const samples = { api: histogramSamples(api), worker: histogramSamples(worker) };
  const out: Scrape = new Map();
  for (const stage of stages) {
    const acc = { sum: 0, count: 0 };
    for (const { base, kind, labels, value } of samples[stage.source]) {
      // Durations in seconds; a family exported without the unit in its name matches too.
      if (base !== stage.family && base !== `${stage.family}_seconds` && `${base}_seconds` !== stage.family) continue;
      if (Object.entries(stage.labels).every(([k, v]) => labels[k] === v)) acc[kind] += value;
    }
    out.set(stage.label, acc);
  }
  return out;
}

/** The mean of each stage between two scrapes (stages that did not run are left out). */
export function stageTimes(before: Scrape, after: Scrape): StageTime[] {
  const out: StageTime[] = [];
  for (const [label, a] of after) {
    const b = before.get(label) ?? { sum: 0, count: 0 };
    const count = a.count - b.count;
    if (count <= 0) continue;
    out.push({ label, count, meanMs: Math.round(((a.sum - b.sum) / count) * 10_000) / 10 });
  }
  return out;
}

export function formatStages(times: StageTime[]): string {
  return times.map((t) => `${t.label} ${t.meanMs} ms (${t.count})`).join('; ');
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}
