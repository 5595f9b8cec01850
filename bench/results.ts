import type { CacheMissResult, MemoryPoint, EfficiencyResult } from './phases/efficiency';
import type { InboxPoint } from './phases/inbox';
import type { IngestResult } from './phases/ingest';
import type { RepliesResult } from './phases/replies';
import type { OutboundResult } from './phases/outbound';
import type { ReportsResult } from './phases/reports';
import type { ScaleResult } from './phases/scale-out';
import type { SlaBreachesResult, SlaCostResult, SlaMemoryResult } from './phases/sla';
import type { StalenessResult } from './phases/staleness';
import type { SearchResult } from './phases/search';
import type { StreamResult } from './phases/stream';
import type { TimersResult } from './phases/timers';
import type { ProfileSummary } from './profile';
import type { CpuShare } from './proc-stats';
import type { TimelineCheck } from './verify';

/** The phases of a run, in the order they run (`--only=` takes these names). */
export const phases = ['ingest', 'replies', 'staleness', 'timers', 'efficiency', 'scale', 'inbox', 'memory', 'outbound', 'stream', 'search', 'sla-breaches', 'sla-cost', 'sla-memory', 'reports'] as const;
export type Phase = (typeof phases)[number];

/** Everything one run measured; bench/results/ keeps it sliced by phase (phaseResults). */
export interface BenchResults {
  startedAt: string;
  quick: boolean;
  /** False while the run is going, or when it was stopped part way. */
  complete?: boolean;
  durationSeconds: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; node: string; loadAverageAtStart: number[] };
  commit: string;
  /** Settings taken from the environment that change what is measured (worker cache size, Node and malloc flags). */
  environment?: Record<string, string>;
  /** `ferretdbBuild`: the tools folder of our FerretDB build (dev/ferretdb-pushdown/README.md); absent in runs before 2026-12-07. */
  versions: { temporalCli: string; ferretdb: string; ferretdbBuild?: string };
  sizes: unknown;
  ingest?: IngestResult;
  replies?: RepliesResult;
  staleness?: StalenessResult;
  inbox?: InboxPoint[];
  timers?: TimersResult;
  efficiency?: EfficiencyResult;
  memory?: MemoryPoint[];
  /** Part of the memory phase: a reply to a conversation the worker has not cached, against a cached one. */
  cacheMiss?: CacheMissResult;
  scaleOut?: ScaleResult;
  outbound?: OutboundResult;
  stream?: StreamResult;
  /** SPEC 11's contacts search and message search at scale (issue 27). */
  search?: SearchResult;
  /** SLA breaches due in the same millisecond against bare timers (issue 25). */
  slaBreaches?: SlaBreachesResult;
  /** Ingest and replies with SLA and business hours on against off (issue 25). */
  slaCost?: SlaCostResult;
  /** Worker RSS with open conversations whose SLA clocks run (issue 25). */
  slaMemory?: SlaMemoryResult;
  /** SPEC 11's reports: summary, pages and CSV over many episode rows, and persist with rows on against off (issue 27). */
  reports?: ReportsResult;
  /** The ingest and reply account's timelines checked against every 202 and 200 it got. */
  correctness?: TimelineCheck;
  /** CPU share per process during each load phase: which process limits it. */
  cpu: Record<string, CpuShare>;
  /** Each goal of issue 6: met (true), missed (false), or not measured. */
  goals: { ingest?: boolean; replyP99?: boolean; staleness?: boolean; inbox?: boolean; timers?: boolean; events?: boolean; scaleOut?: boolean; stream?: boolean; contactsSearch?: boolean; messageSearch?: boolean; slaBreaches?: boolean; slaCost?: boolean; slaMemory?: boolean; reportsSummary?: boolean; reportsCsv?: boolean; reportsPersist?: boolean };
  /** With `--profile`: where each worker and API process spent its CPU. */
  profiles?: ProfileSummary[];
  errors: string[];
  /** The chart of this result, beside it in bench/results/ (the replies phase only draws one). */
  files: { svg: string };
}

type Section = Exclude<keyof BenchResults, 'startedAt' | 'quick' | 'complete' | 'durationSeconds' | 'machine' | 'commit' | 'environment' | 'versions' | 'sizes' | 'cpu' | 'goals' | 'profiles' | 'errors' | 'files'>;

/**
 * What each phase owns of a run's results: its sections, its goals and the CPU tables it measured
 * (labels starting with one of `cpu`). Typed over every phase, so a new phase must say what it owns.
 */
const owned: { [P in Phase]: { sections: Section[]; goals: (keyof BenchResults['goals'])[]; cpu: string[] } } = {
  // The timeline check covers the one account both ingest and replies write to.
  ingest: { sections: ['ingest', 'correctness'], goals: ['ingest'], cpu: ['ingest'] },
  replies: { sections: ['replies', 'correctness'], goals: ['replyP99'], cpu: ['replies'] },
  staleness: { sections: ['staleness'], goals: ['staleness'], cpu: [] },
  timers: { sections: ['timers'], goals: ['timers'], cpu: ['auto-close'] },
  efficiency: { sections: ['efficiency'], goals: ['events'], cpu: [] },
  scale: { sections: ['scaleOut'], goals: ['scaleOut'], cpu: ['scale-out'] },
  inbox: { sections: ['inbox'], goals: ['inbox'], cpu: [] },
  memory: { sections: ['memory', 'cacheMiss'], goals: [], cpu: [] },
  outbound: { sections: ['outbound'], goals: [], cpu: ['outbound'] },
  stream: { sections: ['stream'], goals: ['stream'], cpu: [] },
  search: { sections: ['search'], goals: ['contactsSearch', 'messageSearch'], cpu: [] },
  'sla-breaches': { sections: ['slaBreaches'], goals: ['slaBreaches'], cpu: ['SLA breaches', 'SLA breach baseline'] },
  'sla-cost': { sections: ['slaCost'], goals: ['slaCost'], cpu: ['SLA off', 'SLA on'] },
  'sla-memory': { sections: ['slaMemory'], goals: ['slaMemory'], cpu: [] },
  reports: { sections: ['reports'], goals: ['reportsSummary', 'reportsCsv', 'reportsPersist'], cpu: [] },
};

/** The file stem of a phase's latest result in bench/results/: quick runs are kept apart from full ones. */
export function phaseStem(phase: Phase, quick: boolean): string {
  return quick ? `${phase}-quick` : phase;
}

/**
 * The part of a run that belongs to one phase, with the run's header (machine, commit, load, duration),
 * or undefined while the phase has neither measured anything nor failed. bench/results/ holds only the
 * latest of these per phase; earlier ones are in git (`git log -p bench/results/<phase>.md`).
 */
export function phaseResults(r: BenchResults, phase: Phase): BenchResults | undefined {
  const own = owned[phase];
  const errors = r.errors.filter((e) => e.startsWith(`${phase}:`));
  if (!own.sections.some((k) => r[k] !== undefined && k !== 'correctness') && errors.length === 0) return undefined;
  const slice: BenchResults = {
    ...r,
    cpu: Object.fromEntries(Object.entries(r.cpu).filter(([label]) => own.cpu.some((prefix) => label.startsWith(prefix)))),
    goals: Object.fromEntries(own.goals.filter((g) => r.goals[g] !== undefined).map((g) => [g, r.goals[g]])),
    // Its own failures and the run's (those not named after a phase).
    errors: r.errors.filter((e) => e.startsWith(`${phase}:`) || !phases.some((p) => e.startsWith(`${p}:`))),
    files: { svg: `${phaseStem(phase, r.quick)}.svg` },
  };
  // Profiles (`--profile`) are of the whole run's processes and stay in every slice.
  for (const k of Object.keys(sections) as Section[]) if (!own.sections.includes(k)) delete slice[k];
  return slice;
}

/** Every section, so the loop above can drop the ones a phase does not own (typed: none is forgotten). */
const sections: Record<Section, true> = {
  ingest: true, replies: true, staleness: true, inbox: true, timers: true, efficiency: true, memory: true, cacheMiss: true, scaleOut: true, outbound: true, stream: true, search: true, slaBreaches: true, slaCost: true, slaMemory: true, reports: true, correctness: true,
};
