/**
 * The baseline's workflow: what Temporal alone costs for the same calls convoflow makes, with no lifecycle,
 * no activity and no view. It takes the same signal and update names so the client calls are identical in
 * shape; it counts and answers, nothing else.
 */
import { condition, defineQuery, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';

export const noopSignal = defineSignal<[unknown]>('customerMessage');
export const noopUpdate = defineUpdate<number, [unknown]>('reply');
export const noopCountQuery = defineQuery<number>('count');
export const noopStopSignal = defineSignal('stop');

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
