import type { ChannelConfig } from '../channels/types';
import type { ChannelDoc } from '../store/collections';
import { channelDocId } from '../store/collections';
import { classifyHost, describeReason } from '../channels/destination-rules';
import { channelSecretFields, deleteChannel, findChannel, listChannels, saveChannel } from '../store/channels';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';
import type { channelConfig } from './schemas';

/** Use cases of channels (api/DESIGN.md); the channel routes parse, call one of these, and map with `channelView`. */

/** Graph API version used when a WhatsApp channel names none. */
export const defaultGraphApiVersion = 'v21.0';

/** A channel as routes show it: every setting but the secrets, and which secrets are set. */
export function channelView(doc: ChannelDoc) {
  const { config } = doc;
  const settings: Record<string, unknown> = {};
  if (config.provider === 'whatsapp_cloud') Object.assign(settings, { phoneNumberId: config.phoneNumberId, apiVersion: config.apiVersion, wabaId: config.wabaId ?? null });
  if (config.provider === 'webhook') settings.url = config.url;
  return {
    channel: doc.channel,
    accountId: doc.accountId,
    provider: config.provider,
    ...settings,
    secretsSet: channelSecretFields[config.provider].filter((field) => Boolean((config as unknown as Record<string, unknown>)[field])),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

type ConfigInput = ReturnType<typeof channelConfig.parse>;

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
    case 'whatsapp_cloud': {
      // Like apiVersion, left out keeps the stored one; null takes it away.
      const wabaId = input.wabaId === null ? undefined : (input.wabaId ?? (kept.wabaId as string | undefined));
      return {
        provider: 'whatsapp_cloud',
        phoneNumberId: input.phoneNumberId,
        accessToken: secret('accessToken'),
        appSecret: secret('appSecret'),
        verifyToken: secret('verifyToken'),
        apiVersion: input.apiVersion ?? (kept.apiVersion as string | undefined) ?? defaultGraphApiVersion,
        ...(wabaId !== undefined ? { wabaId } : {}),
      };
    }
    case 'webhook':
      return { provider: 'webhook', url: input.url, secret: secret('secret') };
    case 'recording':
      return { provider: 'recording' };
  }
}

/** Webhooks are routed by phone number id: another channel of the account with this one, if any (secrets stay sealed). */
async function numberClash(deps: ApiDeps, accountId: string, channel: string, phoneNumberId: string): Promise<ChannelDoc | undefined> {
  return (await listChannels(deps.collections, accountId)).find(
    (c) => c.channel !== channel && c.config.provider === 'whatsapp_cloud' && c.config.phoneNumberId === phoneNumberId,
  );
}

/**
 * A webhook URL convoflow may send to (SPEC section 12): https, and a host that is not written as a
 * forbidden address (`127.1`, `2130706433`, `[::ffff:127.0.0.1]`: WHATWG URL has already normalized
 * them). A name is judged when the worker resolves it, at every connection. OUTBOUND_ALLOW_PRIVATE
 * lifts both rules.
 */
export function webhookUrlProblem(url: string, allowPrivate: boolean): string | undefined {
  if (allowPrivate) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:') return 'url: must be https';
  const host = classifyHost(parsed.hostname);
  if (host.kind === 'address' && !host.allowed) return `url: ${host.address} is ${describeReason(host.reason)}; convoflow sends only to public addresses`;
  return undefined;
}

const clashError = (phoneNumberId: string, clash: ChannelDoc) => new ApiError({ code: 'conflict', message: `phone number id ${phoneNumberId} is already channel ${clash.channel}` });

/** `PUT .../channels/{channel}`: the configuration after the body (secrets left out keep theirs), saved whole. */
export async function configureChannel(deps: ApiDeps, accountId: string, channel: string, input: ConfigInput): Promise<ChannelDoc> {
  if (input.provider === 'webhook') {
    const problem = webhookUrlProblem(input.url, deps.outbound.allowPrivate);
    if (problem) throw new ApiError({ code: 'validation_failed', message: problem, details: [{ path: 'url', message: problem.slice('url: '.length) }] });
  }
  const stored = await findChannel(deps.collections, accountId, channel);
  const config = nextConfig(input, stored?.config);
  if (config.provider === 'whatsapp_cloud') {
    // Webhooks are routed by phone number id: two channels of an account must not share one.
    const clash = await numberClash(deps, accountId, channel, config.phoneNumberId);
    if (clash) throw clashError(config.phoneNumberId, clash);
  }
  const now = new Date();
  const doc: ChannelDoc = { _id: channelDocId(accountId, channel), accountId, channel, config, createdAt: stored?.createdAt ?? now, updatedAt: now };
  // The API is this document's one writer; two operators saving at once: the last one wins.
  await saveChannel(deps.collections, doc);
  if (config.provider === 'whatsapp_cloud') {
    // Two channels saved at once with one phone number id both passed the check above (no unique
    // index covers it, and FerretDB has no transactions). Check again after writing, as the last
    // active owner does: the later of the two writes is followed by at least one check that sees
    // both, and that request takes its change back.
    const clash = await numberClash(deps, accountId, channel, config.phoneNumberId);
    if (clash) {
      if (stored) await saveChannel(deps.collections, stored);
      else await deleteChannel(deps.collections, accountId, channel);
      throw clashError(config.phoneNumberId, clash);
    }
  }
  deps.log.info({ accountId, channel, provider: config.provider }, 'channel configured');
  return doc;
}
