import type { Collection, Db, Filter } from 'mongodb';
import type { CannedScope, SearchKeys } from '../api/canned-text';
import { cannedResponseId } from './ids';
import { insertNew, replaceWhole } from './writes';

export { cannedResponseId };

/**
 * Canned responses (SPEC 10): an account's shared ones (`scope: account`, managed by supervisors) and
 * each user's own (`scope: personal`). One document per short code per scope owner, keyed so
 * (store/ids.ts): the code is unique by `_id`, which FerretDB holds, and a PUT is a whole-document write
 * by `_id`, last writer wins (two supervisors saving one response at once: the later save is it).
 * `search` is the folded short code and title (api/canned-text.ts) that `?q=` compares against, since
 * FerretDB has no text index.
 */
export interface CannedResponseDoc {
  _id: string;
  accountId: string;
  scope: CannedScope;
  /** The user a personal response belongs to; null for account ones. */
  ownerId: string | null;
  shortCode: string;
  title: string;
  text: string;
  search: SearchKeys;
  createdAt: Date;
  updatedAt: Date;
  /** The user who saved it last. */
  updatedBy: string;
}

export type CannedResponses = { cannedResponses: Collection<CannedResponseDoc> };

export const cannedResponsesCollection = (db: Db): Collection<CannedResponseDoc> => db.collection<CannedResponseDoc>('canned_responses');

type Owner = { scope: 'account' } | { scope: 'personal'; userId: string };

const ownerFilter = (accountId: string, owner: Owner): Filter<CannedResponseDoc> =>
  owner.scope === 'account' ? { accountId, scope: 'account' } : { accountId, scope: 'personal', ownerId: owner.userId };

/** Every response the user may see before hiding: the account's and their own personal ones. */
export function cannedResponsesFor(c: CannedResponses, accountId: string, userId: string): Promise<CannedResponseDoc[]> {
  return c.cannedResponses.find({ accountId, $or: [{ scope: 'account' }, { scope: 'personal', ownerId: userId }] }).toArray();
}

/** One owner's responses (the account's, or one user's personal ones). */
export function cannedResponsesOf(c: CannedResponses, accountId: string, owner: Owner): Promise<CannedResponseDoc[]> {
  return c.cannedResponses.find(ownerFilter(accountId, owner)).toArray();
}

export function findCannedResponse(c: CannedResponses, accountId: string, owner: Owner, shortCode: string): Promise<CannedResponseDoc | null> {
  return c.cannedResponses.findOne({ _id: cannedResponseId(accountId, owner, shortCode) });
}

/**
 * Saves a response whole. A new one counts against the owner's cap after it is written (insert, then
 * count, as stream tickets do: store/DESIGN.md): above `cap`, it is taken back and the answer is
 * `over_cap`. Of creations racing, the last to count sees every earlier one, so an owner never ends up
 * over the cap (a race may refuse more than needed). An existing response is replaced and never counted.
 */
export async function saveCannedResponse(
  c: CannedResponses,
  doc: Omit<CannedResponseDoc, 'createdAt'>,
  now: Date,
  cap: number,
): Promise<{ outcome: 'created' | 'replaced'; doc: CannedResponseDoc } | { outcome: 'over_cap' }> {
  const existing = await c.cannedResponses.findOne({ _id: doc._id });
  if (existing) {
    const replaced = { ...doc, createdAt: existing.createdAt };
    await replaceWhole(c.cannedResponses, replaced);
    return { outcome: 'replaced', doc: replaced };
  }
  const created = { ...doc, createdAt: now };
  if (!(await insertNew(c.cannedResponses, created))) {
    // Created by a racing save a moment ago: this save comes after it.
    return saveCannedResponse(c, doc, now, cap);
  }
  const owner: Owner = doc.scope === 'account' ? { scope: 'account' } : { scope: 'personal', userId: doc.ownerId! };
  if ((await c.cannedResponses.countDocuments(ownerFilter(doc.accountId, owner))) > cap) {
    await c.cannedResponses.deleteOne({ _id: doc._id });
    return { outcome: 'over_cap' };
  }
  return { outcome: 'created', doc: created };
}

/** Deletes by `_id`; false when there was none. */
export async function deleteCannedResponse(c: CannedResponses, accountId: string, owner: Owner, shortCode: string): Promise<boolean> {
  const { deletedCount } = await c.cannedResponses.deleteOne({ _id: cannedResponseId(accountId, owner, shortCode) });
  return deletedCount === 1;
}
