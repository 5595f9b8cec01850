import type { Collection, Db } from 'mongodb';
import { mapLimit } from '../infra/map-limit';
import type { Presence } from '../workflows/routing/routing';
import { presenceChangeId, tabActivityId, tabDocId } from './ids';
import type { Revisions } from './revisions';
import { decideAndClaim, readForwards } from './revisions';
import { insertNew, replaceWhole } from './writes';

export { presenceChangeId, tabActivityId, tabDocId };

/**
 * A user's presence, in its own documents (store/DESIGN.md, docs/presence.md).
 *
 * It used to be a field of the user's document, which the profile change (`PATCH .../users/{userId}`)
 * writes too; FerretDB runs every update as a read and a whole-document write, so a presence change and
 * a deactivation at the same moment could write the user back as active. Then it had a document written
 * by the presence route alone. Now presence also follows the person (issue 22): the route, a tab that
 * connects, a heartbeat and every API process's sweep may all change it, possibly at the same moment,
 * and each change must notify the router, release work and go on the stream exactly once. So:
 *
 * - **Each change claims the next revision insert-once**, `presence_changes/{userDocId}/{rev}`, holding
 *   the presence and whether it was chosen by hand. Its writer read revision `rev - 1` as the newest and
 *   decided from it; of two deciding at once (two sweeps, a sweep and a manual choice), one insert wins,
 *   and the other reads again and decides again (a second sweep then finds nothing to do). Only the
 *   winner runs the change's effects.
 * - `presence/{userDocId}` is a copy of a recent revision, where readers start; they read forwards from
 *   it by `_id`, so a copy that lags (its writer died after the claim) or was set back (two copies landing
 *   out of order) is never what they answer. Its writer copies again while a newer revision appears.
 * - **Tabs** (`presence_tabs/{userDocId}/{connectionId}`): one document per stream a tab opened, written
 *   only by the API process that holds that stream (open, refresh, close), and deleted by sweeps once it
 *   is long gone. A reload is a new stream, so a late close of the old one never closes the new one.
 * - **Tab activity** (`presence_activity/{userDocId}/{tabId}`): the tab's newest heartbeat, written only
 *   by that tab's heartbeats (the newest wins, which is what a heartbeat means).
 */
export interface PresenceDoc {
  _id: string; // the user's document `_id`, `${accountId}/${userId}`
  accountId: string;
  userId: string;
  presence: Presence;
  at: Date;
  /** Chosen by hand (`PUT .../presence`): holds until the user chooses `automatic`. Absent (written before issue 22): by hand. */
  manual?: boolean;
  /** The revision this copy holds; absent: 0. */
  rev?: number;
}

export interface PresenceChangeDoc {
  _id: string; // presenceChangeId(userDocId, rev)
  accountId: string;
  userId: string;
  rev: number;
  presence: Presence;
  manual: boolean;
  at: Date;
}

export interface TabDoc {
  _id: string; // tabDocId(userDocId, connectionId)
  accountId: string;
  userId: string;
  tabId: string;
  openedAt: Date;
  lastSeen: Date;
  closedAt: Date | null;
}

export interface TabActivityDoc {
  _id: string; // tabActivityId(userDocId, tabId)
  accountId: string;
  userId: string;
  tabId: string;
  active: boolean;
  at: Date;
}

/** The `_id`s of presence's documents are built in store/ids.ts; all start with the user's document `_id` and a slash. */
/** Every `_id` under a user's document `_id`: `{userDocId}/` up to (not including) `{userDocId}0` ('0' follows '/'). */
const underUser = (userDocId: string) => ({ $gt: `${userDocId}/`, $lt: `${userDocId}0` });

export interface PresenceCollections {
  presence: Collection<PresenceDoc>;
  changes: Collection<PresenceChangeDoc>;
  tabs: Collection<TabDoc>;
  activity: Collection<TabActivityDoc>;
}

export function presenceCollection(db: Db): Collection<PresenceDoc> {
  return db.collection<PresenceDoc>('presence');
}

export function presenceCollections(db: Db): PresenceCollections {
  return {
    presence: presenceCollection(db),
    changes: db.collection<PresenceChangeDoc>('presence_changes'),
    tabs: db.collection<TabDoc>('presence_tabs'),
    activity: db.collection<TabActivityDoc>('presence_activity'),
  };
}

export interface PresenceState {
  rev: number;
  presence: Presence;
  manual: boolean;
}

/** A user document, or as much of it as presence needs. */
type UserRef = { _id: string; accountId: string; userId: string; presence?: Presence };

/** A user's presence as claimed revisions (store/revisions.ts). */
const presenceRevisions = (c: Pick<PresenceCollections, 'changes'>, user: UserRef): Revisions<PresenceState> => ({
  rev: (state) => state.rev,
  next: async (after) => {
    const next = await c.changes.findOne({ _id: presenceChangeId(user._id, after.rev + 1) });
    return next ? { rev: next.rev, presence: next.presence, manual: next.manual } : null;
  },
});

/** The newest claimed presence: from the copy forwards; a user with neither has their user document's old field, else offline, automatic. */
export async function newestPresence(c: Pick<PresenceCollections, 'presence' | 'changes'>, user: UserRef): Promise<PresenceState> {
  const copy = await c.presence.findOne({ _id: user._id });
  const from: PresenceState = copy
    ? { rev: copy.rev ?? 0, presence: copy.presence, manual: copy.manual ?? true }
    : { rev: 0, presence: user.presence ?? 'offline', manual: false };
  return readForwards(presenceRevisions(c, user), from);
}

/**
 * Decides from the newest presence and claims the decision as the next revision; when another change
 * claimed it first, reads again and decides again. `decide` answers null for "nothing to change".
 * Answers the claimed change (this caller runs its effects), or null when there was nothing to do.
 */
export async function claimPresence(
  c: Pick<PresenceCollections, 'presence' | 'changes'>,
  user: UserRef,
  decide: (current: PresenceState) => Omit<PresenceState, 'rev'> | null,
): Promise<{ before: PresenceState; after: PresenceState; at: Date } | null> {
  let at = new Date();
  const { before, after } = await decideAndClaim(presenceRevisions(c, user), {
    newest: () => newestPresence(c, user),
    decide: (current) => {
      const decision = decide(current);
      if (decision === null || (decision.presence === current.presence && decision.manual === current.manual)) return null;
      at = new Date();
      return { ...decision, rev: current.rev + 1 };
    },
    claim: (next) => insertNew(c.changes, { _id: presenceChangeId(user._id, next.rev), accountId: user.accountId, userId: user.userId, ...next, at }),
    writeCopy: (copy) => replaceWhole(c.presence, { _id: user._id, accountId: user.accountId, userId: user.userId, presence: copy.presence, manual: copy.manual, rev: copy.rev, at }),
  });
  return after ? { before, after, at } : null;
}

/**
 * Users with their presence from its copy (by `_id`, the read FerretDB answers from its index; the copy
 * is behind the newest revision only after a change whose process died between its claim and its copy,
 * until the user's next change); a user without one has the field of their user document (written
 * before presence had its own), else offline.
 */
export async function withPresence<U extends UserRef>(presence: Collection<PresenceDoc>, users: U[]): Promise<(U & { presence: Presence })[]> {
  const docs = await mapLimit(users, 16, (user) => presence.findOne({ _id: user._id }, { projection: { presence: 1 } }));
  return users.map((user, i) => ({ ...user, presence: docs[i]?.presence ?? user.presence ?? 'offline' }));
}

/** A user's tab streams (open, or gone lately), by `_id` prefix. */
export function tabsOf(c: PresenceCollections, userDocId: string): Promise<TabDoc[]> {
  return c.tabs.find({ _id: underUser(userDocId) }).toArray();
}

/** A user's tabs' newest heartbeats, by `_id` prefix. */
export function activityOf(c: PresenceCollections, userDocId: string): Promise<TabActivityDoc[]> {
  return c.activity.find({ _id: underUser(userDocId) }).toArray();
}

/** Writes a tab stream's document: at its opening, at each refresh, at its close. Only its own API process writes it. */
export async function writeTab(c: PresenceCollections, doc: TabDoc): Promise<void> {
  await replaceWhole(c.tabs, doc);
}

/** Records a tab's heartbeat: the newest wins. */
export async function writeActivity(c: PresenceCollections, doc: TabActivityDoc): Promise<void> {
  await replaceWhole(c.activity, doc);
}
