import type { AccountDoc } from '../../store/collections';
import { insertNew } from '../../store/collections';
import { accountWithNewestPolicy, claimPolicyVersion, newestAccountPolicy, policyVersions } from '../../store/policy-versions';
import { policyChangedSignal } from '../../workflows/conversation/messages';
import type { Policy, PolicyPatch } from '../../workflows/conversation/core/policy';
import { PolicyError, applyPolicyPatch, defaultPolicy, policyToDocument, routingOf } from '../../workflows/conversation/core/policy';
import { accountIdKey } from '../../workflows/conversation/search-attributes';
import { everyUser } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import { hashApiKey, newApiKey } from '../keys';
import { defineRoute } from '../route';
import * as s from '../schemas';

const accountView = (a: AccountDoc) => ({ id: a._id, name: a.name, policy: policyToDocument(a.policy), createdAt: a.createdAt });
function patchPolicy(base: Policy, patch: PolicyPatch): Policy {
  try {
    return applyPolicyPatch(base, patch);
  } catch (error) {
    if (error instanceof PolicyError) throw new ApiError({ code: 'validation_failed', message: `policy.${error.message}` });
    throw error;
  }
}

/**
 * The account's stored policy version, stamped on every customer message and action so a conversation
 * that missed a `policyChanged` signal reloads (workflows/conversation/workflow.ts, `catchUpPolicy`).
 * Read at most about once a second per account and process; undefined when it cannot be read, and then
 * not asked again for 5 s, so a MongoDB outage costs one timeout, not one per message (they go on
 * without it). Under steady traffic nobody waits for the read: in the second half of a value's second
 * it is read again in the background, and requests meanwhile take the value they have; requests that
 * find no value wait for the one read in flight rather than each starting their own.
 */
interface CachedVersion {
  version: number | undefined;
  until: number;
  /** When to start reading the next value in the background. */
  refreshAt: number;
}

interface VersionCache {
  values: Map<string, CachedVersion>;
  reads: Map<string, Promise<number | undefined>>;
  /** Bumped by a policy change, so a read that started before it never stores its older answer. */
  generations: Map<string, number>;
}

const versionCaches = new WeakMap<ApiDeps, VersionCache>();

const freshForMs = 1_000;
const afterFailureMs = 5_000;

function versionCacheOf(deps: ApiDeps): VersionCache {
  let cache = versionCaches.get(deps);
  if (!cache) versionCaches.set(deps, (cache = { values: new Map(), reads: new Map(), generations: new Map() }));
  return cache;
}

function readPolicyVersion(deps: ApiDeps, cache: VersionCache, accountId: string): Promise<number | undefined> {
  const inFlight = cache.reads.get(accountId);
  if (inFlight) return inFlight;
  const generation = cache.generations.get(accountId) ?? 0;
  const read = (async () => {
    let version: number | undefined;
    let freshFor = freshForMs;
    try {
      version = (await newestAccountPolicy(deps.collections.accounts, policyVersions(deps.db), accountId))?.version;
    } catch (error) {
      deps.log.debug({ err: error, accountId }, 'policy version not read; messages and actions go on without it');
      freshFor = afterFailureMs;
    }
    if ((cache.generations.get(accountId) ?? 0) === generation) {
      if (cache.values.size > 10_000) cache.values.clear();
      const now = Date.now();
      cache.values.set(accountId, { version, until: now + freshFor, refreshAt: now + freshFor / 2 });
    }
    return version;
  })();
  cache.reads.set(accountId, read);
  // Only this read's own entry: a policy change may have dropped it and a newer read taken its place.
  void read.finally(() => cache.reads.get(accountId) === read && cache.reads.delete(accountId));
  return read;
}

export async function storedPolicyVersion(deps: ApiDeps, accountId: string): Promise<number | undefined> {
  const cache = versionCacheOf(deps);
  const cached = cache.values.get(accountId);
  const now = Date.now();
  if (cached && now < cached.until) {
    if (now >= cached.refreshAt) void readPolicyVersion(deps, cache, accountId);
    return cached.version;
  }
  return readPolicyVersion(deps, cache, accountId);
}

/** After a policy change through this process: the next message or action reads the new version. */
function forgetPolicyVersion(deps: ApiDeps, accountId: string): void {
  const cache = versionCacheOf(deps);
  cache.generations.set(accountId, (cache.generations.get(accountId) ?? 0) + 1);
  cache.values.delete(accountId);
  cache.reads.delete(accountId);
}

/** The account, with its newest policy (store/policy-versions.ts). */
export async function loadAccount(deps: ApiDeps, accountId: string): Promise<AccountDoc> {
  const account = await accountWithNewestPolicy(deps.collections.accounts, policyVersions(deps.db), accountId);
  if (!account) throw notFound('account');
  return account;
}

/**
 * Pushes a new policy to every running conversation of the account. A conversation started after the
 * list was taken loads the policy from MongoDB itself, where it is already stored.
 */
async function propagatePolicy(deps: ApiDeps, accountId: string, policy: Policy): Promise<number> {
  const query = `${accountIdKey.name} = '${accountId}' AND ExecutionStatus = 'Running'`;
  const pending: Promise<void>[] = [];
  let count = 0;
  for await (const execution of deps.temporal.workflow.list({ query })) {
    count++;
    pending.push(deps.temporal.workflow.getHandle(execution.workflowId).signal(policyChangedSignal, policy).catch((error: unknown) => {
      deps.log.warn({ err: error, workflowId: execution.workflowId }, 'policy signal failed');
    }));
    if (pending.length >= 50) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return count;
}

export const accountRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts',
    summary: 'Create an account (platform key)',
    allow: ['platform'],
    body: s.createAccount,
    response: s.accountResponse,
    status: 201,
    handler: async ({ deps, body }) => {
      const account: AccountDoc = {
        _id: body.id,
        name: body.name,
        policy: patchPolicy({ ...defaultPolicy, version: 0 }, body.policy ?? {}),
        createdAt: new Date(),
      };
      if (!(await insertNew(deps.collections.accounts, account))) throw new ApiError({ code: 'conflict', message: `account ${body.id} exists` });
      return accountView(account);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}',
    summary: 'Read an account and its policy',
    response: s.accountResponse,
    allow: ['platform', ...everyUser],
    handler: async ({ deps, params }) => accountView(await loadAccount(deps, params.accountId!)),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/accounts/{accountId}/policy',
    summary: "Change the account's lifecycle policy; running conversations follow without a restart",
    allow: ['platform', 'owner', 'admin'],
    body: s.policyPatch,
    response: s.policyChangedResponse,
    handler: async ({ deps, params, body }) => {
      const accountId = params.accountId!;
      const account = await loadAccount(deps, accountId);
      const policy = patchPolicy(account.policy, body);
      // Claiming the version is an insert-once: of two concurrent patches made from one version, one
      // wins and the other is told, on MongoDB and on FerretDB (whose filtered updates are not atomic).
      if (!(await claimPolicyVersion(deps.collections.accounts, policyVersions(deps.db), accountId, policy))) throw new ApiError({ code: 'conflict', message: 'the policy changed meanwhile; read it and try again' });
      forgetPolicyVersion(deps, accountId);
      if (body.routing) await deps.router.configChanged(accountId, { config: routingOf(policy), version: policy.version });
      const runningConversations = await propagatePolicy(deps, accountId, policy);
      return { policy: policyToDocument(policy), runningConversations };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/service-keys',
    summary: 'Create a service key for a backend system; shown only this once',
    allow: ['platform', 'owner', 'admin'],
    body: s.createServiceKey,
    response: s.createdServiceKeyResponse,
    status: 201,
    answersSecret: true,
    handler: async ({ deps, params, body }) => {
      const accountId = params.accountId!;
      await loadAccount(deps, accountId);
      const apiKey = newApiKey('service');
      await deps.collections.apiKeys.insertOne({ _id: hashApiKey(apiKey), accountId, kind: 'service', userId: null, name: body.name, createdAt: new Date() });
      return { name: body.name, apiKey };
    },
  }),
];
