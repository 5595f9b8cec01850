import { ApplicationFailure } from '@temporalio/common';
import type { MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ChannelConfig, SendResult } from '../channels/types';

/**
 * convoflow's own worker metrics (issue 11, item 8), made on the SDK's metric meter so they leave through
 * the same Prometheus exporter as the SDK's (task latencies, slots, sticky cache): one port,
 * `WORKER_METRICS_PORT`, one scrape. Without an exporter (tests running workers in-process) they go nowhere.
 *
 * - `convoflow_sends{provider,outcome}`: every provider answer of a send (sent, failed, retry).
 * - `convoflow_activity_retries{activity_type,local}`: attempts after the first. The persist local
 *   activity retries without limit through an outage, so this is where a stuck view write shows.
 * - `convoflow_activity_failures{activity_type,local,failure}`: attempts that threw, `failure` being
 *   `non_retryable` (a permanent failure: the activity gives up) or `retryable`.
 * Rejected workflow inputs would be counted in the workflow (its `metricMeter`); the conversation
 * workflow does not do that yet.
 */
export interface WorkerMetrics {
  onSend(provider: ChannelConfig['provider'], outcome: SendResult['outcome']): void;
  /** A signal the lifecycle rules refused (reported by the workflow's sink, never during replay). */
  onRejectedInput(input: string, code: string): void;
  activityInterceptor: ActivityInterceptorsFactory;
}

/** On the runtime's meter by default: exported when the process installed a Prometheus exporter (worker/main.ts). */
export function createWorkerMetrics(meter: MetricMeter = Runtime.instance().metricMeter): WorkerMetrics {
  const sends = meter.createCounter('convoflow_sends', '1', 'Provider answers of sends, by provider and outcome (sent, failed, retry)');
  const retries = meter.createCounter('convoflow_activity_retries', '1', 'Activity attempts after the first, by activity type (persist is the local view write)');
  const failures = meter.createCounter('convoflow_activity_failures', '1', 'Activity attempts that threw, by activity type and whether the failure is retryable');
  const rejected = meter.createCounter('convoflow_rejected_inputs', '1', 'Signals to conversations that the lifecycle rules refused, by input type and code');
  return {
    onSend: (provider, outcome) => sends.add(1, { provider, outcome }),
    onRejectedInput: (input, code) => rejected.add(1, { input, code }),
    activityInterceptor: (ctx) => ({
      inbound: {
        async execute(input, next) {
          const tags = { activity_type: ctx.info.activityType, local: String(ctx.info.isLocal) };
          if (ctx.info.attempt > 1) retries.add(1, tags);
          try {
            return await next(input);
          } catch (error) {
            const permanent = error instanceof ApplicationFailure && error.nonRetryable;
            failures.add(1, { ...tags, failure: permanent ? 'non_retryable' : 'retryable' });
            throw error;
          }
        },
      },
    }),
  };
}
