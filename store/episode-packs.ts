import { randomBytes } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import type { EpisodeDoc } from './episodes';
import { allEpisodes, readProjection, reportRow, writtenSince } from './episodes';
import { episodePackChunkDocId, episodePackDocId } from './ids';
import type { PackEntry } from '../workflows/conversation/core/episode-packs';
import { chunkEntries, monthRange, packEntryOf, parseChunk } from '../workflows/conversation/core/episode-packs';
import type { EpisodeRow } from '../workflows/conversation/core/episode-fold';

/**
 * SPEC 11's summary over many rows (store/DESIGN.md "Reports (SPEC 11)"): a pack is what the summary
 * reads of every row of one account and month (core/episode-packs.ts `PackEntry`) as of a moment, its
 * `mark`, in a few chunk documents of a few MB each. A summary of a month reads its newest pack and the
 * month's rows written at or after the mark (the tail, `writtenSince`), each of which replaces its
 * entry: so it reads a few large documents and the rows written lately, not every row.
 *
 * Who writes: any API process whose summary read a long tail (`repackAfter` rows, or a month without a
 * pack) inserts a new pack of what it computed. Insert-once (a random `_id` per pack), chunks first,
 * header last, so a pack whose writer died half-way has no header and is never read. Racing builders
 * both insert; the newest header of the month wins. The writer of a pack deletes the month's packs
 * older than the newest `keep` (header first, then its chunks by `_id`); a reader that finds a chunk
 * gone reads the next newest pack, or the month's rows.
 *
 * Why it is exact: a pack's mark is the moment its builder began to read, less `marginMs`. A row write
 * that the builder did not see landed after it began; the row's `writtenAt` was read from the writer's
 * clock right before that write (store/episodes.ts `writeEpisodeRow`), so it is later than the mark
 * unless the write took longer than the margin, or the clocks differ by more. Every later summary
 * reads those rows in its tail. The margin is one minute; `persist` runs under a 30-second timeout.
 */
export interface PackHeaderDoc {
  _id: string;
  accountId: string;
  month: string;
  /** ISO-8601: every row written since is read from `episodes` on top of this pack. */
  mark: string;
  chunks: number;
  rows: number;
  builtAt: string;
}

export interface PackChunkDoc {
  _id: string;
  /** A JSON array of entries (core/episode-packs.ts `chunkEntries`). */
  entries: string;
}

/** A row pack's header (store/episode-row-packs.ts): a pack's, and each chunk's first `startedAt`. */
export interface RowPackHeaderDoc extends PackHeaderDoc {
  /** The `startedAt` of each chunk's first entry: an export of part of the month skips the chunks outside it. */
  firsts: string[];
}

/** `episode_pack_claims`: who builds a month in a time slot (store/episode-pack-builder.ts). */
export interface PackClaimDoc {
  _id: string;
  claimedAt: string;
}

export interface EpisodePackCollections {
  headers: Collection<PackHeaderDoc>;
  chunks: Collection<PackChunkDoc>;
  /** Row packs (store/episode-row-packs.ts): the same scheme, CSV lines in start order. */
  rowHeaders: Collection<RowPackHeaderDoc>;
  rowChunks: Collection<PackChunkDoc>;
  claims: Collection<PackClaimDoc>;
}

export const episodePackCollections = (db: Db): EpisodePackCollections => ({
  headers: db.collection<PackHeaderDoc>('episode_packs'),
  chunks: db.collection<PackChunkDoc>('episode_pack_chunks'),
  rowHeaders: db.collection<RowPackHeaderDoc>('episode_row_packs'),
  rowChunks: db.collection<PackChunkDoc>('episode_row_pack_chunks'),
  claims: db.collection<PackClaimDoc>('episode_pack_claims'),
});

export interface PackOptions {
  /** How far before its builder's first read a pack's mark is set (default one minute). */
  marginMs?: number;
  /**
   * A read of at least this many rows besides a pack (a month without one: all its rows) makes a new pack
   * (default 500), and at least a 50th of the pack's rows: a busy month is repacked about every 2 % of
   * its rows written, so a tail stays a small part of a read and packs are not rewritten for every few rows.
   */
  repackAfter?: number;
  /** Characters per chunk (default 4,000,000: FerretDB takes documents up to 16 MiB). */
  chunkChars?: number;
  /** How many of a month's newest packs are kept, and read in turn when one has lost a chunk (default 2). */
  keep?: number;
  now?: () => number;
  /** Parsed packs kept in this process (default: `packCache`); null: every read goes to the store. */
  cache?: PackCache | null;
}

/**
 * Parsed packs by `_id`, the least recently used dropped past `maxEntries` entries in all. Exact: a pack
 * never changes once its header is written, and a pack pruned since it was read is still every row as
 * of its mark, so a read from the copy plus the rows written since is what a read from the store gives.
 * It spares a warm summary reading and parsing its packs (most of its time, and what grows with load).
 */
export class PackCache {
  private readonly packs = new Map<string, Map<string, PackEntry>>();
  private entries = 0;
  constructor(private readonly maxEntries: number) {}

  get(id: string): Map<string, PackEntry> | undefined {
    const pack = this.packs.get(id);
    if (pack !== undefined) {
      this.packs.delete(id);
      this.packs.set(id, pack);
    }
    return pack;
  }

  set(id: string, pack: Map<string, PackEntry>): void {
    if (this.packs.has(id) || pack.size > this.maxEntries) return;
    this.packs.set(id, pack);
    this.entries += pack.size;
    for (const [oldId, old] of this.packs) {
      if (this.entries <= this.maxEntries) break;
      this.packs.delete(oldId);
      this.entries -= old.size;
    }
  }
}

/** Each API process's cache of parsed packs: 200,000 entries, about 80 MB (100,000 seeded entries parsed: 39 MiB of heap). */
export const packCache = new PackCache(200_000);

/** What reading one month cost: which pack, how many rows came from it and from the tail. */
export interface MonthRead {
  month: string;
  /** The pack read (its `_id`), or null: the month's rows were read by their start. */
  pack: string | null;
  packRows: number;
  tailRows: number;
  /** The `_id` of the pack this read inserted, if it made one. */
  packed: string | null;
}

/** The part of a row's `_id` after `conv:{accountId}:`, which every row of the account shares. */
export const keyOf = (accountId: string, id: string): string => {
  const prefix = `conv:${accountId}:`;
  return id.startsWith(prefix) ? id.slice(prefix.length) : id;
};

/**
 * The entries of every row of one account and month, as the rows are now (with the margin's caveat
 * above), and what the read cost. A read that went through a long tail leaves a new pack behind.
 */
export async function monthEntries(
  c: { episodes: Collection<EpisodeDoc>; episodePacks: EpisodePackCollections },
  accountId: string,
  month: string,
  options: PackOptions = {},
): Promise<{ entries: Map<string, PackEntry>; read: MonthRead }> {
  const now = options.now ?? Date.now;
  const keep = Math.max(1, options.keep ?? 2);
  const headers = await c.episodePacks.headers.find({ accountId, month }).sort({ _id: -1 }).limit(keep).toArray();
  let entries: Map<string, PackEntry> | null = null;
  let pack: PackHeaderDoc | null = null;
  const cache = options.cache === undefined ? packCache : options.cache;
  for (const header of headers) {
    const cached = cache?.get(header._id);
    entries = cached ?? (await readPack(c.episodePacks, header));
    if (entries !== null) {
      if (cached === undefined) cache?.set(header._id, entries);
      // The tail is merged into a copy: the cached pack stays the pack.
      entries = new Map(entries);
      pack = header;
      break;
    }
  }
  // Before the rows are read: every write that lands after this moment is in a later tail.
  const began = now();
  let tailRows = 0;
  const packRows = entries?.size ?? 0;
  if (pack === null || entries === null) {
    // No pack (or every chunk of it gone): the month's rows by their start, of either shape.
    entries = new Map();
    const range = monthRange(month);
    for await (const doc of allEpisodes(c.episodes, { accountId, ...range }, 1000, readProjection)) {
      entries.set(keyOf(accountId, doc._id), packEntryOf(keyOf(accountId, doc._id), reportRow(doc)));
      tailRows += 1;
    }
  } else {
    for await (const doc of writtenSince(c.episodes, accountId, month, pack.mark)) {
      const key = keyOf(accountId, doc._id);
      entries.set(key, packEntryOf(key, JSON.parse(doc.row) as Omit<EpisodeRow, 'fold'>));
      tailRows += 1;
    }
  }
  let packed: string | null = null;
  if (tailRows >= Math.max(options.repackAfter ?? 500, packRows / 50)) {
    const mark = new Date(began - (options.marginMs ?? 60_000)).toISOString();
    packed = await writePack(c.episodePacks, accountId, month, mark, entries, options.chunkChars ?? 4_000_000, keep, now);
    cache?.set(packed, new Map(entries));
  }
  return { entries, read: { month, pack: pack?._id ?? null, packRows, tailRows, packed } };
}

/** A pack's entries, or null when one of its chunks is gone (a newer pack's writer deleted it). */
async function readPack(packs: EpisodePackCollections, header: PackHeaderDoc): Promise<Map<string, PackEntry> | null> {
  const chunks = await Promise.all(Array.from({ length: header.chunks }, (_, n) => packs.chunks.findOne({ _id: episodePackChunkDocId(header._id, n) })));
  const entries = new Map<string, PackEntry>();
  for (const chunk of chunks) {
    if (chunk === null) return null;
    for (const e of parseChunk(chunk.entries)) entries.set(e[0], e);
  }
  return entries;
}

/**
 * Inserts a pack: chunks first, the header last (a pack is read only through its header), then deletes
 * the month's packs older than the newest `keep`. Answers the new pack's `_id`.
 */
export async function writePack(
  packs: EpisodePackCollections,
  accountId: string,
  month: string,
  mark: string,
  entries: Map<string, PackEntry>,
  chunkChars: number,
  keep: number,
  now: () => number = Date.now,
): Promise<string> {
  const id = episodePackDocId(accountId, month, mark, randomBytes(6).toString('hex'));
  const texts = chunkEntries(entries.values(), chunkChars);
  // One at a time: each is megabytes, and the store writes them one after another anyway.
  for (const [n, text] of texts.entries()) await packs.chunks.insertOne({ _id: episodePackChunkDocId(id, n), entries: text });
  await packs.headers.insertOne({ _id: id, accountId, month, mark, chunks: texts.length, rows: entries.size, builtAt: new Date(now()).toISOString() });
  await prunePacks(packs, accountId, month, keep);
  return id;
}

/** Deletes a month's packs but the newest `keep`: each header first (no reader finds it after), then its chunks. */
export async function prunePacks<H extends PackHeaderDoc>(packs: { headers: Collection<H>; chunks: Collection<PackChunkDoc> }, accountId: string, month: string, keep: number): Promise<number> {
  const headers = (await packs.headers.find({ accountId, month } as Filter<H>).sort({ _id: -1 }).limit(keep + 50).toArray()) as PackHeaderDoc[];
  let deleted = 0;
  for (const old of headers.slice(keep)) {
    // Of two racing pruners one deletes the header; both may delete chunks, which is the same outcome.
    await packs.headers.deleteOne({ _id: old._id } as Filter<H>);
    for (let n = 0; n < old.chunks; n++) await packs.chunks.deleteOne({ _id: episodePackChunkDocId(old._id, n) });
    deleted += 1;
  }
  return deleted;
}
