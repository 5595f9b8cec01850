/**
 * The key media links are signed with (channels/media-links.ts): 32 random bytes made once per
 * deployment and kept in the `settings` collection, so the worker that signs a link and every API
 * process that checks it share it with no configuration. Sealed with SECRETS_KEY when there is one.
 * The first process to need it makes it; a race is settled by the unique `_id` (the loser reads the
 * winner's).
 */
import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import type { SecretBox } from './secret-box';
import { plaintextSecretBox } from './secret-box';
import { insertNew } from './writes';

interface SettingDoc {
  _id: string;
  value: string;
}

const keyId = 'media-link-key';

export async function mediaLinkKey(db: Db, secrets: SecretBox = plaintextSecretBox): Promise<Buffer> {
  const settings = db.collection<SettingDoc>('settings');
  const context = `settings/${keyId}#value`;
  const stored = await settings.findOne({ _id: keyId });
  if (stored) return Buffer.from(secrets.open(stored.value, context), 'base64');
  const fresh = randomBytes(32).toString('base64');
  if (await insertNew(settings, { _id: keyId, value: secrets.seal(fresh, context) })) return Buffer.from(fresh, 'base64');
  const winner = await settings.findOne({ _id: keyId });
  if (!winner) throw new Error('the media link key vanished while it was being made');
  return Buffer.from(secrets.open(winner.value, context), 'base64');
}

/** The key, read once per process and kept (it never changes). A failed read is tried again next time. */
export function cachedMediaLinkKey(db: Db, secrets?: SecretBox): () => Promise<Buffer> {
  let key: Promise<Buffer> | undefined;
  return () => {
    key ??= mediaLinkKey(db, secrets).catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  };
}
