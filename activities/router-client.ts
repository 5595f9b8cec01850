import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { UserDoc } from '../store/collections';
import type { AccountRouterWorkflow, AssignmentReportPayload, RouteRequestPayload, RoutingConfigPayload } from '../workflows/routing/messages';
import {
  accountRouterWorkflowType,
  agentChangedSignal,
  assignmentReportSignal,
  routeRequestSignal,
  routerWorkflowId,
  routingConfigChangedSignal,
} from '../workflows/routing/messages';
import type { AgentPatch } from '../workflows/routing/routing';

/**
 * How conversations (the worker's activities) and the API reach an account's router. Typed by the
 * router's messages module alone, not by its workflow file: the workflow imports the routing
 * activities' types, so a client there importing the workflow made the one import cycle.
 */
export type RoutingNotice = { type: 'request'; request: RouteRequestPayload } | { type: 'report'; report: AssignmentReportPayload };

/** Signal-with-start, so the router exists on demand. */
export interface RouterClient {
  notify(accountId: string, notice: RoutingNotice): Promise<void>;
  agentChanged(accountId: string, patch: AgentPatch): Promise<void>;
  configChanged(accountId: string, payload: RoutingConfigPayload): Promise<void>;
}

/**
 * Runs one call to Temporal. The API passes its deadline-and-metrics wrapper (api/conversation-gateway.ts);
 * the worker's activities run the call as it is, under their own start-to-close timeout.
 */
export type TemporalCall = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

const direct: TemporalCall = (_operation, fn) => fn();

export function createRouterClient(client: Client, taskQueue: string, call: TemporalCall = direct): RouterClient {
  const signal = async <A>(accountId: string, def: SignalDefinition<[A]>, arg: A) => {
    await call(def.name, () =>
      client.workflow.signalWithStart<AccountRouterWorkflow, [A]>(accountRouterWorkflowType, {
        workflowId: routerWorkflowId(accountId),
        taskQueue,
        args: [{ accountId }],
        signal: def,
        signalArgs: [arg],
      }),
    );
  };
  return {
    async notify(accountId, notice) {
      if (notice.type === 'request') await signal(accountId, routeRequestSignal, notice.request);
      else await signal(accountId, assignmentReportSignal, notice.report);
    },
    async agentChanged(accountId, patch) {
      await signal(accountId, agentChangedSignal, patch);
    },
    async configChanged(accountId, payload) {
      await signal(accountId, routingConfigChangedSignal, payload);
    },
  };
}

/** The router's view of a user document. */
export function agentPatchOf(user: UserDoc): AgentPatch {
  return {
    userId: user.userId,
    teams: user.teams,
    skills: user.languages,
    maxConcurrent: user.maxConcurrent,
    active: user.active,
    presence: user.presence ?? 'offline',
  };
}
