import type { ActivityOptions } from '@temporalio/workflow';
import { ActivityFailure } from '@temporalio/workflow';
import type { SendOutcome } from './core/model';

/**
 * Sends are ordinary activities: they call a provider over the network, may back off for minutes, and
 * are retried on another worker when this one dies mid-send (after `startToCloseTimeout`; the provider
 * request itself gives up after 10 s). A provider that stays down for a day fails the message
 * (`undeliverable`) rather than hold a conversation's outbox for ever.
 */
export const deliveryActivityOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
};

/** The outcome of a send whose retries ran out; anything else than an activity failure is a bug and rethrown. */
export function undeliverable(error: unknown): SendOutcome {
  if (!(error instanceof ActivityFailure)) throw error;
  return { outcome: 'failed', error: { code: 'undeliverable', message: `not delivered: ${error.cause?.message ?? error.message}` } };
}
