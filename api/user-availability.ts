import { agentPatchOf } from '../activities/router-client';
import type { UserDoc } from '../store/collections';
import { conversationsHeldBy, conversationsSnoozedFor } from '../store/conversation-views';
import { effective } from '../workflows/conversation/core/policy';
import { loadAccount } from './accounts';
import type { ApiDeps } from './deps';

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
  const held = await conversationsHeldBy(deps.collections, user.accountId, user.userId);
  if (user.active && !offline) {
    // Seed 004: a disconnect starts each conversation's reconnect timeout; coming back stops it.
    if (policy.agentReconnectTimeoutMs !== null) {
      const online = user.presence !== 'offline';
      await Promise.all(held.map((conversationId) => deps.conversations.agentPresence(conversationId, { userId: user.userId, online })));
    }
    return { released: 0 };
  }
  const reason = user.active ? 'agent_offline' : 'agent_deactivated';
  // SPEC 9: a deactivated user's snoozed conversations stay snoozed but leave them, so they wake to open.
  // Going offline leaves them theirs: they wake to the assignee.
  const snoozed = user.active ? [] : await conversationsSnoozedFor(deps.collections, user.accountId, user.userId);
  await Promise.all([...held, ...snoozed].map((conversationId) => deps.conversations.release(conversationId, { userId: user.userId, reason })));
  return { released: held.length + snoozed.length };
}
