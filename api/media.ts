/**
 * Uploading and serving media (SPEC section 10, "Media out"; README "Media"). The body of an upload is
 * the file itself, streamed into the store chunk by chunk (store/media.ts): never buffered whole, so 50
 * uploads of 5 MB at once cost 50 chunks of memory, not 250 MB. Whatever WhatsApp would not take is
 * refused before a byte is stored: an unknown type (400) or a declared Content-Length over the type's
 * limit (413); a body without one is counted as it arrives and, past the limit, its chunks are deleted
 * and the answer is 413.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Principal } from './auth';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';
import { parseByteRange } from './byte-range';
import { judgeMediaUpload, takesCaption, tooLargeMessage } from '../workflows/conversation/core/media';
import type { SessionContent } from '../workflows/conversation/core/outbound';
import type { MediaDoc } from '../store/media';
import { MediaTooLarge, deleteMedia, findMedia, inboundMediaIdOf, readMedia, writeMedia } from '../store/media';
import type { CustomerMessagePayload } from '../workflows/conversation/messages';
import type { InboundMediaFetch } from '../workflows/media/ids';
import { inboundMediaWorkflowId, inboundMediaWorkflowType } from '../workflows/media/ids';
import type { inboundMediaWorkflow } from '../workflows/media/workflow';

/** What an upload answers (201), and what a reply's `media.id` names. */
export interface MediaView {
  id: string;
  mimeType: string;
  size: number;
  sha256: string;
  filename: string | null;
}

export const mediaView = (doc: MediaDoc): MediaView => ({ id: doc._id, mimeType: doc.mimeType, size: doc.size, sha256: doc.sha256, filename: doc.filename });

/**
 * The body is not read (or no longer): the rest is discarded as it comes and the connection closed after
 * the answer, so a client that is still sending reads the refusal instead of a reset.
 */
function refuseBody(req: Request, res: Response): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  req.resume();
}

/** `x-filename`: a name for the file, at most 255 characters, no path and no control characters; null without one. */
export function filenameOf(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header[0]! : header;
  // A header is Latin-1 on the wire; clients that send UTF-8 names percent-encode them.
  let name = value;
  try {
    name = decodeURIComponent(value);
  } catch {
    // not percent-encoded: taken as sent
  }
  name = name.replace(/^.*[/\\]/, '').trim();
  if (name === '' || name.length > 255 || [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    throw new ApiError({ code: 'validation_failed', message: 'x-filename: a file name of 1 to 255 characters, without control characters', details: [{ path: 'x-filename', message: 'invalid file name' }] });
  }
  return name;
}

function declaredLength(req: Request): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  return /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

const creatorOf = (principal: Principal): string =>
  principal.kind === 'user' ? `user:${principal.userId}` : principal.kind === 'service' ? `service:${principal.keyId}` : 'platform';

export async function uploadMedia(deps: ApiDeps, req: Request, res: Response, accountId: string, principal: Principal): Promise<MediaView> {
  const verdict = judgeMediaUpload(req.headers['content-type'], declaredLength(req));
  if (!verdict.ok) {
    refuseBody(req, res);
    const field = verdict.code === 'payload_too_large' ? 'body' : 'content-type';
    throw new ApiError({ code: verdict.code, message: verdict.message, details: [{ path: field, message: verdict.message }] });
  }
  let filename: string | null;
  try {
    filename = filenameOf(req.headers['x-filename']);
  } catch (error) {
    refuseBody(req, res);
    throw error;
  }
  // Not destroyed when writing stops early: the answer must still reach the client (refuseBody).
  const bytes = { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer> };
  try {
    const doc = await writeMedia(deps.collections.media, {
      accountId,
      mimeType: verdict.mimeType,
      mediaType: verdict.mediaType,
      filename,
      source: 'upload',
      createdBy: creatorOf(principal),
      maxBytes: verdict.maxBytes,
    }, bytes);
    if (doc.size === 0) {
      await deleteMedia(deps.collections.media, doc._id, 0);
      throw new ApiError({ code: 'validation_failed', message: 'body: the file is empty', details: [{ path: 'body', message: 'the file is empty' }] });
    }
    return mediaView(doc);
  } catch (error) {
    if (error instanceof MediaTooLarge) {
      refuseBody(req, res);
      const message = tooLargeMessage(verdict.mediaType, verdict.maxBytes);
      throw new ApiError({ code: 'payload_too_large', message, details: [{ path: 'body', message }] });
    }
    if (req.destroyed || req.readableAborted) throw new ApiError({ code: 'validation_failed', message: 'the request was aborted before its body was read' });
    throw error;
  }
}

/**
 * `Content-Disposition`: documents as attachments (a browser does not render them on our origin),
 * pictures and sound inline; the name both as plain ASCII and, when it has more, as RFC 8187 UTF-8.
 */
export function contentDispositionOf(doc: Pick<MediaDoc, 'mediaType' | 'filename' | '_id' | 'mimeType'>): string {
  const type = doc.mediaType === 'document' ? 'attachment' : 'inline';
  const name = doc.filename ?? `${doc._id}${extensionOf(doc.mimeType)}`;
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return ascii === name ? `${type}; filename="${ascii}"` : `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function extensionOf(mimeType: string): string {
  const known: Record<string, string> = {
    'image/jpeg': '.jpg',
    'image/png': '.png',
    'image/webp': '.webp',
    'audio/mpeg': '.mp3',
    'audio/ogg': '.ogg',
    'audio/aac': '.aac',
    'audio/amr': '.amr',
    'audio/mp4': '.m4a',
    'video/mp4': '.mp4',
    'video/3gpp': '.3gp',
    'application/pdf': '.pdf',
    'text/plain': '.txt',
  };
  return known[mimeType] ?? '';
}

/**
 * Serves a stored file of the account, whole (200) or one byte range (206) for players that seek. Another
 * account's file, one still being written, or none: 404 alike, so ids say nothing across accounts.
 */
export async function serveMedia(deps: ApiDeps, req: Request, res: Response, accountId: string, mediaId: string): Promise<void> {
  const doc = await findMedia(deps.collections.media, accountId, mediaId);
  if (!doc) throw notFound('media');
  const range = parseByteRange(req.headers.range, doc.size);
  if (range === 'unsatisfiable') {
    res.setHeader('content-range', `bytes */${doc.size}`);
    throw new ApiError({ code: 'range_not_satisfiable', message: `range: the file has ${doc.size} bytes` });
  }
  res.setHeader('content-type', doc.mimeType);
  res.setHeader('content-disposition', contentDispositionOf(doc));
  // Uploaded bytes are anyone's: never sniffed into something runnable, and nothing in them runs here.
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-security-policy', "default-src 'none'; sandbox");
  res.setHeader('cache-control', 'private, max-age=3600');
  res.setHeader('etag', `"${doc.sha256}"`);
  res.setHeader('accept-ranges', 'bytes');
  const { start, end } = range ?? { start: 0, end: doc.size - 1 };
  if (range) {
    res.status(206);
    res.setHeader('content-range', `bytes ${start}-${end}/${doc.size}`);
  } else {
    res.status(200);
  }
  res.setHeader('content-length', String(end - start + 1));
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await pipeline(Readable.from(readMedia(deps.collections.media, doc, start, end)), res).catch((error: unknown) => {
    // The client went away mid-file: nothing to answer. A store failure mid-file cuts the answer short,
    // which the client sees as a body shorter than its content-length.
    if (!res.writableEnded) res.destroy();
    if (!(error instanceof Error && 'code' in error && error.code === 'ERR_STREAM_PREMATURE_CLOSE')) req.log?.error({ err: error }, 'serving media failed');
  });
}

/**
 * A reply's content: text, or a stored file of the account with its caption (the reply's `text` or
 * `media.caption`, not both). The file's type is read here, once, and travels in the content, so the
 * audio-or-sticker rule is answered before the conversation is asked and the adapters look nothing up.
 */
export async function replyContentOf(
  deps: ApiDeps,
  accountId: string,
  body: { text?: string; media?: { id: string; caption?: string; filename?: string } },
): Promise<SessionContent> {
  if (!body.media) return { kind: 'text', text: body.text ?? '' };
  const invalid = (path: string, message: string) => new ApiError({ code: 'validation_failed', message: `${path}: ${message}`, details: [{ path, message }] });
  if (body.text !== undefined && body.media.caption !== undefined) throw invalid('text', 'send the caption as text or as media.caption, not both');
  const doc = await findMedia(deps.collections.media, accountId, body.media.id);
  if (!doc) throw invalid('media.id', 'no such media in this account (upload it with POST .../media)');
  const caption = body.media.caption ?? body.text;
  if (caption !== undefined && !takesCaption(doc.mediaType)) {
    throw invalid(body.text !== undefined ? 'text' : 'media.caption', `${doc.mediaType} is sent without a caption on WhatsApp; send the text as its own reply`);
  }
  const filename = body.media.filename ?? (doc.mediaType === 'document' ? (doc.filename ?? undefined) : undefined);
  return {
    kind: 'media',
    media: { id: doc._id, mediaType: doc.mediaType, mimeType: doc.mimeType, ...(filename !== undefined ? { filename } : {}), ...(caption !== undefined ? { caption } : {}) },
  };
}

/**
 * A customer's media message, before it is signalled (SPEC section 10): its file is given our id, the one
 * GET .../media/{id} takes (`content.media.id`; the provider's stays as `providerMediaId`), and a
 * durable fetch is started under that id (workflows/media). Started before the message is signalled,
 * so a webhook answered 200 has both; a body Meta delivers again derives the same id and starts nothing
 * new. Mutates the payload.
 */
export async function keepInboundMedia(deps: Pick<ApiDeps, 'temporal' | 'taskQueue' | 'temporalCall'>, ref: { accountId: string; channel: string; phoneNumberId: string }, message: CustomerMessagePayload): Promise<void> {
  const media = message.content?.media;
  const kind = message.type;
  if (!media || !message.content || (kind !== 'image' && kind !== 'audio' && kind !== 'video' && kind !== 'document' && kind !== 'sticker')) return;
  const providerMediaId = media.providerMediaId ?? media.id;
  const mediaId = inboundMediaIdOf(ref.accountId, ref.phoneNumberId, providerMediaId);
  message.content.media = { ...media, id: mediaId, providerMediaId };
  const input: InboundMediaFetch = {
    accountId: ref.accountId,
    channel: ref.channel,
    mediaId,
    providerMediaId,
    mediaType: kind,
    ...(media.mimeType !== undefined ? { mimeType: media.mimeType } : {}),
    ...(media.filename !== undefined ? { filename: media.filename } : {}),
  };
  await deps.temporalCall('inboundMedia', async () => {
    try {
      await deps.temporal.workflow.start<typeof inboundMediaWorkflow>(inboundMediaWorkflowType, {
        workflowId: inboundMediaWorkflowId(ref.accountId, mediaId),
        taskQueue: deps.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  });
}
