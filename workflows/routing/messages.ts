/**
 * The names of the per-account router workflow: one per account, `router:{accountId}`, the single
 * authority for agents' load. Conversations and the API signal it; it signals conversations back
 * (`routedSignal` in the conversation's messages module).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AgentPatch, RouteRequest, RouterState, RoutingConfig } from './routing';

export const accountRouterWorkflowType = 'accountRouterWorkflow';

export function routerWorkflowId(accountId: string): string {
  return `router:${accountId}`;
}

/**
 * What a caller that starts the router passes it (signal-with-start): its account. The workflow's own
 * input adds what a run carries to the next; callers never send that. A client typed by this (and the
 * signals below) needs nothing from the workflow's file, so the workflow can import the activities'
 * types without a cycle.
 */
export interface RouterStartInput {
  accountId: string;
}
/** The router workflow as its callers see it: `signalWithStart<AccountRouterWorkflow, [A]>`. */
export type AccountRouterWorkflow = (input: RouterStartInput) => Promise<void>;

export type RouteRequestPayload = RouteRequest;
export interface AssignmentReportPayload {
  conversationId: string;
  assigneeId: string | null;
}
export interface RoutingConfigPayload {
  config: RoutingConfig;
  /** The policy version it came with; an older one arriving late is ignored. */
  version: number;
}

export const routeRequestSignal = defineSignal<[RouteRequestPayload]>('routeRequest');
export const assignmentReportSignal = defineSignal<[AssignmentReportPayload]>('assignmentReport');
export const agentChangedSignal = defineSignal<[AgentPatch]>('agentChanged');
export const routingConfigChangedSignal = defineSignal<[RoutingConfigPayload]>('routingConfigChanged');

export const routerStateQuery = defineQuery<RouterState | null>('routerState');
