import fs from 'node:fs';
import path from 'node:path';

/**
 * Reads the V8 CPU profiles `--profile` wrote (one per worker and API process) and says where each
 * process spent its samples: by function (self time), and by package or project folder.
 */
export interface ProfileSummary {
  process: string;
  sampledSeconds: number;
  /** Share of the sampled time the thread was running code rather than idle. */
  busyPercent: number;
  /** Share of samples per package (node_modules/<name>), project folder, or "node:" internals. */
  byOrigin: { origin: string; percent: number }[];
  /** Share of samples spent in each function's own code. */
  topFunctions: { fn: string; percent: number }[];
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
}

function originOf(url: string): string {
  if (!url) return '(native, GC, idle)';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const project = /\/(workflows|activities|api|worker|store|infra)\//.exec(url);
  return project ? `project ${project[1]}/` : url.replace(/^file:\/\//, '');
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0) || 1;
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const busy = Math.max(1, total - idle);
  const add = (map: Map<string, number>, key: string, hits: number) => map.set(key, (map.get(key) ?? 0) + hits);
  const byOrigin = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits || node.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = node.callFrame;
    add(byOrigin, originOf(url), hits);
    add(byFn, `${functionName || '(anonymous)'} ${url ? `${originOf(url)}:${lineNumber + 1}` : ''}`.trim(), hits);
  }
  const ranked = (map: Map<string, number>) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).map(([key, hits]) => [key, Math.round((1000 * hits) / busy) / 10] as const);
  return {
    process: path.basename(file, '.cpuprofile'),
    sampledSeconds: Math.round((profile.endTime - profile.startTime) / 1e5) / 10,
    busyPercent: Math.round((1000 * (total - idle)) / total) / 10,
    byOrigin: ranked(byOrigin).slice(0, top).map(([origin, percent]) => ({ origin, percent })),
    topFunctions: ranked(byFn).slice(0, top).map(([fn, percent]) => ({ fn, percent })),
  };
}

/**
 * Every profile under `dir` (a folder per process, a file per thread, named by V8 with the thread id),
 * leaving out threads that were busy less than 1% of the time (the module loader's, mostly).
 */
export function summarizeProfiles(dir: string): ProfileSummary[] {
  if (!fs.existsSync(dir)) return [];
  const out: ProfileSummary[] = [];
  for (const proc of fs.readdirSync(dir).sort()) {
    const files = fs.readdirSync(path.join(dir, proc)).filter((f) => f.endsWith('.cpuprofile'));
    for (const file of files.sort()) {
      const summary = summarizeProfile(path.join(dir, proc, file));
      if (summary.busyPercent < 1) continue;
      const thread = /\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1];
      out.push({ ...summary, process: `${proc} thread ${thread ?? file}` });
    }
  }
  return out;
}
