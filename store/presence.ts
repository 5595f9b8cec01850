import type { Collection, Db } from 'mongodb';
import { mapLimit } from '../infra/map-limit';
import type { Presence } from '../workflows/routing/routing';
import type { UserDoc } from './collections';

/**
 * A user's presence, in its own document (store/DESIGN.md). It used to be a field of the user's
 * document, which the profile change (`PATCH .../users/{userId}`) writes too. FerretDB runs every
 * update as a read of the whole document and a write of the whole document, so a presence change and a
 * deactivation at the same moment could write the user back as active, or lose the presence. Here each
 * document has one kind of writer: the presence route writes this one (the newest request wins), the
 * profile route the user's.
 */
export interface PresenceDoc {
  _id: string; // the user's document `_id`, `${accountId}/${userId}`
  accountId: string;
  userId: string;
  presence: Presence;
  at: Date;
}

export function presenceCollection(db: Db): Collection<PresenceDoc> {
  return db.collection<PresenceDoc>('presence');
}

export async function setPresence(presence: Collection<PresenceDoc>, user: Pick<UserDoc, '_id' | 'accountId' | 'userId'>, status: Presence): Promise<void> {
  await presence.replaceOne({ _id: user._id }, { accountId: user.accountId, userId: user.userId, presence: status, at: new Date() }, { upsert: true }).catch(async (error: unknown) => {
    // Two first writes racing: FerretDB answers the second upsert's insert with 11000; then it replaces.
    if ((error as { code?: unknown }).code !== 11000) throw error;
    await presence.replaceOne({ _id: user._id }, { accountId: user.accountId, userId: user.userId, presence: status, at: new Date() });
  });
}

/**
 * Users with their presence from its document (by `_id`, the read FerretDB answers from its index); a
 * user without one has the field of their user document (written before presence had its own), else
 * offline.
 */
export async function withPresence(presence: Collection<PresenceDoc>, users: UserDoc[]): Promise<UserDoc[]> {
  const docs = await mapLimit(users, 16, (user) => presence.findOne({ _id: user._id }, { projection: { presence: 1 } }));
  return users.map((user, i) => ({ ...user, presence: docs[i]?.presence ?? user.presence ?? 'offline' }));
}
