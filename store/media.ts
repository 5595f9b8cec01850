/**
 * Media files (SPEC section 10, "Media out"; store/DESIGN.md, "Media"): uploaded by users and services,
 * and later fetched from the provider for inbound messages. Kept in two collections of our own rather
 * than GridFS: a `media` document per file, and its bytes in `media_chunks` documents whose `_id` is
 * `{mediaId}/{n}`. Every read and write names one document by its `_id`, the one filter FerretDB 1.24
 * serves from an index (GridFS finds chunks by `{ files_id, n }`, which FerretDB answers by reading the
 * whole collection), and a range request reads only the chunks it covers.
 *
 * A file is written as it arrives, one chunk at a time, so memory stays at one chunk whatever its size:
 * the `media` document first (state `writing`, so a crash leaves a record of what to clean), then the
 * chunks, then the document again with its size and digest (state `stored`). Only `stored` files are
 * ever served or sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Binary, Collection, Db } from 'mongodb';
import type { MediaType } from '../workflows/conversation/core/media';

/** 255 KiB, GridFS's default: a chunk document stays far below BSON's 16 MiB, and a range read wastes little. */
export const mediaChunkBytes = 255 * 1024;

export interface MediaDoc {
  /** `med_` and 24 random base64url characters: not guessable, and not the account's to choose. */
  _id: string;
  accountId: string;
  mimeType: string;
  mediaType: MediaType;
  /** The name the file goes by (`x-filename`, or the provider's), if any. */
  filename: string | null;
  state: 'writing' | 'stored';
  /** Bytes; 0 while writing. */
  size: number;
  /** Hex SHA-256 of the bytes; '' while writing. */
  sha256: string;
  chunkBytes: number;
  chunks: number;
  /** `upload`: through POST .../media; `inbound`: fetched from the provider for a customer's message. */
  source: 'upload' | 'inbound';
  /** Who uploaded it (`user:<id>`, `service:<keyId>`), or the provider for inbound media. */
  createdBy: string;
  createdAt: Date;
}

export interface MediaChunkDoc {
  /** `{mediaId}/{n}`, n from 0. */
  _id: string;
  data: Buffer | Binary;
}

export interface MediaCollections {
  files: Collection<MediaDoc>;
  chunks: Collection<MediaChunkDoc>;
}

export function mediaCollections(db: Db): MediaCollections {
  return { files: db.collection<MediaDoc>('media'), chunks: db.collection<MediaChunkDoc>('media_chunks') };
}

export const chunkIdOf = (mediaId: string, n: number) => `${mediaId}/${n}`;

export function newMediaId(): string {
  return `med_${randomBytes(18).toString('base64url')}`;
}

/**
 * A customer's file's id, derived from the provider's so that a webhook delivered again names the same
 * file: `med_in_` and 32 base64url characters of a SHA-256 over the account, the number and the
 * provider's id (not guessable without the provider's id, which only the account's webhook carries).
 */
export function inboundMediaIdOf(accountId: string, phoneNumberId: string, providerMediaId: string): string {
  return `med_in_${createHash('sha256').update(`${accountId}\n${phoneNumberId}\n${providerMediaId}`).digest('base64url').slice(0, 32)}`;
}

/** Thrown while writing when the bytes go past the file's limit; what was written is gone by then. */
export class MediaTooLarge extends Error {
  override name = 'MediaTooLarge';
  constructor(readonly maxBytes: number) {
    super(`the file is larger than ${maxBytes} bytes`);
  }
}

export interface NewMedia {
  accountId: string;
  mimeType: string;
  mediaType: MediaType;
  filename: string | null;
  source: MediaDoc['source'];
  createdBy: string;
  /** The most bytes the file may have: past it, writing stops with MediaTooLarge. */
  maxBytes: number;
  /** Given for inbound media, whose id is derived from the provider's (a retried fetch writes the same file). */
  id?: string;
}

/**
 * A chunk's write, tried up to three times: it replaces one `_id` with the same bytes, so an attempt that
 * landed before its failure was reported changes nothing. Once in a load-tier run, one of 50 concurrent
 * 5 MB uploads answered 500 while the machine was saturated (the cause was not logged then; the test now
 * prints the API's error log when it fails); an upload should not fail for one busy moment of the store.
 */
async function again<T>(write: () => Promise<T>, waitsMs: readonly number[] = [100, 400]): Promise<T> {
  for (const waitMs of waitsMs) {
    try {
      return await write();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
  return write();
}

/**
 * Writes a file from a stream of bytes, chunk by chunk, and answers its stored document. Whatever stops
 * it (the limit, the stream failing, the database) deletes what it wrote before rethrowing, so no half
 * file is left to serve or to count.
 */
export async function writeMedia(c: MediaCollections, media: NewMedia, bytes: AsyncIterable<Buffer | Uint8Array>, now: Date = new Date()): Promise<MediaDoc> {
  const { maxBytes, id, ...fields } = media;
  const doc: MediaDoc = { _id: id ?? newMediaId(), ...fields, state: 'writing', size: 0, sha256: '', chunkBytes: mediaChunkBytes, chunks: 0, createdAt: now };
  // Replaced whole: an inbound fetch retried after a failed attempt starts its file again.
  await c.files.replaceOne({ _id: doc._id }, doc, { upsert: true });
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let size = 0;
  let chunks = 0;
  const flush = async (data: Buffer) => {
    const _id = chunkIdOf(doc._id, chunks);
    await again(() => c.chunks.replaceOne({ _id }, { data }, { upsert: true }));
    chunks += 1;
  };
  try {
    for await (const piece of bytes) {
      const buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      size += buffer.length;
      if (size > maxBytes) throw new MediaTooLarge(maxBytes);
      hash.update(buffer);
      pending.push(buffer);
      pendingBytes += buffer.length;
      while (pendingBytes >= mediaChunkBytes) {
        const joined = Buffer.concat(pending, pendingBytes);
        // Awaited before the next piece is read: the stream waits for the database (backpressure).
        await flush(joined.subarray(0, mediaChunkBytes));
        const rest = joined.subarray(mediaChunkBytes);
        pending = rest.length > 0 ? [Buffer.from(rest)] : [];
        pendingBytes = rest.length;
      }
    }
    if (pendingBytes > 0) await flush(Buffer.concat(pending, pendingBytes));
    const stored: MediaDoc = { ...doc, state: 'stored', size, sha256: hash.digest('hex'), chunks };
    await c.files.replaceOne({ _id: doc._id }, stored);
    return stored;
  } catch (error) {
    await deleteMedia(c, doc._id, chunks + 1).catch(() => undefined);
    throw error;
  }
}

/**
 * Deletes a file and its first `chunks` chunks, each by `_id` (FerretDB serves no other filter from an
 * index). The document goes last: while it is there, what it names can still be found and cleaned.
 */
export async function deleteMedia(c: MediaCollections, mediaId: string, chunks: number): Promise<void> {
  for (let n = 0; n < chunks; n += 1) await c.chunks.deleteOne({ _id: chunkIdOf(mediaId, n) });
  await c.files.deleteOne({ _id: mediaId });
}

/** A stored file of the account; undefined for another account's, one still being written, or none. */
export async function findMedia(c: MediaCollections, accountId: string, mediaId: string): Promise<MediaDoc | undefined> {
  const doc = await c.files.findOne({ _id: mediaId });
  return doc && doc.accountId === accountId && doc.state === 'stored' ? doc : undefined;
}

/**
 * The bytes from `start` to `end` (inclusive) of a stored file, read one chunk at a time: a range
 * request reads only the chunks it covers, and memory holds one chunk at most.
 */
export async function* readMedia(c: MediaCollections, doc: MediaDoc, start = 0, end = doc.size - 1): AsyncGenerator<Buffer> {
  if (doc.size === 0 || end < start) return;
  const first = Math.floor(start / doc.chunkBytes);
  const last = Math.floor(end / doc.chunkBytes);
  for (let n = first; n <= last; n += 1) {
    const chunk = await c.chunks.findOne({ _id: chunkIdOf(doc._id, n) });
    if (!chunk) throw new Error(`media ${doc._id} is missing its chunk ${n}`);
    const data = bufferOf(chunk.data);
    const from = n === first ? start - n * doc.chunkBytes : 0;
    const to = n === last ? end - n * doc.chunkBytes + 1 : data.length;
    yield data.subarray(from, to);
  }
}

function bufferOf(data: Buffer | Binary): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const bytes = data.buffer;
  return Buffer.from(bytes.buffer, bytes.byteOffset, data.position);
}
