import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one API instance (its own registry, so tests can run several in a process). */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  temporalDuration: Histogram<'operation' | 'outcome'>;
  webhookItems: Counter<'provider' | 'outcome'>;
  rateLimited: Counter<'tier'>;
}

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'convoflow_http_request_duration_seconds',
      help: 'HTTP request latency by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets,
      registers: [registry],
    }),
    temporalDuration: new Histogram({
      name: 'convoflow_temporal_call_duration_seconds',
      help: 'Latency of calls to Temporal (signal-with-start, updates, queries) by outcome',
      labelNames: ['operation', 'outcome'],
      buckets,
      registers: [registry],
    }),
    webhookItems: new Counter({
      name: 'convoflow_webhook_items_total',
      help: 'Items of provider webhooks by outcome: message, receipt, unknown_number (no such channel), invalid_signature (whole bodies)',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'convoflow_rate_limited_total',
      help: 'Requests answered 429 rate_limited, by bucket tier: user, service, anonymous (per client address)',
      labelNames: ['tier'],
      registers: [registry],
    }),
  };
}
