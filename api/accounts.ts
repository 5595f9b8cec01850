import type { AccountDoc } from '../store/collections';
import { insertNew } from '../store/collections';
import { accountWithNewestPolicy, claimPolicyVersion } from '../store/policy-versions';
import { markPairsComplete } from '../store/contact-profiles';
import { startCounts } from '../store/conversation-counts';
import type { Policy, PolicyPatch } from '../workflows/conversation/core/policy';
import { PolicyError, applyPolicyPatch, defaultPolicy, routingOf } from '../workflows/conversation/core/policy';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';
import { hashApiKey, newApiKey } from './keys';

/** Use cases of accounts and their policy (api/DESIGN.md): the account routes parse, call one of these, and map. */

function patchPolicy(base: Policy, patch: PolicyPatch): Policy {
  try {
    return applyPolicyPatch(base, patch);
  } catch (error) {
    if (error instanceof PolicyError) throw new ApiError({ code: 'validation_failed', message: `policy.${error.message}` });
    throw error;
  }
}

/** The account, with its newest policy (store/policy-versions.ts). */
export async function loadAccount(deps: ApiDeps, accountId: string): Promise<AccountDoc> {
  const account = await accountWithNewestPolicy(deps.collections.accounts, deps.collections.policyVersions, accountId);
  if (!account) throw notFound('account');
  return account;
}

export async function createAccount(deps: ApiDeps, input: { id: string; name: string; policy?: PolicyPatch }): Promise<AccountDoc> {
  const account: AccountDoc = {
    _id: input.id,
    name: input.name,
    policy: patchPolicy({ ...defaultPolicy, version: 0 }, input.policy ?? {}),
    createdAt: new Date(),
  };
  if (!(await insertNew(deps.collections.accounts, account))) throw new ApiError({ code: 'conflict', message: `account ${input.id} exists` });
  // A new account has no contact from before name pairs: its searches of several words read them.
  await markPairsComplete(deps.collections.contactProfiles, [account._id]);
  // Nor a conversation from before the tab counts were kept: its counts start from zero.
  await startCounts(deps.collections.counts, account._id);
  return account;
}

/**
 * Changes the account's policy: claims the next version, tells the router (when routing changed), and
 * hands the conversations over to the account's policy-propagation workflow (SPEC section 12): the
 * request answers within a second whatever the number of conversations, those that are not closed
 * follow within a minute, and the others at their next input, which carries the stored version
 * (api/policy-version-cache.ts). Answers the policy and the propagation's workflow id.
 */
export async function changePolicy(deps: ApiDeps, accountId: string, patch: PolicyPatch): Promise<{ policy: Policy; propagation: { workflowId: string } }> {
  const account = await loadAccount(deps, accountId);
  const policy = patchPolicy(account.policy, patch);
  // Claiming the version is an insert-once: of two concurrent patches made from one version, one
  // wins and the other is told, on MongoDB and on FerretDB (whose filtered updates are not atomic).
  if (!(await claimPolicyVersion(deps.collections.accounts, deps.collections.policyVersions, accountId, policy))) {
    throw new ApiError({ code: 'conflict', message: 'the policy changed meanwhile; read it and try again' });
  }
  deps.policyVersions.forget(accountId);
  if (patch.routing) await deps.router.configChanged(accountId, { config: routingOf(policy), version: policy.version });
  // If this fails (503), the policy is stored all the same: conversations apply it at their next input,
  // and the next change (or a retry of this one, which answers 409 and is read again) propagates it.
  const workflowId = await deps.conversations.policyStored(accountId, policy.version);
  return { policy, propagation: { workflowId } };
}

/** A service key for a backend system of an existing account; the key is shown only in this answer. */
export async function createServiceKey(deps: ApiDeps, accountId: string, name: string): Promise<{ name: string; apiKey: string }> {
  await loadAccount(deps, accountId);
  const apiKey = newApiKey('service');
  await deps.collections.apiKeys.insertOne({ _id: hashApiKey(apiKey), accountId, kind: 'service', userId: null, name, createdAt: new Date() });
  return { name, apiKey };
}
