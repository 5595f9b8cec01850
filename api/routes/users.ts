import type { UserDoc } from '../../store/collections';
import { assertMayActOnUser, everyUser, isSupervisorPrincipal } from '../auth';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import * as s from '../schemas';
import { z } from 'zod';
import { choosePresence, heartbeat, tabIdSchema } from '../presence';
import { addUser, changeUser, listUsers, loadUser } from '../users';

/** `PUT .../presence`: a presence chosen by hand, or `automatic` (docs/presence.md). */
const presenceChoice = z.strictObject({ status: z.enum(['online', 'away', 'offline', 'automatic']) });
const heartbeatBody = z.strictObject({ tabId: tabIdSchema, active: z.boolean() });
const heartbeatAnswer = z.object({ userId: z.string(), presence: z.enum(['online', 'away', 'offline']), manual: z.boolean() });

const userView = (u: UserDoc) => ({
  id: u.userId,
  name: u.name,
  role: u.role,
  email: u.email ?? null,
  active: u.active,
  presence: u.presence ?? 'offline',
  teams: u.teams,
  languages: u.languages,
  maxConcurrent: u.maxConcurrent,
  createdAt: u.createdAt,
});

export const userRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/users',
    summary: 'Add a user; answers with their API key, shown only this once',
    allow: ['platform', 'owner', 'admin'],
    body: s.createUser,
    response: s.createdUserResponse,
    status: 201,
    answersSecret: true,
    handler: async ({ deps, params, body, principal }) => {
      const { user, apiKey } = await addUser(deps, principal, params.accountId!, body);
      return { user: userView(user), apiKey };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/users',
    summary: "List the account's users",
    response: s.userListResponse,
    allow: ['platform', ...everyUser],
    handler: async ({ deps, params }) => ({ users: (await listUsers(deps, params.accountId!)).map(userView) }),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/accounts/{accountId}/users/{userId}',
    summary:
      "Change a user's teams, languages, capacity or activity (owners and admins, on users of at most their rank); deactivating returns their conversations; the last active owner stays",
    allow: ['platform', 'owner', 'admin'],
    body: s.patchUser,
    response: s.userChangedResponse,
    handler: async ({ deps, params, body, principal }) => {
      const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Partial<UserDoc>;
      const { user, released } = await changeUser(deps, principal, params.accountId!, params.userId!, changes);
      return { user: userView(user), released };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/v1/accounts/{accountId}/users/{userId}/presence',
    summary:
      'Set presence by hand (online, away, offline), which holds until `automatic` hands it back to the tabs (docs/presence.md): the user themself or a supervisor; a `presence` stream event follows',
    allow: ['platform', ...everyUser],
    body: presenceChoice,
    response: s.userChangedResponse,
    handler: async ({ deps, params, body, principal }) => {
      if (principal.kind === 'user' && principal.userId !== params.userId && !isSupervisorPrincipal(principal)) {
        throw new ApiError({ code: 'forbidden', message: "agents set only their own presence" });
      }
      const before = await loadUser(deps, params.accountId!, params.userId!);
      assertMayActOnUser(principal, before);
      // Its own documents, claimed once (store/presence.ts): a write of the user's document here could
      // undo a concurrent profile change, and a sweep deciding at the same moment must not undo this.
      const { state, released } = await choosePresence(deps, before, body.status);
      return { user: userView({ ...before, presence: state.presence }), released };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/presence-heartbeats',
    summary:
      "A tab of the caller says whether the person is active in it (docs/presence.md): online while a tab is open and active, away when all are idle; answers the caller's presence",
    allow: everyUser,
    body: heartbeatBody,
    response: heartbeatAnswer,
    handler: async ({ deps, params, body, principal }) => {
      if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'heartbeats are for users' });
      const user = await loadUser(deps, params.accountId!, principal.userId);
      const state = await heartbeat(deps, user, body.tabId, body.active);
      return { userId: user.userId, presence: state.presence, manual: state.manual };
    },
  }),
];
