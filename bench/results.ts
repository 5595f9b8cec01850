import type { CacheMissResult, MemoryPoint, EfficiencyResult } from './phases/efficiency';
import type { InboxPoint } from './phases/inbox';
import type { IngestResult } from './phases/ingest';
import type { RepliesResult } from './phases/replies';
import type { OutboundResult } from './phases/outbound';
import type { ScaleResult } from './phases/scale-out';
import type { StalenessResult } from './phases/staleness';
import type { StreamResult } from './phases/stream';
import type { TimersResult } from './phases/timers';
import type { ProfileSummary } from './profile';
import type { CpuShare } from './proc-stats';
import type { TimelineCheck } from './verify';

/** Everything one run measured, as written to bench/results/<date>.json. */
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
  versions: { temporalCli: string; ferretdb: string };
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
  /** The ingest and reply account's timelines checked against every 202 and 200 it got. */
  correctness?: TimelineCheck;
  /** CPU share per process during each load phase: which process limits it. */
  cpu: Record<string, CpuShare>;
  /** Each goal of issue 6: met (true), missed (false), or not measured. */
  goals: { ingest?: boolean; replyP99?: boolean; staleness?: boolean; inbox?: boolean; timers?: boolean; events?: boolean; scaleOut?: boolean; stream?: boolean };
  /** With `--profile`: where each worker and API process spent its CPU. */
  profiles?: ProfileSummary[];
  errors: string[];
  files: { json: string; markdown: string; svg: string };
}
