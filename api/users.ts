import type { UserDoc } from '../store/collections';
import { insertNew, userDocId } from '../store/collections';
import { withPresence } from '../store/presence';
import { claimUserRevision, newestProfile } from '../store/user-revisions';
import type { Principal } from './auth';
import { assertMayActOnUser } from './auth';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';
import { hashApiKey, newApiKey } from './keys';
import { loadAccount } from './accounts';
import { userChanged } from './user-availability';

/** Use cases of users (api/DESIGN.md): the user routes parse, call one of these, and map. */

/** The user, with their presence (store/presence.ts). */
export async function loadUser(deps: ApiDeps, accountId: string, userId: string): Promise<UserDoc> {
  const user = await deps.collections.users.findOne({ _id: userDocId(accountId, userId) });
  if (!user) throw notFound('user');
  return (await withPresence(deps.collections.presence.presence, [user]))[0]!;
}

/** The account's users with their presence, by user id. */
export async function listUsers(deps: ApiDeps, accountId: string): Promise<UserDoc[]> {
  return withPresence(deps.collections.presence.presence, await deps.collections.users.find({ accountId }).sort({ userId: 1 }).toArray());
}

export interface NewUser {
  id: string;
  name: string;
  role: UserDoc['role'];
  email?: string | undefined;
  teams?: string[] | undefined;
  languages?: string[] | undefined;
  maxConcurrent?: number | null | undefined;
}

/** Adds a user and their first API key (shown only in this answer). */
export async function addUser(deps: ApiDeps, principal: Principal, accountId: string, input: NewUser): Promise<{ user: UserDoc; apiKey: string }> {
  await loadAccount(deps, accountId);
  if (input.role === 'owner' && principal.kind === 'user' && principal.role !== 'owner') {
    throw new ApiError({ code: 'forbidden', message: 'only an owner or the platform adds owners' });
  }
  const user: UserDoc = {
    _id: userDocId(accountId, input.id),
    accountId,
    userId: input.id,
    name: input.name,
    role: input.role,
    email: input.email ?? null,
    active: true,
    presence: 'offline',
    teams: input.teams ?? [],
    languages: input.languages ?? [],
    maxConcurrent: input.maxConcurrent ?? null,
    createdAt: new Date(),
  };
  // The key first, then the user: a key without its user authenticates nobody (auth reads the user),
  // while a user written before a failed key write was left with no key anyone had seen, and a
  // retry answered 409. A failure after the key leaves an unusable key that the next attempt removes.
  const apiKey = newApiKey('user');
  const hash = hashApiKey(apiKey);
  const keyCreatedAt = new Date();
  await deps.collections.apiKeys.insertOne({ _id: hash, accountId, kind: 'user', userId: input.id, name: input.name, createdAt: keyCreatedAt });
  let created: boolean;
  try {
    created = await insertNew(deps.collections.users, user);
  } catch (error) {
    await deps.collections.apiKeys.deleteOne({ _id: hash }).catch(() => undefined);
    throw error;
  }
  if (!created) {
    await deps.collections.apiKeys.deleteOne({ _id: hash });
    throw new ApiError({ code: 'conflict', message: `user ${input.id} exists` });
  }
  // Keys an earlier, failed attempt wrote for this id before its user existed: never shown to anyone.
  await deps.collections.apiKeys.deleteMany({ accountId, kind: 'user', userId: input.id, createdAt: { $lt: keyCreatedAt } });
  return { user, apiKey };
}

const activeOwners = (deps: ApiDeps, accountId: string) => deps.collections.users.countDocuments({ accountId, role: 'owner', active: true });
const lastOwner = () => new ApiError({ code: 'conflict', message: 'the last active owner cannot be deactivated; make another user an owner first' });

/**
 * Changes a user's profile (teams, languages, capacity, activity) as a claimed revision; the last active
 * owner stays active. Then the router and the user's conversations follow (`userChanged`).
 */
export async function changeUser(deps: ApiDeps, principal: Principal, accountId: string, userId: string, changes: Partial<UserDoc>): Promise<{ user: UserDoc; released: number }> {
  const revisions = deps.collections.userRevisions;
  const before = await newestProfile(revisions, await loadUser(deps, accountId, userId));
  assertMayActOnUser(principal, before);
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
  return { user, released };
}
