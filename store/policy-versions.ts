import type { Collection, Db } from 'mongodb';
import type { Policy } from '../workflows/conversation/core/policy';
import type { AccountDoc } from './documents';
import { policyVersionId } from './ids';
import type { Revisions } from './revisions';
import { claimRevision, readForwards } from './revisions';
import { insertNew } from './writes';

export { policyVersionId };

/**
 * An account's policy versions (store/DESIGN.md). A policy change claims its version by inserting
 * `{accountId}/{version}`: an insert of an existing `_id` fails on MongoDB and on FerretDB alike, so of
 * two changes made from the same version exactly one wins, and each version names exactly one policy.
 * (The compare-and-set `updateOne({ _id, 'policy.version': v })` this replaces let both through on
 * FerretDB, which runs a filtered update as a read and then a write.)
 *
 * The account document's `policy` is a copy of a claimed version, written after the claim: the place
 * readers start from. It may lag (its writer died between the claim and the copy) or even be set back
 * (two copies landing out of order), so readers move forwards from it through the claimed versions by
 * `_id` until the next one is missing; with the copy up to date that is one read that finds nothing.
 */
export interface PolicyVersionDoc {
  _id: string; // `${accountId}/${version}`
  accountId: string;
  version: number;
  policy: Policy;
  createdAt: Date;
}

export function policyVersions(db: Db): Collection<PolicyVersionDoc> {
  return db.collection<PolicyVersionDoc>('policy_versions');
}

/** An account's policies as claimed revisions (store/revisions.ts): a policy's revision is its version. */
const policyRevisions = (versions: Collection<PolicyVersionDoc>, accountId: string): Revisions<Policy> => ({
  rev: (policy) => policy.version,
  next: async (after) => (await versions.findOne({ _id: policyVersionId(accountId, after.version + 1) }))?.policy ?? null,
});

/** The newest claimed policy, from `policy` (the account document's copy) forwards. */
export function newestPolicy(versions: Collection<PolicyVersionDoc>, accountId: string, policy: Policy): Promise<Policy> {
  return readForwards(policyRevisions(versions, accountId), policy);
}

/** An account's newest policy, reading only its policy; null when there is no such account. */
export async function newestAccountPolicy(accounts: Collection<AccountDoc>, versions: Collection<PolicyVersionDoc>, accountId: string): Promise<Policy | null> {
  const account = await accounts.findOne({ _id: accountId }, { projection: { policy: 1 } });
  return account ? newestPolicy(versions, accountId, account.policy) : null;
}

/** The account with its newest policy; null when there is no such account. */
export async function accountWithNewestPolicy(accounts: Collection<AccountDoc>, versions: Collection<PolicyVersionDoc>, accountId: string): Promise<AccountDoc | null> {
  const account = await accounts.findOne({ _id: accountId });
  if (!account) return null;
  return { ...account, policy: await newestPolicy(versions, accountId, account.policy) };
}

/**
 * Claims `policy.version` for `policy` (one above the version it was made from); false when another
 * change claimed that version first. After the claim, copies the newest version into the account
 * document, and again while a newer one appears: of all copies, the last to land is then the newest.
 */
export function claimPolicyVersion(accounts: Collection<AccountDoc>, versions: Collection<PolicyVersionDoc>, accountId: string, policy: Policy): Promise<boolean> {
  return claimRevision(
    policyRevisions(versions, accountId),
    policy,
    (claimed) => insertNew(versions, { _id: policyVersionId(accountId, claimed.version), accountId, version: claimed.version, policy: claimed, createdAt: new Date() }),
    async (copy) => {
      await accounts.updateOne({ _id: accountId }, { $set: { policy: copy } });
    },
  );
}
