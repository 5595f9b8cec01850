import type { ChannelConfig } from '../channels/types';
import type { ChannelDoc, Collections } from './collections';
import { channelDocId } from './ids';
import type { SecretBox } from './secret-box';
import { replaceWhole } from './writes';

/**
 * Channels (business numbers) and how they send (SPEC section 7). Written only by the API's
 * `PUT .../channels/{channel}`, whole, last writer wins (store/DESIGN.md).
 *
 * Secrets at rest (SPEC section 12): every secret field is sealed with SECRETS_KEY when written
 * (store/secret-box.ts, the record id and field as additional data) and opened only by the readers that
 * use it: `channelForSending` (the worker's sends) and `whatsappChannels` (webhook signatures and the
 * verification handshake). `findChannel` and `listChannels` return the stored values, sealed, which is
 * all the routes need (they show which secrets are set, never the secrets). A record written before
 * encryption reads as it is, and is sealed at its next write.
 */
type Channels = Pick<Collections, 'channels' | 'channelSecrets'>;

export type WhatsAppChannelDoc = ChannelDoc & { config: Extract<ChannelConfig, { provider: 'whatsapp_cloud' }> };

/** The fields of each provider's configuration that are secrets: sealed at rest, write-only in the API. */
export const channelSecretFields = {
  whatsapp_cloud: ['accessToken', 'appSecret', 'verifyToken'],
  webhook: ['secret'],
  recording: [],
} as const satisfies { [P in ChannelConfig['provider']]: readonly Extract<keyof Extract<ChannelConfig, { provider: P }>, string>[] };

const contextOf = (docId: string, field: string) => `${docId}#${field}`;

/** The configuration with every secret field passed through `transform` (the rest unchanged). */
function mapSecrets(config: ChannelConfig, transform: (value: string, field: string) => string): ChannelConfig {
  const next = { ...config } as Record<string, unknown>;
  for (const field of channelSecretFields[config.provider]) {
    const value = next[field];
    if (typeof value === 'string') next[field] = transform(value, field);
  }
  return next as unknown as ChannelConfig;
}

/** Sealed for storage: plaintext sealed, values sealed with an older key sealed again, current ones kept. */
function sealed(box: SecretBox, doc: ChannelDoc): ChannelDoc {
  return {
    ...doc,
    config: mapSecrets(doc.config, (value, field) => (box.isCurrent(value) ? value : box.seal(box.open(value, contextOf(doc._id, field)), contextOf(doc._id, field)))),
  };
}

/** Opened for use. Throws SecretsKeyError (naming the record and field, not the secret) on a wrong key. */
function opened<T extends ChannelDoc>(box: SecretBox, doc: T): T {
  return { ...doc, config: mapSecrets(doc.config, (value, field) => box.open(value, contextOf(doc._id, field))) };
}

/** The channel as stored, secrets sealed. */
export function findChannel(c: Channels, accountId: string, channel: string): Promise<ChannelDoc | null> {
  return c.channels.findOne({ _id: channelDocId(accountId, channel) });
}

/** The account's channels as stored, secrets sealed. */
export function listChannels(c: Channels, accountId: string): Promise<ChannelDoc[]> {
  return c.channels.find({ accountId }).sort({ _id: 1 }).toArray();
}

/** The channel's configuration with its secrets opened, for one send; null when the channel has none. */
export async function channelForSending(c: Channels, accountId: string, channel: string): Promise<ChannelConfig | null> {
  const doc = await findChannel(c, accountId, channel);
  return doc ? opened(c.channelSecrets, doc).config : null;
}

/** The account's WhatsApp Cloud API channels, secrets opened: the webhook routes check signatures with them. */
export async function whatsappChannels(c: Channels, accountId: string): Promise<WhatsAppChannelDoc[]> {
  const docs = (await c.channels.find({ accountId, 'config.provider': 'whatsapp_cloud' }).toArray()) as WhatsAppChannelDoc[];
  return docs.map((doc) => opened(c.channelSecrets, doc));
}

/** Writes a channel's document whole, its secrets sealed (two first saves racing: the later one replaces). */
export function saveChannel(c: Channels, doc: ChannelDoc): Promise<void> {
  return replaceWhole(c.channels, sealed(c.channelSecrets, doc));
}

export async function deleteChannel(c: Channels, accountId: string, channel: string): Promise<void> {
  await c.channels.deleteOne({ _id: channelDocId(accountId, channel) });
}
