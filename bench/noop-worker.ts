import { NativeConnection, Worker } from '@temporalio/worker';
import type { NoopActivities } from './noop-workflows';

const activities: NoopActivities = {
  clock: () => Promise.resolve(Date.now()),
};

/**
 * The baseline worker process: serves bench/noop-workflows.ts (and its one activity) on TEMPORAL_TASK_QUEUE. A process of its
 * own, like the real worker, so the baseline does not share an event loop with the load generator.
 */
async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error('TEMPORAL_ADDRESS and TEMPORAL_TASK_QUEUE are required');
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowsPath: require.resolve('./noop-workflows'),
    activities,
    // The same cache size as the real worker (worker/worker.ts), so both replay equally rarely.
    maxCachedWorkflows: 10_000,
  });
  const running = worker.run();
  process.send?.({ type: 'ready' });
  const stop = () => worker.getState() === 'RUNNING' && worker.shutdown();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await running;
  await connection.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
