/**
 * Which files WhatsApp takes, and how large (SPEC section 10, "Media out", and its pinned details):
 * the Cloud API's supported media types, each in one of five WhatsApp media types with its own size
 * limit. The upload route refuses anything else before a byte is stored, and a reply's media kind is
 * known from the stored file's type, so the Graph send and the caption rule follow from this table.
 *
 * Pure: no Node, Temporal, MongoDB or Express import (the API, the worker and the workflow bundle may
 * all load it).
 */

/** WhatsApp's media message types; `sticker` is a WebP image, sent as a sticker. */
export type MediaType = 'image' | 'audio' | 'video' | 'document' | 'sticker';

/** MB as the SPEC means it: 2^20 bytes. */
const MB = 1024 * 1024;

/** The most bytes a file of each WhatsApp media type may have (image 5 MB, audio and video 16 MB, document 100 MB, sticker 100 KB). */
export const maxBytesOf: { [T in MediaType]: number } = {
  image: 5 * MB,
  audio: 16 * MB,
  video: 16 * MB,
  document: 100 * MB,
  sticker: 100 * 1024,
};

/**
 * The MIME types the Cloud API accepts, and the media type each is sent as (Meta's "Supported media
 * types"). `audio/ogg` is taken with the Opus codec only, which the type alone cannot tell: Graph
 * refuses another codec when the file is uploaded to the number, and the send fails with its code.
 */
export const mediaTypeOfMime: Readonly<Record<string, MediaType>> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/webp': 'sticker',
  'audio/aac': 'audio',
  'audio/amr': 'audio',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/ogg': 'audio',
  'video/mp4': 'video',
  'video/3gpp': 'video',
  'text/plain': 'document',
  'application/pdf': 'document',
  'application/msword': 'document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'document',
  'application/vnd.ms-excel': 'document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
  'application/vnd.ms-powerpoint': 'document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'document',
};

/** `Image/PNG; charset=x` → `image/png`: the type without parameters, lower case; '' for none. */
export function bareMimeType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export type MediaUploadVerdict =
  | { ok: true; mimeType: string; mediaType: MediaType; maxBytes: number }
  | { ok: false; code: 'validation_failed' | 'payload_too_large'; message: string };

/**
 * Whether a file of this content type (and, when known before reading, this size) may be uploaded.
 * `size` is the declared Content-Length; a body without one is judged while it streams, against the
 * same `maxBytes`.
 */
export function judgeMediaUpload(contentType: string | undefined, size?: number): MediaUploadVerdict {
  const mimeType = bareMimeType(contentType);
  const mediaType = Object.hasOwn(mediaTypeOfMime, mimeType) ? mediaTypeOfMime[mimeType] : undefined;
  if (mediaType === undefined) {
    return {
      ok: false,
      code: 'validation_failed',
      message: `content-type: ${mimeType === '' ? 'none given' : `${mimeType.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)} is not a type WhatsApp takes`}; send one of ${Object.keys(mediaTypeOfMime).join(', ')}`,
    };
  }
  const maxBytes = maxBytesOf[mediaType];
  if (size !== undefined && size > maxBytes) return { ok: false, code: 'payload_too_large', message: tooLargeMessage(mediaType, maxBytes) };
  if (size === 0) return { ok: false, code: 'validation_failed', message: 'body: the file is empty' };
  return { ok: true, mimeType, mediaType, maxBytes };
}

export function tooLargeMessage(mediaType: MediaType, maxBytes: number): string {
  const limit = maxBytes % MB === 0 ? `${maxBytes / MB} MB` : `${maxBytes / 1024} KB`;
  return `body: a ${mediaType} may be at most ${limit} (${maxBytes} bytes) on WhatsApp`;
}

/**
 * Whether text may go with media of this type: it is the caption of an image, a video or a document;
 * WhatsApp shows no caption on audio or a sticker, so text with those is refused rather than dropped.
 */
export function takesCaption(mediaType: MediaType): boolean {
  switch (mediaType) {
    case 'image':
    case 'video':
    case 'document':
      return true;
    case 'audio':
    case 'sticker':
      return false;
  }
}

/** Whether a file of this type is played (and so served in ranges a player asks for). */
export function isPlayable(mediaType: MediaType): boolean {
  return mediaType === 'audio' || mediaType === 'video';
}
