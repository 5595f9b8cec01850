import type { ChannelConfig } from '../../channels/types';
import type { ChannelDoc } from '../../store/collections';
import { channelDocId, isDuplicateKeyError } from '../../store/collections';
import { ApiError, notFound } from '../errors';
import type { ApiDeps } from '../deps';
import { defineRoute } from '../route';
import * as r from '../conversation-responses';
import * as s from '../schemas';

/** Graph API version used when a WhatsApp channel names none. */
export const defaultGraphApiVersion = 'v21.0';

const secretFields = { whatsapp_cloud: ['accessToken', 'appSecret', 'verifyToken'], webhook: ['secret'], recording: [] } as const;

/** A channel as routes show it: every setting but the secrets, and which secrets are set. */
export function channelView(doc: ChannelDoc) {
  const { config } = doc;
  const settings: Record<string, unknown> = {};
  if (config.provider === 'whatsapp_cloud') Object.assign(settings, { phoneNumberId: config.phoneNumberId, apiVersion: config.apiVersion });
  if (config.provider === 'webhook') settings.url = config.url;
  return {
    channel: doc.channel,
    accountId: doc.accountId,
    provider: config.provider,
    ...settings,
    secretsSet: secretFields[config.provider].filter((field) => Boolean((config as unknown as Record<string, unknown>)[field])),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

type ConfigInput = ReturnType<typeof s.channelConfig.parse>;

/**
 * The stored configuration after a PUT: secrets left out of the body keep their stored values, so an
 * operator can change a setting without handling the secrets again; a new channel needs them all.
 */
function nextConfig(input: ConfigInput, stored: ChannelConfig | undefined): ChannelConfig {
  const kept = stored?.provider === input.provider ? (stored as unknown as Record<string, string>) : {};
  const secret = (field: string): string => {
    const value = (input as Record<string, unknown>)[field] ?? kept[field];
    if (typeof value !== 'string') throw new ApiError({ code: 'validation_failed', message: `${field}: required for a new ${input.provider} channel` });
    return value;
  };
  switch (input.provider) {
    case 'whatsapp_cloud':
      return {
        provider: 'whatsapp_cloud',
        phoneNumberId: input.phoneNumberId,
        accessToken: secret('accessToken'),
        appSecret: secret('appSecret'),
        verifyToken: secret('verifyToken'),
        apiVersion: input.apiVersion ?? (kept.apiVersion as string | undefined) ?? defaultGraphApiVersion,
      };
    case 'webhook':
      return { provider: 'webhook', url: input.url, secret: secret('secret') };
    case 'recording':
      return { provider: 'recording' };
  }
}

/** The account's WhatsApp Cloud API channels: the webhook routes read them on every call. */
export async function whatsappChannels(deps: ApiDeps, accountId: string): Promise<(ChannelDoc & { config: Extract<ChannelConfig, { provider: 'whatsapp_cloud' }> })[]> {
  const docs = await deps.collections.channels.find({ accountId, 'config.provider': 'whatsapp_cloud' }).toArray();
  return docs as (ChannelDoc & { config: Extract<ChannelConfig, { provider: 'whatsapp_cloud' }> })[];
}

/** Writes a channel's document whole. Two first saves racing: FerretDB answers the later upsert's insert with 11000; then it replaces. */
async function replaceChannel(deps: ApiDeps, doc: ChannelDoc): Promise<void> {
  try {
    await deps.collections.channels.replaceOne({ _id: doc._id }, doc, { upsert: true });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    await deps.collections.channels.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }
}

const admins = ['platform', 'owner', 'admin'] as const;

export const channelRoutes = [
  defineRoute({
    method: 'put',
    path: '/v1/accounts/{accountId}/channels/{channel}',
    summary: 'Configure how a channel (business number) sends: whatsapp_cloud, webhook or recording. Secrets are write-only',
    allow: admins,
    body: s.channelConfig,
    response: r.channelView,
    handler: async ({ deps, params, body }) => {
      const accountId = params.accountId!;
      const channel = s.id.parse(params.channel);
      const _id = channelDocId(accountId, channel);
      const stored = await deps.collections.channels.findOne({ _id });
      const config = nextConfig(body, stored?.config);
      if (config.provider === 'whatsapp_cloud') {
        // Webhooks are routed by phone number id: two channels of an account must not share one.
        const clash = (await whatsappChannels(deps, accountId)).find((c) => c.channel !== channel && c.config.phoneNumberId === config.phoneNumberId);
        if (clash) throw new ApiError({ code: 'conflict', message: `phone number id ${config.phoneNumberId} is already channel ${clash.channel}` });
      }
      const now = new Date();
      const doc: ChannelDoc = { _id, accountId, channel, config, createdAt: stored?.createdAt ?? now, updatedAt: now };
      // The API is this document's one writer; two operators saving at once: the last one wins.
      await replaceChannel(deps, doc);
      if (config.provider === 'whatsapp_cloud') {
        // Two channels saved at once with one phone number id both passed the check above (no unique
        // index covers it, and FerretDB has no transactions). Check again after writing, as the last
        // active owner does: the later of the two writes is followed by at least one check that sees
        // both, and that request takes its change back.
        const clash = (await whatsappChannels(deps, accountId)).find((c) => c.channel !== channel && c.config.phoneNumberId === config.phoneNumberId);
        if (clash) {
          if (stored) await replaceChannel(deps, stored);
          else await deps.collections.channels.deleteOne({ _id });
          throw new ApiError({ code: 'conflict', message: `phone number id ${config.phoneNumberId} is already channel ${clash.channel}` });
        }
      }
      deps.log.info({ accountId, channel, provider: config.provider }, 'channel configured');
      return channelView(doc);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/channels',
    summary: "The account's configured channels, without their secrets",
    allow: admins,
    response: r.channelList,
    handler: async ({ deps, params }) => {
      const docs = await deps.collections.channels.find({ accountId: params.accountId! }).sort({ _id: 1 }).toArray();
      return { items: docs.map(channelView), nextCursor: null };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/channels/{channel}',
    summary: 'One channel, without its secrets',
    allow: admins,
    response: r.channelView,
    handler: async ({ deps, params }) => {
      const doc = await deps.collections.channels.findOne({ _id: channelDocId(params.accountId!, params.channel!) });
      if (!doc) throw notFound('channel');
      return channelView(doc);
    },
  }),
];
