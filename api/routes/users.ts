import type { UserDoc } from '../../store/collections';
import { insertNew, userDocId } from '../../store/collections';
import { presenceCollection, withPresence } from '../../store/presence';
import { claimUserRevision, newestProfile, userRevisions } from '../../store/user-revisions';
import { assertMayActOnUser, everyUser, isSupervisorPrincipal } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import { hashApiKey, newApiKey } from '../keys';
import { defineRoute } from '../route';
import * as s from '../schemas';
import { z } from 'zod';
import { choosePresence, heartbeat, tabIdSchema } from '../presence';
import { userChanged } from '../user-availability';
import { loadAccount } from './accounts';

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

/** The user, with their presence (store/presence.ts). */
export async function loadUser(deps: ApiDeps, accountId: string, userId: string): Promise<UserDoc> {
  const user = await deps.collections.users.findOne({ _id: userDocId(accountId, userId) });
  if (!user) throw notFound('user');
  return (await withPresence(presenceCollection(deps.db), [user]))[0]!;
}

const activeOwners = (deps: ApiDeps, accountId: string) => deps.collections.users.countDocuments({ accountId, role: 'owner', active: true });
const lastOwner = () => new ApiError({ code: 'conflict', message: 'the last active owner cannot be deactivated; make another user an owner first' });

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
      const accountId = params.accountId!;
      await loadAccount(deps, accountId);
      if (body.role === 'owner' && principal.kind === 'user' && principal.role !== 'owner') {
        throw new ApiError({ code: 'forbidden', message: 'only an owner or the platform adds owners' });
      }
      const user: UserDoc = {
        _id: userDocId(accountId, body.id),
        accountId,
        userId: body.id,
        name: body.name,
        role: body.role,
        email: body.email ?? null,
        active: true,
        presence: 'offline',
        teams: body.teams ?? [],
        languages: body.languages ?? [],
        maxConcurrent: body.maxConcurrent ?? null,
        createdAt: new Date(),
      };
      // The key first, then the user: a key without its user authenticates nobody (auth reads the user),
      // while a user written before a failed key write was left with no key anyone had seen, and a
      // retry answered 409. A failure after the key leaves an unusable key that the next attempt removes.
      const apiKey = newApiKey('user');
      const hash = hashApiKey(apiKey);
      const keyCreatedAt = new Date();
      await deps.collections.apiKeys.insertOne({ _id: hash, accountId, kind: 'user', userId: body.id, name: body.name, createdAt: keyCreatedAt });
      let created: boolean;
      try {
        created = await insertNew(deps.collections.users, user);
      } catch (error) {
        await deps.collections.apiKeys.deleteOne({ _id: hash }).catch(() => undefined);
        throw error;
      }
      if (!created) {
        await deps.collections.apiKeys.deleteOne({ _id: hash });
        throw new ApiError({ code: 'conflict', message: `user ${body.id} exists` });
      }
      // Keys an earlier, failed attempt wrote for this id before its user existed: never shown to anyone.
      await deps.collections.apiKeys.deleteMany({ accountId, kind: 'user', userId: body.id, createdAt: { $lt: keyCreatedAt } });
      return { user: userView(user), apiKey };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/users',
    summary: "List the account's users",
    response: s.userListResponse,
    allow: ['platform', ...everyUser],
    handler: async ({ deps, params }) => {
      const users = await withPresence(presenceCollection(deps.db), await deps.collections.users.find({ accountId: params.accountId! }).sort({ userId: 1 }).toArray());
      return { users: users.map(userView) };
    },
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
      const revisions = userRevisions(deps.db);
      const before = await newestProfile(revisions, await loadUser(deps, params.accountId!, params.userId!));
      assertMayActOnUser(principal, before);
      const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Partial<UserDoc>;
      const user: UserDoc = { ...before, ...changes, rev: (before.rev ?? 0) + 1 };
      const deactivatesOwner = before.role === 'owner' && before.active && changes.active === false;
      if (deactivatesOwner && (await activeOwners(deps, before.accountId)) <= 1) throw lastOwner();
      // Claimed insert-once (store/user-revisions.ts): a change racing another one on this user is 409,
      // never lost in silence.
      if (!(await claimUserRevision(deps.collections.users, revisions, user))) {
        throw new ApiError({ code: 'conflict', message: 'the user changed meanwhile; read them and try again' });
      }
      // Two owners deactivating each other at once both passed the check above; without transactions,
      // count again after writing and undo: then both stay active and both are told why.
      if (deactivatesOwner && (await activeOwners(deps, before.accountId)) === 0) {
        for (let undone = false; !undone; ) {
          const newest = await newestProfile(revisions, user);
          undone = await claimUserRevision(deps.collections.users, revisions, { ...newest, active: true, rev: (newest.rev ?? 0) + 1 });
        }
        throw lastOwner();
      }
      const { released } = await userChanged(deps, user);
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
