import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { Db } from 'mongodb';
import { collections } from '../store/collections';
import { accountWithNewestPolicy, policyVersions } from '../store/policy-versions';
import { presenceCollection, withPresence } from '../store/presence';
import type { UserDoc } from '../store/collections';
import { routingOf } from '../workflows/conversation/core/policy';
import type { AssignmentReportPayload, RouteRequestPayload, RoutingConfigPayload } from '../workflows/routing/messages';
import {
  accountRouterWorkflowType,
  agentChangedSignal,
  assignmentReportSignal,
  routeRequestSignal,
  routerWorkflowId,
  routingConfigChangedSignal,
} from '../workflows/routing/messages';
import type { AgentPatch, AgentRecord, RoutingConfig } from '../workflows/routing/routing';
import { manualRouting } from '../workflows/routing/routing';
import type { accountRouterWorkflow } from '../workflows/routing/router-workflow';

export interface RoutingSnapshot {
  config: RoutingConfig;
  configVersion: number;
  agents: AgentRecord[];
}

export interface RoutingActivities {
  /** The account's routing policy and every user as an agent, with their load (`heldBy`) counted from the views. */
  loadRoutingSnapshot(accountId: string): Promise<RoutingSnapshot>;
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

export function createRoutingActivities({ db }: { db: Db }): RoutingActivities {
  const c = collections(db);
  return {
    async loadRoutingSnapshot(accountId) {
      // Load is whatever consumes an agent's capacity, as each conversation reports it (`heldBy`, the
      // lifecycle's capacityHolder): the assignee while assigned, and also during a wrap-up that
      // blocks capacity. Counting `status: 'assigned'` alone forgot wrap-ups on every rebuild.
      const [account, users, holding] = await Promise.all([
        accountWithNewestPolicy(c.accounts, policyVersions(db), accountId),
        c.users.find({ accountId }).toArray().then((found) => withPresence(presenceCollection(db), found)),
        c.conversations.find({ accountId, heldBy: { $ne: null } }, { projection: { _id: 1, heldBy: 1 } }).toArray(),
      ]);
      const loads = new Map<string, string[]>();
      for (const conv of holding) if (conv.heldBy) loads.set(conv.heldBy, [...(loads.get(conv.heldBy) ?? []), conv._id]);
      const agents = users.map((user) => ({
        ...agentPatchOf(user),
        load: loads.get(user.userId) ?? [],
        lastRoutedSeq: 0,
      })) as AgentRecord[];
      return { config: account ? routingOf(account.policy) : manualRouting, configVersion: account?.policy.version ?? 0, agents };
    },
  };
}

export type RoutingNotice = { type: 'request'; request: RouteRequestPayload } | { type: 'report'; report: AssignmentReportPayload };

/** How conversations and the API reach an account's router: signal-with-start, so it exists on demand. */
export interface RouterClient {
  notify(accountId: string, notice: RoutingNotice): Promise<void>;
  agentChanged(accountId: string, patch: AgentPatch): Promise<void>;
  configChanged(accountId: string, payload: RoutingConfigPayload): Promise<void>;
}

export function createRouterClient(client: Client, taskQueue: string): RouterClient {
  const signal = async <A>(accountId: string, def: SignalDefinition<[A]>, arg: A) => {
    await client.workflow.signalWithStart<typeof accountRouterWorkflow, [A]>(accountRouterWorkflowType, {
      workflowId: routerWorkflowId(accountId),
      taskQueue,
      args: [{ accountId }],
      signal: def,
      signalArgs: [arg],
    });
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
