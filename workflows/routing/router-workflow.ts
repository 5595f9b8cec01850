/**
 * The per-account router: a long-lived workflow that owns agents' load and the queue of conversations
 * waiting for an agent, and applies the pure rules of routing.ts one input at a time. Because one
 * workflow decides for the whole account, capacity and round-robin fairness hold under any number of
 * concurrent API and worker processes, without locks.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RoutingActivities } from '../../activities/routing-activities';
import { routedSignal } from '../conversation/messages';
import type { AgentPatch, Offer, RouteRequest, RouterOutcome, RouterState } from './routing';
import { initialRouterState, reportAssignment, requestRouting, updateAgent, updateConfig } from './routing';
import type { AssignmentReportPayload, RoutingConfigPayload } from './messages';
import { agentChangedSignal, assignmentReportSignal, routeRequestSignal, routerStateQuery, routingConfigChangedSignal } from './messages';

export interface RouterWorkflowInput {
  accountId: string;
  carried?: { state: RouterState; configVersion: number };
  limits?: { historyEventBudget?: number };
}

type RouterInput =
  | { type: 'request'; request: RouteRequest }
  | { type: 'report'; report: AssignmentReportPayload }
  | { type: 'agent'; patch: AgentPatch }
  | { type: 'config'; payload: RoutingConfigPayload };

const { loadRoutingSnapshot } = proxyLocalActivities<RoutingActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** Each offer costs two events; the router rolls over well before the server's 4k suggestion. */
const defaultHistoryEventBudget = 3_000;

export async function accountRouterWorkflow(input: RouterWorkflowInput): Promise<void> {
  const inbox: RouterInput[] = [];
  let state: RouterState | undefined = input.carried?.state;
  let configVersion = input.carried?.configVersion ?? -1;
  const budget = input.limits?.historyEventBudget ?? defaultHistoryEventBudget;

  setHandler(routeRequestSignal, (request) => void inbox.push({ type: 'request', request }));
  setHandler(assignmentReportSignal, (report) => void inbox.push({ type: 'report', report }));
  setHandler(agentChangedSignal, (patch) => void inbox.push({ type: 'agent', patch }));
  setHandler(routingConfigChangedSignal, (payload) => void inbox.push({ type: 'config', payload }));
  setHandler(routerStateQuery, () => state ?? null);

  const snapshot = async (): Promise<RouterState> => {
    const snap = await loadRoutingSnapshot(input.accountId);
    configVersion = snap.configVersion;
    return initialRouterState(input.accountId, snap.config, snap.agents);
  };
  state ??= await snapshot();

  for (;;) {
    await condition(() => inbox.length > 0 || workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > budget);
    const offers: Offer[] = [];
    while (inbox.length > 0) {
      const next = inbox.shift()!;
      let outcome: RouterOutcome;
      switch (next.type) {
        case 'request':
          outcome = requestRouting(state, next.request);
          break;
        case 'report':
          outcome = reportAssignment(state, next.report);
          break;
        case 'agent':
          outcome = updateAgent(state, next.patch);
          break;
        case 'config':
          if (next.payload.version <= configVersion) continue;
          // Loads were not reported while routing was manual: start again from the views.
          state = { ...(await snapshot()), queue: state.queue, seq: state.seq };
          configVersion = next.payload.version;
          outcome = updateConfig(state, next.payload.config);
          break;
      }
      state = outcome.state;
      offers.push(...outcome.offers);
    }
    await Promise.all(offers.map((offer) => deliver(offer, inbox)));

    if (inbox.length === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > budget)) {
      await condition(allHandlersFinished);
      if (inbox.length === 0) await continueAsNew<typeof accountRouterWorkflow>({ accountId: input.accountId, carried: { state, configVersion }, limits: input.limits });
    }
  }
}

/** Signals the offer; a conversation that no longer exists gives its reserved slot back. */
async function deliver(offer: Offer, inbox: RouterInput[]): Promise<void> {
  try {
    await getExternalWorkflowHandle(offer.conversationId).signal(routedSignal, { assigneeId: offer.userId, rule: offer.rule });
  } catch {
    inbox.push({ type: 'report', report: { conversationId: offer.conversationId, assigneeId: null } });
  }
}
