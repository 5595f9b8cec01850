import type { Collection, Db } from 'mongodb';
import type { UserDoc } from './documents';
import { userRevisionId } from './ids';
import type { Revisions } from './revisions';
import { claimRevision, readForwards } from './revisions';
import { insertNew } from './writes';

export { userRevisionId };

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

export function userRevisions(db: Db): Collection<UserRevisionDoc> {
  return db.collection<UserRevisionDoc>('user_revisions');
}

const profileOf = (user: UserDoc): Profile => ({ name: user.name, active: user.active, teams: user.teams, languages: user.languages, maxConcurrent: user.maxConcurrent, email: user.email ?? null, rev: user.rev ?? 0 });

/** A user's profiles as claimed revisions (store/revisions.ts). */
const profileRevisions = (revisions: Collection<UserRevisionDoc>, userDocId: string): Revisions<UserDoc> => ({
  rev: (user) => user.rev ?? 0,
  next: async (after) => {
    const next = await revisions.findOne({ _id: userRevisionId(userDocId, (after.rev ?? 0) + 1) });
    return next ? { ...after, ...next.profile } : null;
  },
});

/** The user with their newest claimed profile, from the user document's copy forwards. */
export function newestProfile(revisions: Collection<UserRevisionDoc>, user: UserDoc): Promise<UserDoc> {
  return readForwards(profileRevisions(revisions, user._id), user);
}

/**
 * Claims `user.rev` (one above the revision the change was made from) for the user's profile; false when
 * another change claimed it first. Then copies the newest profile into the user document, again while
 * a newer one appears, so the last copy to land is the newest.
 */
export function claimUserRevision(users: Collection<UserDoc>, revisions: Collection<UserRevisionDoc>, user: UserDoc): Promise<boolean> {
  return claimRevision(
    profileRevisions(revisions, user._id),
    user,
    (claimed) => {
      const rev = claimed.rev ?? 0;
      return insertNew(revisions, { _id: userRevisionId(claimed._id, rev), userDocId: claimed._id, rev, profile: profileOf(claimed), at: new Date() });
    },
    async (copy) => {
      await users.updateOne({ _id: copy._id }, { $set: profileOf(copy) });
    },
  );
}
