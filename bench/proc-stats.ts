import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * Per-process CPU time and resident memory from /proc, to say which process limits a phase: a process
 * whose CPU share nears 100% of a core (or the machine's cores together) is the bottleneck.
 */

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds (user + system, all threads) the process has used so far, or NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/** VmRSS in MiB, or NaN if the process is gone. */
export function rssMiB(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds the whole machine has spent busy (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (total - idle) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

export interface CpuShare {
  /** Percent of one core each process used over the window (200 = both cores of a 2-core machine). */
  byProcess: Record<string, number>;
  /** The busiest process. */
  top: string;
}

/** Starts a CPU window over the given pids; call the returned function at the window's end. */
export function cpuWindow(pids: Record<string, number>): () => CpuShare {
  const started = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const machineBefore = machineBusySeconds();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const byProcess: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      byProcess[name] = Math.round(((cpuSeconds(pid) - before[name]!) / seconds) * 100);
    }
    // Whatever else ran on the machine meanwhile (another test run, say): figures taken beside it are worse.
    const ours = Object.values(byProcess).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    byProcess['(other processes)'] = Math.max(0, Math.round(((machineBusySeconds() - machineBefore) / seconds) * 100 - ours));
    const top = Object.entries(byProcess).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    return { byProcess, top };
  };
}

export function formatCpu(share: CpuShare): string {
  return Object.entries(share.byProcess)
    .sort((a, b) => b[1] - a[1])
    .map(([name, pct]) => `${name} ${pct}%`)
    .join(', ');
}
