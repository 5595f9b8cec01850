import { defineRoute } from '../route';
import type { ApiDeps } from '../deps';
import { healthResponse, readinessResponse } from '../schemas';

const probeTimeoutMs = 2_000;

/** Why a dependency is not ready, as /readyz says it: a stable word, never the driver's message. */
export type ProbeFailure = 'timeout' | 'unavailable';

class ProbeTimeout extends Error {}

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One dependency's probe. /readyz is unauthenticated, so it answers only a stable word per dependency:
 * the driver's or gRPC's message (internal host names, ports, replica set members) goes to the log only.
 */
async function check(deps: ApiDeps, name: string, fn: () => Promise<unknown>): Promise<{ name: string; ok: boolean; error?: ProbeFailure }> {
  try {
    await within(probeTimeoutMs, fn());
    return { name, ok: true };
  } catch (error) {
    const failure: ProbeFailure = error instanceof ProbeTimeout ? 'timeout' : 'unavailable';
    deps.log.warn({ err: error, dependency: name, failure }, 'readiness probe failed');
    return { name, ok: false, error: failure };
  }
}

/** Readiness: both servers answer now. Liveness: the process answers at all. */
export async function readiness(deps: ApiDeps) {
  const checks = await Promise.all([
    check(deps, 'temporal', () => deps.temporal.workflowService.getSystemInfo({})),
    check(deps, 'mongodb', () => deps.db.command({ ping: 1 })),
  ]);
  return { ready: checks.every((c) => c.ok), checks };
}

export const systemRoutes = [
  defineRoute({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process is up',
    response: healthResponse,
    handler: async () => ({ status: 'ok' }),
  }),
  defineRoute({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: Temporal and MongoDB both answer (503 when either does not; each failed check says only `timeout` or `unavailable`, the details are in the log)',
    response: readinessResponse,
    handler: async ({ deps, res }) => {
      const result = await readiness(deps);
      res.status(result.ready ? 200 : 503).json(result);
    },
  }),
];
