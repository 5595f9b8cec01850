/**
 * SPEC 10, "Read and typing": marks a customer's message read at the provider, or shows the typing
 * indicator, from a workflow of its own rather than from the conversation's (its history stays as it
 * was, and a failing provider never holds a reply; api/DESIGN.md, "Read and typing").
 *
 * Retries are few and short: a read tick or a typing indicator that arrives a minute late is worth
 * nothing, so after them the request is dropped (logged by the activity, never failing the workflow).
 *
 * With `typing`, the workflow waits `typingIntervalMs` after the request came to an end before it
 * completes: the typing workflow id is taken meanwhile, so the next indicator for the conversation goes
 * at least that long after this one, whichever API process asks (workflows/provider-read/ids.ts).
 */
import { ActivityFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { ReadActivities, ReadOutcome } from '../../activities/read-activities';
import type { ProviderReadInput } from './ids';
import { typingIntervalMs } from './ids';

const { markReadAtProvider } = proxyActivities<ReadActivities>({
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

export async function providerReadWorkflow(input: ProviderReadInput): Promise<ReadOutcome> {
  let outcome: ReadOutcome;
  try {
    outcome = await markReadAtProvider(input);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    outcome = { outcome: 'dropped', code: 'retries_exhausted' };
  }
  if (input.typing) await sleep(typingIntervalMs);
  return outcome;
}
