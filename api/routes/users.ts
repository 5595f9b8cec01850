import { agentPatchOf } from '../../activities/routing-activities';
import type { UserDoc } from '../../store/collections';
import { insertNew } from '../../store/collections';
import { agentPresenceSignal, releaseSignal } from '../../workflows/conversation/messages';
import { effective } from '../../workflows/conversation/policy';
import { everyUser, isSupervisorPrincipal } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import { hashApiKey, newApiKey } from '../keys';
import { defineRoute } from '../route';
import * as s from '../schemas';
import { loadAccount } from './accounts';

const userView = (u: UserDoc) => ({
  id: u.userId,
  name: u.name,
  role: u.role,
  active: u.active,
  presence: u.presence ?? 'offline',
  teams: u.teams,
  languages: u.languages,
  maxConcurrent: u.maxConcurrent,
  createdAt: u.createdAt,
});

async function loadUser(deps: ApiDeps, accountId: string, userId: string): Promise<UserDoc> {
  const user = await deps.collections.users.findOne({ _id: `${accountId}/${userId}` });
  if (!user) throw notFound('user');
  return user;
}

/**
 * After a user changes: the router learns it (they may now be eligible, or no longer), and if they
 * became unavailable their assigned conversations go back — to routing, or to open under manual.
 * The views say which conversations they hold; each conversation re-checks that it is still theirs.
 */
async function userChanged(deps: ApiDeps, user: UserDoc): Promise<{ released: number }> {
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

export const userRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/users',
    summary: 'Add a user; answers with their API key, shown only this once',
    allow: ['platform', 'owner', 'admin'],
    body: s.createUser,
    status: 201,
    handler: async ({ deps, params, body, principal }) => {
      const accountId = params.accountId!;
      await loadAccount(deps, accountId);
      if (body.role === 'owner' && principal.kind === 'user' && principal.role !== 'owner') {
        throw new ApiError({ code: 'forbidden', message: 'only an owner or the platform adds owners' });
      }
      const user: UserDoc = {
        _id: `${accountId}/${body.id}`,
        accountId,
        userId: body.id,
        name: body.name,
        role: body.role,
        active: true,
        presence: 'offline',
        teams: body.teams ?? [],
        languages: body.languages ?? [],
        maxConcurrent: body.maxConcurrent ?? null,
        createdAt: new Date(),
      };
      if (!(await insertNew(deps.collections.users, user))) throw new ApiError({ code: 'conflict', message: `user ${body.id} exists` });
      const apiKey = newApiKey('user');
      await deps.collections.apiKeys.insertOne({ _id: hashApiKey(apiKey), accountId, kind: 'user', userId: body.id, name: body.name, createdAt: new Date() });
      return { user: userView(user), apiKey };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/users',
    summary: "List the account's users",
    allow: ['platform', ...everyUser],
    handler: async ({ deps, params }) => {
      const users = await deps.collections.users.find({ accountId: params.accountId! }).sort({ userId: 1 }).toArray();
      return { users: users.map(userView) };
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/accounts/{accountId}/users/{userId}',
    summary: "Change a user's teams, languages, capacity or activity; deactivating returns their conversations",
    allow: ['platform', 'owner', 'admin'],
    body: s.patchUser,
    handler: async ({ deps, params, body }) => {
      const before = await loadUser(deps, params.accountId!, params.userId!);
      const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Partial<UserDoc>;
      const user: UserDoc = { ...before, ...changes };
      await deps.collections.users.updateOne({ _id: user._id }, { $set: changes });
      const { released } = await userChanged(deps, user);
      return { user: userView(user), released };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/v1/accounts/{accountId}/users/{userId}/presence',
    summary: 'Set presence (online, away, offline): the user themself or a supervisor',
    allow: ['platform', ...everyUser],
    body: s.presence,
    handler: async ({ deps, params, body, principal }) => {
      if (principal.kind === 'user' && principal.userId !== params.userId && !isSupervisorPrincipal(principal)) {
        throw new ApiError({ code: 'forbidden', message: "agents set only their own presence" });
      }
      const before = await loadUser(deps, params.accountId!, params.userId!);
      const user: UserDoc = { ...before, presence: body.status };
      await deps.collections.users.updateOne({ _id: user._id }, { $set: { presence: body.status } });
      const { released } = await userChanged(deps, user);
      return { user: userView(user), released };
    },
  }),
];
