/**
 * A customer's media fetched durably (SPEC section 10): the webhook answers Meta once this workflow is
 * started, and the download then survives worker and server restarts, retried with backoff for up to
 * a week (Meta keeps a file 30 days). One failed download loses nothing: the next attempt asks Graph
 * for a fresh URL. Apart from the conversation, so a slow file never holds its messages.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { MediaActivities } from '../../activities/media-activities';
import type { InboundMediaFetch, InboundMediaOutcome } from './ids';

const { fetchInboundMedia } = proxyActivities<MediaActivities>({
  // A 100 MB document on a slow link; the activity heartbeats per chunk, so a dead worker is noticed sooner.
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  scheduleToCloseTimeout: '7d',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10m' },
});

export async function inboundMediaWorkflow(input: InboundMediaFetch): Promise<InboundMediaOutcome> {
  try {
    return await fetchInboundMedia(input);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    return { outcome: 'failed', error: { code: 'unfetchable', message: `not fetched: ${error.cause?.message ?? error.message}` } };
  }
}
