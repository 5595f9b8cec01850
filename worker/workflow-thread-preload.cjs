'use strict';
/**
 * Loaded with `--require` by every worker launcher (infra/worker-launch.ts), so it runs first in each of
 * the process's threads, the SDK's workflow thread among them.
 *
 * The SDK records a stack trace for every promise a workflow creates (a promise hook that builds an
 * Error and maps each frame through the bundle's source map), only to answer the `__stack_trace` query
 * (the Web UI's "Stack Trace" tab). That was about a fifth of a reply's worker time, 4 ms of each
 * workflow task (README, "Worker memory"). Without the hook the SDK turns the feature off by itself, as
 * on runtimes that lack promise hooks: it logs once "v8.promiseHooks.createHook is not available; stack
 * trace collection will be disabled." and answers the query with "Workflow stack traces are not enabled
 * on this worker". WORKER_WORKFLOW_STACK_TRACES=true keeps them.
 */
const { isMainThread } = require('node:worker_threads');

if (!isMainThread && process.env.WORKER_WORKFLOW_STACK_TRACES !== 'true') {
  const { promiseHooks } = require('node:v8');
  promiseHooks.createHook = () => {
    throw new Error('workflow stack traces are off (WORKER_WORKFLOW_STACK_TRACES)');
  };
}
