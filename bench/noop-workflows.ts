/**
 * The baseline's workflows: what Temporal alone costs for the same calls convoflow makes, with no lifecycle,
 * no view and no database. `noopWorkflow` takes the same signal and update names so the client calls are
 * identical in shape; it counts and answers, nothing else. `noopTimerWorkflow` is the auto-close burst's
 * baseline: a bare timer, then one local activity.
 */
import { condition, defineQuery, defineSignal, defineUpdate, proxyLocalActivities, setHandler, sleep } from '@temporalio/workflow';

export const noopSignal = defineSignal<[unknown]>('customerMessage');
export const noopUpdate = defineUpdate<number, [unknown]>('reply');
export const noopCountQuery = defineQuery<number>('count');
export const noopStopSignal = defineSignal('stop');

/** Served by bench/noop-worker.ts. */
export interface NoopActivities {
  /** Does nothing but answer the worker's clock: the cheapest local activity there is. */
  clock(): Promise<number>;
}

export async function noopWorkflow(): Promise<void> {
  let count = 0;
  let stop = false;
  setHandler(noopSignal, () => {
    count++;
  });
  setHandler(noopUpdate, () => ++count);
  setHandler(noopCountQuery, () => count);
  setHandler(noopStopSignal, () => {
    stop = true;
  });
  await condition(() => stop);
}

const { clock } = proxyLocalActivities<NoopActivities>({ startToCloseTimeout: '30s' });

export interface NoopTimerResult {
  /** The workflow's clock in the task the timer woke: measured the way a conversation's closedAt is. */
  firedAt: number;
  /** When the local activity after it had run (the worker's clock). */
  doneAt: number;
}

/**
 * Sleeps until `deadline` (epoch ms), as a conversation sleeps until its auto-close deadline, then runs one
 * local activity, as a conversation writes its close, and completes. Many of them started with the same
 * deadline are the bare-timer baseline of the bench's timers phase.
 */
export async function noopTimerWorkflow(deadline: number): Promise<NoopTimerResult> {
  // Computed like the conversation's `due - now`, so both timers are set the same way.
  await sleep(Math.max(1, deadline - Date.now()));
  const firedAt = Date.now();
  const doneAt = await clock();
  return { firedAt, doneAt };
}
