import type { Collection, Db } from 'mongodb';
import type { UserDoc } from './collections';
import { insertNew } from './collections';

/**
 * Profile changes of a user (`PATCH .../users/{userId}`), claimed insert-once like policy versions
 * (store/DESIGN.md). FerretDB writes every update as the whole document it read a moment before, so two
 * changes of one user at the same moment lost one of them, a deactivation included. Now a change
 * claims `{userDocId}/{rev}` with the whole profile after it: of two changes made from one revision,
 * one wins and the other answers 409. The user document is the copy every request authenticates
 * against; changes read forwards from it through the claimed revisions, so a copy that lags (its writer
 * died after the claim) or was set back is corrected by the next change.
 */
export type Profile = Pick<UserDoc, 'name' | 'active' | 'teams' | 'languages' | 'maxConcurrent' | 'email' | 'rev'>;

export interface UserRevisionDoc {
  _id: string; // `${userDocId}/${rev}`
  userDocId: string;
  rev: number;
  profile: Profile;
  at: Date;
}

export const userRevisionId = (userDocId: string, rev: number): string => `${userDocId}/${rev}`;

export function userRevisions(db: Db): Collection<UserRevisionDoc> {
  return db.collection<UserRevisionDoc>('user_revisions');
}

const profileOf = (user: UserDoc): Profile => ({ name: user.name, active: user.active, teams: user.teams, languages: user.languages, maxConcurrent: user.maxConcurrent, email: user.email ?? null, rev: user.rev ?? 0 });

/** The user with their newest claimed profile, from the user document's copy forwards. */
export async function newestProfile(revisions: Collection<UserRevisionDoc>, user: UserDoc): Promise<UserDoc> {
  let newest = user;
  for (;;) {
    const next = await revisions.findOne({ _id: userRevisionId(user._id, (newest.rev ?? 0) + 1) });
    if (!next) return newest;
    newest = { ...newest, ...next.profile };
  }
}

/**
 * Claims `user.rev` (one above the revision the change was made from) for the user's profile; false when
 * another change claimed it first. Then copies the newest profile into the user document, again while
 * a newer one appears, so the last copy to land is the newest.
 */
export async function claimUserRevision(users: Collection<UserDoc>, revisions: Collection<UserRevisionDoc>, user: UserDoc): Promise<boolean> {
  const rev = user.rev ?? 0;
  if (!(await insertNew(revisions, { _id: userRevisionId(user._id, rev), userDocId: user._id, rev, profile: profileOf(user), at: new Date() }))) return false;
  let copy = user;
  for (;;) {
    await users.updateOne({ _id: user._id }, { $set: profileOf(copy) });
    const newer = await newestProfile(revisions, copy);
    if ((newer.rev ?? 0) === (copy.rev ?? 0)) return true;
    copy = newer;
  }
}
