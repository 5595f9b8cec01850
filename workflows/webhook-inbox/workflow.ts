/**
 * The account's WhatsApp webhook inbox (api/DESIGN.md, "WhatsApp webhook"). The API answers Meta once a
 * body is kept and this workflow told (`bodyReceived`); here the bodies are fanned out one at a time, in
 * the order the signals arrived, by one activity each (per conversation in body order: the media fetch
 * started, then the message; receipts after), which heartbeats its progress so a retry resumes. A body
 * whose fan-out keeps failing is marked `failed` with the reason after its bounded retries, and the next
 * bodies go on; an operator replays it by signalling its id again (README, "WhatsApp webhook bodies").
 * The run ends when nothing arrived for a minute (the next body starts another) and continues as new
 * every `bodiesPerRun` bodies.
 */
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { WebhookInboxActivities } from '../../activities/webhook-inbox-activities';
import type { WebhookInboxInput } from './messages';
import { bodiesPerRun, bodyReceivedSignal } from './messages';

const { fanOutWebhookBody } = proxyActivities<WebhookInboxActivities>({
  startToCloseTimeout: '10m',
  // A dead worker is noticed within 20 s; the retry resumes after the last conversations its heartbeat named.
  heartbeatTimeout: '20s',
  // About 15 minutes of tries (1 s doubling to 2 min): a store or Temporal outage is waited out, a body
  // that cannot be fanned out stops holding up the account's later bodies. Unreadable bodies fail at once.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 12, nonRetryableErrorTypes: ['webhook_body_unreadable'] },
});

const { markWebhookBodyFailed } = proxyActivities<WebhookInboxActivities>({
  startToCloseTimeout: '30s',
  // Until the store takes it: the next body waits rather than leave this one `pending` with nobody on it.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** How long a run waits for another body before it ends. */
const idleBeforeEnd = '1 minute';

export async function webhookInboxWorkflow(input: WebhookInboxInput): Promise<void> {
  const queue: string[] = [...(input.queue ?? [])];
  setHandler(bodyReceivedSignal, ({ bodyId }) => {
    // A redelivery of a body still queued (or under way) adds nothing; one already done is skipped by the activity.
    if (!queue.includes(bodyId)) queue.push(bodyId);
  });

  const perRun = input.bodiesPerRun ?? bodiesPerRun;
  let handled = 0;
  for (;;) {
    if (queue.length === 0) {
      setCurrentDetails(`Waiting for WhatsApp webhook bodies of account ${input.accountId} (${handled} fanned out in this run)`);
      if (!(await condition(() => queue.length > 0, idleBeforeEnd))) return;
    }
    if (handled >= perRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof webhookInboxWorkflow>({ accountId: input.accountId, queue, bodiesPerRun: input.bodiesPerRun });
    }
    const bodyId = queue[0]!;
    setCurrentDetails(`Fanning out WhatsApp webhook body ${bodyId} (${queue.length - 1} more queued)`);
    try {
      await fanOutWebhookBody({ bodyId });
    } catch (error) {
      await markWebhookBodyFailed({ bodyId, reason: reasonOf(error) });
    }
    queue.shift();
    handled++;
  }
}

/** The last attempt's error, as the activity failure carries it. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? cause : error instanceof Error ? error : undefined;
  return inner ? `${inner.name}: ${inner.message}` : String(error);
}
