import type { ChannelConfig } from '../channels/types';
import type { ChannelDoc, Collections } from './collections';
import { channelDocId } from './ids';
import { replaceWhole } from './writes';

/**
 * Channels (business numbers) and how they send (SPEC section 7). Written only by the API's
 * `PUT .../channels/{channel}`, whole, last writer wins (store/DESIGN.md).
 */
type Channels = Pick<Collections, 'channels'>;

export type WhatsAppChannelDoc = ChannelDoc & { config: Extract<ChannelConfig, { provider: 'whatsapp_cloud' }> };

export function findChannel(c: Channels, accountId: string, channel: string): Promise<ChannelDoc | null> {
  return c.channels.findOne({ _id: channelDocId(accountId, channel) });
}

export function listChannels(c: Channels, accountId: string): Promise<ChannelDoc[]> {
  return c.channels.find({ accountId }).sort({ _id: 1 }).toArray();
}

/** The account's WhatsApp Cloud API channels: the webhook routes read them on every call. */
export async function whatsappChannels(c: Channels, accountId: string): Promise<WhatsAppChannelDoc[]> {
  return (await c.channels.find({ accountId, 'config.provider': 'whatsapp_cloud' }).toArray()) as WhatsAppChannelDoc[];
}

/** Writes a channel's document whole (two first saves racing: the later one replaces). */
export function saveChannel(c: Channels, doc: ChannelDoc): Promise<void> {
  return replaceWhole(c.channels, doc);
}

export async function deleteChannel(c: Channels, accountId: string, channel: string): Promise<void> {
  await c.channels.deleteOne({ _id: channelDocId(accountId, channel) });
}
