/**
 * Fetching a customer's media from the Cloud API (SPEC section 10): `GET /{apiVersion}/{media-id}` with
 * the channel's token answers the file's metadata and a short-lived URL, which is then read with the same
 * token. The metadata is a small JSON answer (64 KiB cap, channels/outbound-http.ts); the file is
 * streamed through the same address checks (a URL the answer names is a remote's choice, not the
 * operator's), counted against `maxBytes`. Never throws; what went wrong is a SendResult-like outcome
 * whose messages carry no token and no remote text.
 */
import type { DeliveryError } from '../../workflows/conversation/core/model';
import type { OutboundDownload } from '../outbound-http';
import { getOutboundStream, postOutbound } from '../outbound-http';
import { transportFailure } from '../transport-failure';
import type { WhatsAppChannelConfig } from '../types';
import { classifyGraphError } from './graph';

export type MediaFetch =
  | { outcome: 'fetched'; mimeType: string | undefined; body: AsyncIterable<Buffer> }
  | { outcome: 'failed'; error: DeliveryError }
  | { outcome: 'retry'; error: DeliveryError };

export interface MediaFetchOptions {
  graphUrl: string;
  /** OUTBOUND_ALLOW_PRIVATE: the file's URL may be plain http or a private address (tests' fakes). */
  allowPrivate: boolean;
  maxBytes: number;
  timeoutMs?: number;
  post?: typeof postOutbound;
  get?: typeof getOutboundStream;
}

export async function fetchWhatsAppMedia(config: WhatsAppChannelConfig, providerMediaId: string, options: MediaFetchOptions): Promise<MediaFetch> {
  const authorization = `Bearer ${config.accessToken}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const metadataUrl = `${options.graphUrl.replace(/\/+$/, '')}/${encodeURIComponent(config.apiVersion)}/${encodeURIComponent(providerMediaId)}`;
  let metadata;
  try {
    // WHATSAPP_GRAPH_URL is the operator's own: not judged, like sends.
    metadata = await (options.post ?? postOutbound)({ method: 'GET', url: metadataUrl, headers: { authorization }, body: Buffer.alloc(0), timeoutMs, allowPrivate: true });
  } catch (error) {
    return asFetch(transportFailure(error));
  }
  const answer = parseJson(metadata.body.toString('utf8'));
  if (metadata.status < 200 || metadata.status >= 300) return asFetch(classifyGraphError(metadata.status, answer));
  const url = isRecord(answer) && typeof answer.url === 'string' ? answer.url : undefined;
  if (!url) return { outcome: 'retry', error: { code: 'malformed_response', message: `HTTP ${metadata.status} without a media URL` } };
  const mimeType = isRecord(answer) && typeof answer.mime_type === 'string' ? answer.mime_type : undefined;
  let download: OutboundDownload;
  try {
    download = await (options.get ?? getOutboundStream)({ url, headers: { authorization }, timeoutMs, idleMs: timeoutMs, allowPrivate: options.allowPrivate, maxBytes: options.maxBytes });
  } catch (error) {
    return asFetch(transportFailure(error));
  }
  if (download.status < 200 || download.status >= 300) {
    download.discard();
    // The URL lives minutes: a refusal is most likely an expired one, and the next attempt asks for a new URL.
    return { outcome: 'retry', error: { code: `http_${download.status}`, message: `HTTP ${download.status} downloading the file` } };
  }
  return { outcome: 'fetched', mimeType, body: download.body };
}

function asFetch(result: { outcome: 'sent' | 'failed' | 'retry'; error?: DeliveryError }): MediaFetch {
  const error = result.error ?? { code: 'unknown', message: 'unknown' };
  return result.outcome === 'failed' ? { outcome: 'failed', error } : { outcome: 'retry', error };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
