import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { fetchWhatsAppMedia } from '../channels/whatsapp/media-fetch';
import { channelForSending } from '../store/channels';
import { collections } from '../store/collections';
import { findMedia, writeMedia } from '../store/media';
import type { SecretBox } from '../store/secret-box';
import { bareMimeType, maxBytesOf } from '../workflows/conversation/core/media';
import type { InboundMediaFetch, InboundMediaOutcome } from '../workflows/media/ids';

export interface MediaActivities {
  /**
   * Fetches one customer media file from the provider and keeps it under its id (store/media.ts).
   * Idempotent: a file already stored answers at once; a retried attempt writes the file again whole.
   * Transient failures throw (Temporal retries); permanent ones throw non-retryable.
   */
  fetchInboundMedia(input: InboundMediaFetch): Promise<InboundMediaOutcome>;
}

export interface MediaActivityDeps {
  db: Db;
  log: Logger;
  graphUrl: string;
  secrets?: SecretBox;
  allowPrivate?: boolean;
}

/** Inbound files are kept up to WhatsApp's own limit for their type (what a customer can send). */
const inboundMaxBytes = (mediaType: InboundMediaFetch['mediaType']) => maxBytesOf[mediaType];

export function createMediaActivities({ db, log, graphUrl, secrets, allowPrivate = false }: MediaActivityDeps): MediaActivities {
  const c = collections(db, { secrets });
  return {
    async fetchInboundMedia(input) {
      const stored = await findMedia(c.media, input.accountId, input.mediaId);
      if (stored) return { outcome: 'stored', size: stored.size };
      const config = await channelForSending(c, input.accountId, input.channel);
      if (config?.provider !== 'whatsapp_cloud') {
        throw ApplicationFailure.nonRetryable(`channel ${input.channel} is not a WhatsApp Cloud API channel`, 'no_channel');
      }
      const where = { accountId: input.accountId, mediaId: input.mediaId };
      const fetched = await fetchWhatsAppMedia(config, input.providerMediaId, { graphUrl, allowPrivate, maxBytes: inboundMaxBytes(input.mediaType) });
      if (fetched.outcome !== 'fetched') {
        log.warn({ ...where, code: fetched.error.code, outcome: fetched.outcome }, 'inbound media not fetched');
        const message = `${fetched.error.code}: ${fetched.error.message}`;
        throw fetched.outcome === 'failed' ? ApplicationFailure.nonRetryable(message, 'media_failed') : ApplicationFailure.retryable(message, 'media_retry');
      }
      async function* counted(body: AsyncIterable<Buffer>) {
        for await (const chunk of body) {
          heartbeat();
          yield chunk;
        }
      }
      try {
        const doc = await writeMedia(c.media, {
          id: input.mediaId,
          accountId: input.accountId,
          mimeType: bareMimeType(fetched.mimeType ?? input.mimeType) || 'application/octet-stream',
          mediaType: input.mediaType,
          filename: input.filename ?? null,
          source: 'inbound',
          createdBy: `whatsapp:${input.channel}`,
          maxBytes: inboundMaxBytes(input.mediaType),
        }, counted(fetched.body));
        return { outcome: 'stored', size: doc.size };
      } catch (error) {
        // What was written is gone (writeMedia cleans up); a cut download is tried again, a file too large is not.
        const code = (error as { code?: unknown }).code;
        if (code === 'too_large') throw ApplicationFailure.nonRetryable('the file is larger than WhatsApp allows for its type', 'media_failed');
        throw ApplicationFailure.retryable(`the download failed: ${code === undefined ? 'unknown' : String(code)}`, 'media_retry');
      }
    },
  };
}
