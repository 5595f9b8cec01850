import { agentPatchOf } from '../activities/routing-activities';
import type { UserDoc } from '../store/collections';
import { agentPresenceSignal, releaseSignal } from '../workflows/conversation/messages';
import { effective } from '../workflows/conversation/core/policy';
import type { ApiDeps } from './deps';
import { loadAccount } from './routes/accounts';

/**
 * After a user changes: the router learns it (they may now be eligible, or no longer), and if they
 * became unavailable their assigned conversations go back — to routing, or to open under manual.
 * The views say which conversations they hold; each conversation re-checks that it is still theirs.
 */
export async function userChanged(deps: ApiDeps, user: UserDoc): Promise<{ released: number }> {
  await deps.router.agentChanged(user.accountId, agentPatchOf(user));
  const account = await loadAccount(deps, user.accountId);
  const policy = effective(account.policy);
  const offline = user.presence === 'offline' && policy.routing.releaseOnOffline;
  const held = await deps.collections.conversations.find({ accountId: user.accountId, status: 'assigned', assigneeId: user.userId }, { projection: { _id: 1 } }).toArray();
  if (user.active && !offline) {
    // Seed 004: a disconnect starts each conversation's reconnect timeout; coming back stops it.
    if (policy.agentReconnectTimeoutMs !== null) {
      const online = user.presence !== 'offline';
      await Promise.all(
        held.map((conv) =>
          deps.temporalCall('agentPresence', () => deps.temporal.workflow.getHandle(conv._id).signal(agentPresenceSignal, { userId: user.userId, online })),
        ),
      );
    }
    return { released: 0 };
  }
  const reason = user.active ? 'agent_offline' : 'agent_deactivated';
  await Promise.all(
    held.map((conv) =>
      deps.temporalCall('release', () => deps.temporal.workflow.getHandle(conv._id).signal(releaseSignal, { userId: user.userId, reason })),
    ),
  );
  return { released: held.length };
}
