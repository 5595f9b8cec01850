import type { ApiKeyDoc } from '../../store/collections';
import { parseDuration } from '../../workflows/conversation/core/durations';
import type { Access, Principal } from '../auth';
import { assertMayActOnUser, assertMayManageKeysOf, everyUser } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import { hashApiKey, keyIdOf, newApiKey, serviceKeyIdOf } from '../keys';
import { defineRoute } from '../route';
import * as s from '../schemas';
import { loadAccount } from '../accounts';
import { loadUser } from '../users';

/**
 * Listing, revoking and rotating API keys (issue 11). Only a key's SHA-256 is stored; its public id is
 * the first 16 hex digits of that hash, which names it without revealing anything usable.
 *
 * Revoking deletes the key: the next request with it is 401, in every API process, because keys are
 * looked up on every request. Rotating issues a new key (shown once, in the answer) and ends the old
 * ones at once, or after `gracePeriod` so a deployment can switch over.
 */

const keyView = (k: ApiKeyDoc) => ({
  id: keyIdOf(k),
  kind: k.kind,
  ...(k.kind === 'user' ? { userId: k.userId } : {}),
  name: k.name,
  createdAt: k.createdAt,
  expiresAt: k.expiresAt ?? null,
});

type KeyOwner = { accountId: string } & ({ kind: 'user'; userId: string } | { kind: 'service'; keyId: string });

/** The keys of one user, or the one service key with this id; expired ones are left out (and removed). */
async function keysOf(deps: ApiDeps, owner: KeyOwner): Promise<ApiKeyDoc[]> {
  const filter = owner.kind === 'user' ? { accountId: owner.accountId, kind: 'user' as const, userId: owner.userId } : { accountId: owner.accountId, kind: 'service' as const };
  const all = await deps.collections.apiKeys.find(filter).sort({ createdAt: 1, _id: 1 }).toArray();
  const now = Date.now();
  const expired = all.filter((k) => k.expiresAt && k.expiresAt.getTime() <= now);
  if (expired.length > 0) await deps.collections.apiKeys.deleteMany({ _id: { $in: expired.map((k) => k._id) } });
  const live = all.filter((k) => !expired.includes(k));
  return owner.kind === 'user' ? live : live.filter((k) => keyIdOf(k) === owner.keyId);
}

async function oneKey(deps: ApiDeps, owner: KeyOwner, keyId: string): Promise<ApiKeyDoc> {
  const key = (await keysOf(deps, owner)).find((k) => keyIdOf(k) === keyId);
  if (!key) throw notFound('key');
  return key;
}

async function revoke(deps: ApiDeps, key: ApiKeyDoc): Promise<void> {
  await deps.collections.apiKeys.deleteOne({ _id: key._id });
  deps.lastKnown.forget(key._id);
}

/**
 * Issues a new key for the owner of `previous` (all of a user's keys, or one service key) and ends
 * `previous` at once or after the grace period. The new key is written first: a failure leaves the old
 * keys working, never none.
 */
async function rotate(deps: ApiDeps, fresh: Omit<ApiKeyDoc, '_id' | 'createdAt'>, previous: ApiKeyDoc[], gracePeriod: string | undefined) {
  const apiKey = newApiKey(fresh.kind);
  const doc: ApiKeyDoc = { ...fresh, _id: hashApiKey(apiKey), createdAt: new Date(), expiresAt: null };
  await deps.collections.apiKeys.insertOne(doc);
  const graceMs = gracePeriod === undefined ? 0 : parseDuration(gracePeriod)!;
  const ended: ApiKeyDoc[] = [];
  for (const old of previous) {
    if (graceMs === 0) {
      await revoke(deps, old);
      ended.push({ ...old, expiresAt: new Date() });
    } else {
      // A key already expiring sooner keeps its earlier end.
      const expiresAt = new Date(Math.min(Date.now() + graceMs, old.expiresAt?.getTime() ?? Infinity));
      await deps.collections.apiKeys.updateOne({ _id: old._id }, { $set: { expiresAt } });
      deps.lastKnown.forget(old._id);
      ended.push({ ...old, expiresAt });
    }
  }
  return { apiKey, key: keyView(doc), previous: ended.map(keyView) };
}

/**
 * A user's keys. Listing them: the user themself, or an owner or admin allowed to act on them (rank, see
 * assertMayActOnUser). Rotating or revoking them (`change`): only the user themself or someone who
 * outranks them (assertMayManageKeysOf), since a rotation answers a key that acts as that user.
 */
async function userKeyOwner(deps: ApiDeps, principal: Principal, accountId: string, userId: string, change: 'list' | 'change' = 'list') {
  const user = await loadUser(deps, accountId, userId);
  const self = principal.kind === 'user' && principal.userId === userId;
  if (!self && principal.kind === 'user' && principal.role !== 'owner' && principal.role !== 'admin') {
    throw new ApiError({ code: 'forbidden', message: "only the user themself, an owner or an admin manages a user's keys" });
  }
  assertMayActOnUser(principal, user);
  if (change === 'change') assertMayManageKeysOf(principal, user);
  return { user, owner: { accountId, kind: 'user', userId } as const };
}

const userKeys = '/v1/accounts/{accountId}/users/{userId}/keys';
const serviceKeys = '/v1/accounts/{accountId}/service-keys';
const keyManagers: Access[] = ['platform', 'owner', 'admin'];

export const keyRoutes = [
  defineRoute({
    method: 'get',
    path: userKeys,
    summary: "List a user's API keys (ids and dates, never the keys): the user themself, or an owner or admin of at least their rank",
    allow: ['platform', ...everyUser],
    response: s.keyListResponse,
    handler: async ({ deps, params, principal }) => {
      const { owner } = await userKeyOwner(deps, principal, params.accountId!, params.userId!);
      return { items: (await keysOf(deps, owner)).map(keyView), nextCursor: null };
    },
  }),
  defineRoute({
    method: 'post',
    path: `${userKeys}/rotate`,
    summary:
      "Issue a new key for the user (shown only this once); their other keys stop at once, or after gracePeriod. The user themself, the platform, or an owner or admin who outranks them (an admin: managers and agents; an owner: admins too), never a peer: the answer is a key that acts as that user",
    allow: ['platform', ...everyUser],
    body: s.rotateKey,
    response: s.rotatedKeyResponse,
    status: 201,
    answersSecret: true,
    handler: async ({ deps, params, principal, body }) => {
      const { user, owner } = await userKeyOwner(deps, principal, params.accountId!, params.userId!, 'change');
      const previous = await keysOf(deps, owner);
      return rotate(deps, { accountId: user.accountId, kind: 'user', userId: user.userId, name: user.name }, previous, body.gracePeriod);
    },
  }),
  defineRoute({
    method: 'delete',
    path: `${userKeys}/{keyId}`,
    summary: "Revoke one of a user's keys: it stops working at once. The user themself, the platform, or an owner or admin who outranks them (a peer is stopped by deactivating them instead)",
    allow: ['platform', ...everyUser],
    response: s.revokedKeyResponse,
    handler: async ({ deps, params, principal }) => {
      const { owner } = await userKeyOwner(deps, principal, params.accountId!, params.userId!, 'change');
      const key = await oneKey(deps, owner, params.keyId!);
      await revoke(deps, key);
      return { key: keyView({ ...key, expiresAt: new Date() }) };
    },
  }),
  defineRoute({
    method: 'get',
    path: serviceKeys,
    summary: "List the account's service keys (ids, names and dates, never the keys)",
    allow: keyManagers,
    response: s.keyListResponse,
    handler: async ({ deps, params }) => {
      const accountId = params.accountId!;
      await loadAccount(deps, accountId);
      const all = await deps.collections.apiKeys.find({ accountId, kind: 'service' }).sort({ createdAt: 1, _id: 1 }).toArray();
      const now = Date.now();
      return { items: all.filter((k) => !k.expiresAt || k.expiresAt.getTime() > now).map(keyView), nextCursor: null };
    },
  }),
  defineRoute({
    method: 'post',
    path: `${serviceKeys}/{keyId}/rotate`,
    summary: 'Issue a new key with the same name (shown only this once); the old one stops at once, or after gracePeriod',
    allow: keyManagers,
    body: s.rotateKey,
    response: s.rotatedKeyResponse,
    status: 201,
    answersSecret: true,
    handler: async ({ deps, params, body }) => {
      const owner = { accountId: params.accountId!, kind: 'service', keyId: params.keyId! } as const;
      const old = await oneKey(deps, owner, params.keyId!);
      // The new key carries on the old one's lineage: the same caller for Idempotency-Keys (api/keys.ts).
      const rotated = await rotate(deps, { accountId: old.accountId, kind: 'service', userId: null, name: old.name, lineage: serviceKeyIdOf(old) }, [old], body.gracePeriod);
      return { name: old.name, ...rotated };
    },
  }),
  defineRoute({
    method: 'delete',
    path: `${serviceKeys}/{keyId}`,
    summary: 'Revoke a service key: it stops working at once',
    allow: keyManagers,
    response: s.revokedKeyResponse,
    handler: async ({ deps, params }) => {
      const key = await oneKey(deps, { accountId: params.accountId!, kind: 'service', keyId: params.keyId! }, params.keyId!);
      await revoke(deps, key);
      return { key: keyView({ ...key, expiresAt: new Date() }) };
    },
  }),
];
