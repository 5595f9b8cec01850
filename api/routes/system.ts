import { defineRoute } from '../route';
import type { ApiDeps } from '../deps';
import { healthResponse, readinessResponse } from '../schemas';

const probeTimeoutMs = 2_000;

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function check(name: string, fn: () => Promise<unknown>): Promise<{ name: string; ok: boolean; error?: string }> {
  try {
    await within(probeTimeoutMs, fn());
    return { name, ok: true };
  } catch (error) {
    return { name, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Readiness: both servers answer now. Liveness: the process answers at all. */
export async function readiness(deps: ApiDeps) {
  const checks = await Promise.all([
    check('temporal', () => deps.temporal.workflowService.getSystemInfo({})),
    check('mongodb', () => deps.db.command({ ping: 1 })),
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
    summary: 'Readiness: Temporal and MongoDB both answer (503 when either does not)',
    response: readinessResponse,
    handler: async ({ deps, res }) => {
      const result = await readiness(deps);
      res.status(result.ready ? 200 : 503).json(result);
    },
  }),
];
