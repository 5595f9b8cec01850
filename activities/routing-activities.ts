import type { Db } from 'mongodb';
import { collections } from '../store/collections';
import { accountWithNewestPolicy } from '../store/policy-versions';
import { withPresence } from '../store/presence';
import { routingOf } from '../workflows/conversation/core/policy';
import type { AgentRecord, RoutingConfig } from '../workflows/routing/routing';
import { manualRouting } from '../workflows/routing/routing';
import { agentPatchOf } from './router-client';

export interface RoutingSnapshot {
  config: RoutingConfig;
  configVersion: number;
  agents: AgentRecord[];
}

export interface RoutingActivities {
  /** The account's routing policy and every user as an agent, with their load (`heldBy`) counted from the views. */
  loadRoutingSnapshot(accountId: string): Promise<RoutingSnapshot>;
}

export function createRoutingActivities({ db }: { db: Db }): RoutingActivities {
  const c = collections(db);
  return {
    async loadRoutingSnapshot(accountId) {
      // Load is whatever consumes an agent's capacity, as each conversation reports it (`heldBy`, the
      // lifecycle's capacityHolder): the assignee while assigned, and also during a wrap-up that
      // blocks capacity. Counting `status: 'assigned'` alone forgot wrap-ups on every rebuild.
      const [account, users, holding] = await Promise.all([
        accountWithNewestPolicy(c.accounts, c.policyVersions, accountId),
        c.users.find({ accountId }).toArray().then((found) => withPresence(c.presence.presence, found)),
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
