import type { BenchStack, ApiProcess } from './stack';

/** Sizes of one run; `--quick` picks the small set (under three minutes on two cores). */
export interface Sizes {
  concurrency: number;
  ingestConversations: number;
  ingestMs: number;
  baselineMs: number;
  replySaturationMs: number;
  replyLevelMs: number;
  replyLevels: number[];
  stalenessSamples: number;
  inboxSizes: number[];
  inboxSamples: number;
  timerConversations: number;
  timerAutoClose: string;
  sequentialMessages: number;
  longConversationMessages: number;
  openConversationTargets: number[];
  /** The most the memory phase spends opening conversations, over all its targets. */
  memoryBudgetMs: number;
  scaleMs: number;
  scaleConfigs: { workers: number; apis: number }[];
}

export const quickSizes: Sizes = {
  concurrency: 32,
  ingestConversations: 300,
  ingestMs: 6_000,
  baselineMs: 4_000,
  replySaturationMs: 3_000,
  replyLevelMs: 3_000,
  replyLevels: [0.25, 0.5, 0.75],
  stalenessSamples: 40,
  inboxSizes: [1_000],
  inboxSamples: 20,
  timerConversations: 100,
  timerAutoClose: '8s',
  sequentialMessages: 20,
  longConversationMessages: 1_000,
  openConversationTargets: [1_000],
  memoryBudgetMs: 60_000,
  scaleMs: 3_000,
  scaleConfigs: [
    { workers: 1, apis: 1 },
    { workers: 2, apis: 1 },
    { workers: 2, apis: 2 },
  ],
};

export const fullSizes: Sizes = {
  concurrency: 32,
  ingestConversations: 2_000,
  ingestMs: 20_000,
  baselineMs: 15_000,
  replySaturationMs: 10_000,
  replyLevelMs: 10_000,
  replyLevels: [0.25, 0.5, 0.75],
  stalenessSamples: 500,
  inboxSizes: [10_000, 100_000],
  inboxSamples: 300,
  timerConversations: 1_000,
  // Long enough to deliver the 1,000 aligning messages (about 40 s here) before the deadline falls.
  timerAutoClose: '120s',
  sequentialMessages: 50,
  longConversationMessages: 10_000,
  openConversationTargets: [10_000, 100_000],
  memoryBudgetMs: 20 * 60_000,
  scaleMs: 10_000,
  scaleConfigs: [
    { workers: 1, apis: 1 },
    { workers: 2, apis: 1 },
    { workers: 1, apis: 2 },
    { workers: 2, apis: 2 },
  ],
};

/** Sizes a phase measures at, from `name` (comma-separated positive integers, e.g. `10000,1000000`), else `fallback`. */
export function sizesFromEnv(name: string, fallback: number[]): number[] {
  const fromEnv = process.env[name]?.split(',').map(Number);
  return fromEnv && fromEnv.every((n) => Number.isInteger(n) && n > 0) ? fromEnv : fallback;
}

export interface BenchContext {
  stack: BenchStack;
  /** The first API process; phases that need more start them through the stack. */
  api: ApiProcess;
  sizes: Sizes;
  quick: boolean;
  /** Task queue of the baseline's no-op worker. */
  noopQueue: string;
  log(line: string): void;
}
