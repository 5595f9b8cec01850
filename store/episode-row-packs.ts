import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { EpisodeCursor, EpisodeDoc, EpisodeFilter } from './episodes';
import { allEpisodes, readProjection, reportRow, writtenSince } from './episodes';
import type { EpisodePackCollections, PackOptions, RowPackHeaderDoc } from './episode-packs';
import { keyOf, prunePacks } from './episode-packs';
import { episodePackChunkDocId, episodePackDocId } from './ids';
import type { ReportFields, RowEntry } from '../workflows/conversation/core/episode-csv';
import { ChunkBuilder, mergeStartOrder, rowEntryOf, rowMatches, sortTail, tailRest } from '../workflows/conversation/core/episode-csv';
import { monthRange, monthsOf } from '../workflows/conversation/core/episode-packs';

/**
 * SPEC 11's CSV export over many rows (store/DESIGN.md "Reports (SPEC 11)"): a row pack is every row of
 * one account and month as CSV-ready lines in start order (core/episode-csv.ts `RowEntry`), as of its
 * `mark`, in chunks of a few MB. The same scheme as the summary's packs (store/episode-packs.ts):
 * insert-once with a random `_id`, chunks first and the header last, the newest header of the month
 * read, the month's packs but the newest `keep` pruned; the same mark and margin, so the same
 * exactness argument: a pack's entries plus the rows written since its mark are every row as it is now.
 *
 * An export of a month reads the rows written since the mark first (the tail: the one part held whole),
 * then the pack chunk by chunk, each tail row in its place and replacing its pack entry
 * (core/episode-csv.ts `mergeStartOrder`); memory is one chunk and the tail. A month without a row pack
 * is read as rows (pages of the `account_started` index), as before packs. A chunk found gone mid-read (a
 * newer pack's writer pruned it) ends the pack: the rest of the month is read as rows from just after
 * the last entry given, so nothing is given twice or left out.
 *
 * Only the pack builder writes row packs (store/episode-pack-builder.ts); a reader never does.
 */
type RowPackCollections = { episodes: Collection<EpisodeDoc>; episodePacks: EpisodePackCollections };

/** Row pack chunks are smaller than the summary's: an export holds one while the client reads it. */
export const defaultRowChunkChars = 2_000_000;

/** A chunk of a pack that was pruned while it was read. */
class ChunkGone extends Error {
  override name = 'ChunkGone';
}

async function readChunk(packs: EpisodePackCollections, packId: string, n: number): Promise<RowEntry[]> {
  const chunk = await packs.rowChunks.findOne({ _id: episodePackChunkDocId(packId, n) });
  if (chunk === null) throw new ChunkGone(`${packId}/${n}`);
  return JSON.parse(chunk.entries) as RowEntry[];
}

/** The chunks of a pack in order, each asked for while the one before is worked through. */
async function* chunksOf(packs: EpisodePackCollections, header: RowPackHeaderDoc, first = 0): AsyncGenerator<RowEntry[]> {
  let next: Promise<RowEntry[]> | undefined = first < header.chunks ? readChunk(packs, header._id, first) : undefined;
  for (let n = first; next !== undefined; n++) {
    const current: RowEntry[] = await next;
    next = n + 1 < header.chunks ? readChunk(packs, header._id, n + 1) : undefined;
    // A caller that stops early leaves a read in flight: its rejection is not unhandled.
    next?.catch(() => undefined);
    yield current;
  }
}

/** The newest row pack of a month, or null. */
export async function newestRowPack(packs: EpisodePackCollections, accountId: string, month: string): Promise<RowPackHeaderDoc | null> {
  const [header] = await packs.rowHeaders.find({ accountId, month }).sort({ _id: -1 }).limit(1).toArray();
  return header ?? null;
}

/** The month's rows written since `mark`, as entries by key (of two reads of one row, the later). */
async function tailOf(episodes: Collection<EpisodeDoc>, accountId: string, month: string, mark: string): Promise<Map<string, RowEntry>> {
  const tail = new Map<string, RowEntry>();
  for await (const doc of writtenSince(episodes, accountId, month, mark)) {
    const key = keyOf(accountId, doc._id);
    tail.set(key, rowEntryOf(key, JSON.parse(doc.row) as ReportFields));
  }
  return tail;
}

/** Rows of the range read from `episodes` (after `after`, if given), as entries, a page at a time. */
async function* rowsAsEntries(episodes: Collection<EpisodeDoc>, f: EpisodeFilter, after?: EpisodeCursor): AsyncGenerator<RowEntry[]> {
  let page: RowEntry[] = [];
  for await (const doc of allEpisodes(episodes, f, 1000, readProjection, after)) {
    page.push(rowEntryOf(keyOf(f.accountId, doc._id), reportRow(doc)));
    if (page.length === 1000) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

/** What an export of one month read: a row pack (its `_id`) or rows, and how many rows of each. */
export interface MonthExport {
  month: string;
  pack: string | null;
  tailRows: number;
  /** Whether a chunk was gone mid-read, so the rest came from the rows. */
  fellBack: boolean;
}

/**
 * The rows of one month that pass the filter, in start order, as entries in batches: from the month's
 * newest row pack and its tail, or from the rows. `f`'s range may cover part of the month only.
 */
export async function* monthRowEntries(c: RowPackCollections, month: string, f: EpisodeFilter, read?: (r: MonthExport) => void): AsyncGenerator<RowEntry[]> {
  const range = monthRange(month);
  const within: EpisodeFilter = { ...f, from: f.from > range.from ? f.from : range.from, to: f.to < range.to ? f.to : range.to };
  const header = await newestRowPack(c.episodePacks, f.accountId, month);
  if (header === null) {
    read?.({ month, pack: null, tailRows: 0, fellBack: false });
    yield* rowsAsEntries(c.episodes, within);
    return;
  }
  const byKey = await tailOf(c.episodes, f.accountId, month, header.mark);
  const tail = sortTail(byKey);
  const tailKeys = new Set(byKey.keys());
  const state = { next: 0 };
  // The first chunk that may hold a row of the range: the one before the first chunk starting at or after `from`.
  let first = 0;
  while (first + 1 < header.chunks && (header.firsts[first + 1] ?? '') < within.from) first++;
  let last: RowEntry | undefined;
  const matching = (entries: Iterable<RowEntry>): RowEntry[] => {
    const out: RowEntry[] = [];
    for (const e of entries) {
      if (e[1] >= within.to) break;
      if (!rowMatches(e, within)) continue;
      out.push(e);
      last = e;
    }
    return out;
  };
  let fellBack = false;
  try {
    for await (const chunk of chunksOf(c.episodePacks, header, first)) {
      const out = matching(mergeStartOrder(chunk, tail, tailKeys, state));
      if (out.length > 0) yield out;
      if (chunk.length > 0 && chunk[chunk.length - 1]![1] >= within.to) break;
    }
    const rest = matching(tailRest(tail, state));
    if (rest.length > 0) yield rest;
  } catch (error) {
    if (!(error instanceof ChunkGone)) throw error;
    fellBack = true;
    // The rest of the month as rows, from just after the last entry given (rows are in the same order).
    const after = last === undefined ? undefined : { startedAt: last[1], id: `conv:${f.accountId}:${last[0]}` };
    yield* rowsAsEntries(c.episodes, within, after);
  }
  read?.({ month, pack: header._id, tailRows: tail.length, fellBack });
}

/** Every row of the range that passes the filter, month by month, in start order, as entries in batches. */
export async function* rangeRowEntries(c: RowPackCollections, f: EpisodeFilter, reads?: MonthExport[]): AsyncGenerator<RowEntry[]> {
  for (const month of monthsOf(f.from, f.to)) yield* monthRowEntries(c, month, f, (r) => reads?.push(r));
}

/** What a row pack build did: the pack written, whether it was made from the previous pack, how many rows. */
export interface RowPackBuild {
  packed: string;
  from: string | null;
  rows: number;
  tailRows: number;
}

/**
 * Builds and inserts a new row pack of a month: from its newest row pack and the rows written since (a
 * merge, one chunk at a time), or, without one (or when a chunk of it is gone mid-build), from the
 * month's rows. Mark: when the build began to read rows, less the margin. Then prunes all but `keep`.
 */
export async function writeRowPack(c: RowPackCollections, accountId: string, month: string, options: PackOptions & { rowChunkChars?: number } = {}): Promise<RowPackBuild> {
  const now = options.now ?? Date.now;
  const keep = Math.max(1, options.keep ?? 2);
  const previous = await newestRowPack(c.episodePacks, accountId, month);
  if (previous !== null) {
    try {
      return await buildFrom(c, accountId, month, previous, options, now, keep);
    } catch (error) {
      if (!(error instanceof ChunkGone)) throw error;
    }
  }
  return buildFrom(c, accountId, month, null, options, now, keep);
}

async function buildFrom(c: RowPackCollections, accountId: string, month: string, previous: RowPackHeaderDoc | null, options: PackOptions & { rowChunkChars?: number }, now: () => number, keep: number): Promise<RowPackBuild> {
  // Before the rows are read: every write that lands after this moment is in a later tail.
  const began = now();
  const mark = new Date(began - (options.marginMs ?? 60_000)).toISOString();
  const id = episodePackDocId(accountId, month, mark, randomBytes(6).toString('hex'));
  const builder = new ChunkBuilder<RowEntry>(options.rowChunkChars ?? defaultRowChunkChars);
  const firsts: string[] = [];
  let written = 0;
  let rows = 0;
  let chunkFirst: string | undefined;
  const put = async (text: string | null) => {
    if (text === null) return;
    await c.episodePacks.rowChunks.insertOne({ _id: episodePackChunkDocId(id, written), entries: text });
    firsts.push(chunkFirst!);
    written += 1;
  };
  const add = async (e: RowEntry) => {
    const full = builder.add(e);
    if (full !== null) {
      await put(full);
      chunkFirst = undefined;
    }
    chunkFirst ??= e[1];
    rows += 1;
  };
  let tailRows = 0;
  try {
    if (previous === null) {
      for await (const page of rowsAsEntries(c.episodes, { accountId, ...monthRange(month) })) for (const e of page) await add(e);
    } else {
      const byKey = await tailOf(c.episodes, accountId, month, previous.mark);
      const tail = sortTail(byKey);
      tailRows = tail.length;
      const tailKeys = new Set(byKey.keys());
      const state = { next: 0 };
      for await (const chunk of chunksOf(c.episodePacks, previous)) for (const e of mergeStartOrder(chunk, tail, tailKeys, state)) await add(e);
      for (const e of tailRest(tail, state)) await add(e);
    }
    await put(builder.finish());
  } catch (error) {
    // Chunks of a pack that will have no header are never read: delete them (best effort) and give up.
    for (let n = 0; n < written; n++) await c.episodePacks.rowChunks.deleteOne({ _id: episodePackChunkDocId(id, n) }).catch(() => undefined);
    throw error;
  }
  await c.episodePacks.rowHeaders.insertOne({ _id: id, accountId, month, mark, chunks: written, rows, firsts, builtAt: new Date(now()).toISOString() });
  await prunePacks({ headers: c.episodePacks.rowHeaders, chunks: c.episodePacks.rowChunks }, accountId, month, keep);
  return { packed: id, from: previous?._id ?? null, rows, tailRows };
}
