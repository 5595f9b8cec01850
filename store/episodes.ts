import type { Collection, Db, Filter } from 'mongodb';
import type { EpisodeRow } from '../workflows/conversation/core/episode-fold';
import type { MessageRecord, TransitionEvent } from '../workflows/conversation/core/model';
import type { EventDoc, MessageDoc } from './documents';
import { episodeDocId, episodeMonthDocId } from './ids';
import { insertNew, insertOnce, isDuplicateKeyError } from './writes';
import { timelineAfter } from './timeline';
import { monthOf } from '../workflows/conversation/core/episode-packs';

/**
 * Episode rows (SPEC 11, core/episode-fold.ts): one document per episode, `_id`
 * `{conversationId}/{episode}`, written only by that conversation's `persist` (one writer per row, its
 * batches in order) and, for episodes that have no row, inserted once by the backfill command.
 *
 * `version` is the conversation view's version of the batch that wrote the row last: rows move only
 * forwards along it, the way views do (`ConditionalWrites`, store/collections.ts). The fold itself
 * skips records it has folded (`fold.lastEventSeq`/`lastMessageSeq`), so a retried batch changes nothing.
 *
 * Shape (store/DESIGN.md "Reports (SPEC 11)"): FerretDB decodes every field of every document it reads,
 * and a row as nested fields (stints, SLA outcomes, the fold's state with its arrays) cost about 0.7 ms
 * each. So a row is written compact (`CompactEpisodeDoc`): as fields only what a query filters, sorts
 * or indexes, the row as one JSON text, the fold's state (read only by `persist`) as another. Rows
 * written before (`LegacyEpisodeDoc`, the row's fields as fields) are read as they are, and are
 * rewritten compact at their next write.
 *
 * Reads: the reports page through `find({ accountId, startedAt: range[, channel] }).sort({ startedAt, _id })
 * .limit(n)` on `account_started` / `account_channel_started`: string equalities, then an ISO-8601
 * string and `_id` as the sort, which is the shape FerretDB's top-N pushdown serves from the index
 * (dev/ferretdb-pushdown/README.md) and MongoDB from its B-tree. `assignee` and `team` filter inside
 * that scan (an array in an index key would make every row "odd" for the pushdown). The summary's
 * packs read the rows written since a moment through `account_month_written` (`writtenSince`).
 */
export interface CompactEpisodeDoc {
  _id: string;
  accountId: string;
  startedAt: string;
  channel: string;
  /**
   * Every user with a stint, each once: what `assignee=` and `team=` match, as plain array elements
   * (an equality on an array of strings, which FerretDB evaluates as MongoDB does, not a dotted path
   * into an array of documents).
   */
  assigneeIds: string[];
  /** Every team that held the episode (`team=`). */
  teams: string[];
  version: number;
  /** `YYYY-MM` of `startedAt` (UTC): the pack the row belongs to (store/episode-packs.ts). */
  month: string;
  /** When this write was made (ISO-8601, the writer's clock just before it): a pack's tail is the rows written since its mark. */
  writtenAt: string;
  /** The row's report fields (`EpisodeRow` without `fold`) as JSON text, in `reportKeys` order. */
  row: string;
  /** The fold's state (`EpisodeRow['fold']`) as JSON text: read by `persist` only. */
  state: string;
}

/** A row as written before rows were compact: the row's fields as fields. */
export interface LegacyEpisodeDoc extends EpisodeRow {
  _id: string;
  version: number;
  updatedAt?: Date;
  assigneeIds: string[];
}

/** A stored document of `episodes`, of either shape. */
export type EpisodeDoc = CompactEpisodeDoc | LegacyEpisodeDoc;

/** A row as read back, of either shape: the row, its fold state, and the document's `_id` and `version`. */
export type StoredEpisode = EpisodeRow & { _id: string; version: number; assigneeIds: string[] };

/** A row without its fold state (what the report routes read: `readProjection` leaves the state out). */
export type ReportRow = Omit<EpisodeRow, 'fold'> & { _id: string };

/** The row's report fields in one fixed order, so the JSON text of an unchanged row is the same text. */
const reportKeys = [
  'conversationId',
  'accountId',
  'episode',
  'channel',
  'customer',
  'startedAt',
  'firstAssignedAt',
  'firstResponseAt',
  'firstResponseSeconds',
  'businessFirstResponseSeconds',
  'resolvedAt',
  'resolutionSeconds',
  'closedReason',
  'assignees',
  'customerMessages',
  'userMessages',
  'reopenedFrom',
  'sla',
  'csat',
  'priority',
  'tags',
  'team',
  'teams',
] as const satisfies readonly Exclude<keyof EpisodeRow, 'fold'>[];
// Every field of a row but its fold state is in `reportKeys`: a new field of EpisodeRow breaks the build here.
const everyReportKey: [Exclude<keyof EpisodeRow, 'fold' | (typeof reportKeys)[number]>] extends [never] ? true : never = true;
void everyReportKey;

/** The row's report fields as JSON text (`CompactEpisodeDoc.row`). */
export function rowText(row: Omit<EpisodeRow, 'fold'>): string {
  const out: Record<string, unknown> = {};
  for (const k of reportKeys) out[k] = row[k] ?? null;
  return JSON.stringify(out);
}

/** The compact document of a folded row, written with the view of version `version` (0: by the backfill). */
export function episodeDoc(row: EpisodeRow, version: number): CompactEpisodeDoc {
  return {
    _id: episodeDocId(row.conversationId, row.episode),
    accountId: row.accountId,
    startedAt: row.startedAt,
    channel: row.channel,
    assigneeIds: [...new Set(row.assignees.map((s) => s.userId))],
    teams: [...row.teams],
    version,
    month: monthOf(row.startedAt),
    writtenAt: new Date().toISOString(),
    row: rowText(row),
    state: JSON.stringify(row.fold),
  };
}

const isCompact = (doc: EpisodeDoc): doc is CompactEpisodeDoc => typeof (doc as Partial<CompactEpisodeDoc>).row === 'string';

/** A stored document as a row with its fold state, of either shape. */
export function storedEpisode(doc: EpisodeDoc): StoredEpisode {
  if (isCompact(doc)) return { ...(JSON.parse(doc.row) as Omit<EpisodeRow, 'fold'>), fold: JSON.parse(doc.state) as EpisodeRow['fold'], _id: doc._id, version: doc.version, assigneeIds: doc.assigneeIds ?? [] };
  return withDefaults(doc);
}

/** A stored document (read with `readProjection`) as a report row, of either shape. */
export function reportRow(doc: EpisodeDoc): ReportRow {
  if (isCompact(doc)) return { ...(JSON.parse(doc.row) as Omit<EpisodeRow, 'fold'>), _id: doc._id };
  const { fold: _fold, version: _v, assigneeIds: _a, ...row } = withDefaults({ ...doc, fold: doc.fold ?? ({} as EpisodeRow['fold']) });
  return row;
}

/** What the report routes read of a document: all but the fold's state (which only `persist` reads). */
export const readProjection = { state: 0, fold: 0 } as const;

export const episodesCollection = (db: Db): Collection<EpisodeDoc> => db.collection<EpisodeDoc>('episodes');

/** The stored rows of some episodes of one conversation, by episode (point reads by `_id`). */
export async function readEpisodeRows(episodes: Collection<EpisodeDoc>, conversationId: string, numbers: readonly number[]): Promise<Map<number, StoredEpisode>> {
  const found = await Promise.all(numbers.map((n) => episodes.findOne({ _id: episodeDocId(conversationId, n) })));
  const out = new Map<number, StoredEpisode>();
  for (const doc of found) {
    if (doc === null) continue;
    const row = storedEpisode(doc);
    out.set(row.episode, row);
  }
  return out;
}

/** A row of the older shape with the fields an older writer (or FerretDB's dropped nulls) left out. */
export function withDefaults(doc: LegacyEpisodeDoc): StoredEpisode {
  const { updatedAt: _u, ...rest } = doc;
  return {
    ...rest,
    firstAssignedAt: doc.firstAssignedAt ?? null,
    firstResponseAt: doc.firstResponseAt ?? null,
    firstResponseSeconds: doc.firstResponseSeconds ?? null,
    businessFirstResponseSeconds: doc.businessFirstResponseSeconds ?? null,
    resolvedAt: doc.resolvedAt ?? null,
    resolutionSeconds: doc.resolutionSeconds ?? null,
    closedReason: doc.closedReason ?? null,
    assignees: (doc.assignees ?? []).map((s) => ({ userId: s.userId, from: s.from, to: s.to ?? null, firstReplySeconds: s.firstReplySeconds ?? null })),
    reopenedFrom: doc.reopenedFrom ?? null,
    csat: doc.csat ?? null,
    tags: doc.tags ?? [],
    team: doc.team ?? null,
    teams: doc.teams ?? [],
    assigneeIds: doc.assigneeIds ?? [],
    fold: {
      ...doc.fold,
      status: doc.fold.status ?? null,
      firstCustomerMs: doc.fold.firstCustomerMs ?? null,
      flowSinceMs: doc.fold.flowSinceMs ?? null,
      flowSpans: doc.fold.flowSpans ?? [],
      breached: doc.fold.breached ?? [],
      endedMs: doc.fold.endedMs ?? null,
    },
  };
}

/**
 * `episode_months`: one document per account and month that has rows, so the pack builder
 * (store/episode-pack-builder.ts) finds the months to look at by an index, never by reading the rows.
 */
export interface EpisodeMonthDoc {
  _id: string;
  accountId: string;
  month: string;
}

/** What a row's writer writes to: the rows, and the months that have some. */
export interface RowWriteCollections {
  episodes: Collection<EpisodeDoc>;
  episodeMonths: Collection<EpisodeMonthDoc>;
}

// Months this process has noted, per database: one insert per process, account and month, not one per write.
const notedMonths = new Set<string>();

/** Notes that an account's month has rows: insert-once (a taken `_id` is the same fact), once per process. */
export async function noteEpisodeMonth(months: Collection<EpisodeMonthDoc>, accountId: string, month: string): Promise<void> {
  const key = `${months.dbName}/${accountId}/${month}`;
  if (notedMonths.has(key)) return;
  await insertOnce(months, [{ _id: episodeMonthDocId(accountId, month), accountId, month }]);
  if (notedMonths.size >= 100_000) notedMonths.clear();
  notedMonths.add(key);
}

/**
 * Writes a row forwards: not when the stored one was written by a later batch (`stored`, read before
 * the fold; `filter` mode checks in the write itself). A first write that collides with one made
 * meanwhile is done when that one is at least as new (the other attempt of this same batch, racing);
 * one older than the batch (the backfill's, version 0) throws, so the batch is retried and folds on
 * from that row. `writtenAt` is stamped here, right before the write, so that a pack's safety margin
 * (store/episode-packs.ts) only has to cover one round trip and the clocks' skew.
 */
export async function writeEpisodeRow(c: RowWriteCollections, unstamped: CompactEpisodeDoc, stored: { version: number } | undefined, mode: 'filter' | 'read-then-write'): Promise<'written' | 'stale'> {
  if (stored !== undefined && stored.version > unstamped.version) return 'stale';
  const episodes = c.episodes;
  // Before the row: a month is never left out of the builder's walk because its writer died between the two.
  await noteEpisodeMonth(c.episodeMonths, unstamped.accountId, unstamped.month);
  const doc: CompactEpisodeDoc = { ...unstamped, writtenAt: new Date().toISOString() };
  try {
    if (mode === 'filter') await episodes.replaceOne({ _id: doc._id, version: { $lte: doc.version } }, doc, { upsert: true });
    else if (stored !== undefined) await episodes.replaceOne({ _id: doc._id }, doc);
    else await episodes.insertOne(doc);
    return 'written';
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const now = await episodes.findOne({ _id: doc._id }, { projection: { version: 1 } });
    if (now !== null && now.version >= doc.version) return 'stale';
    throw error;
  }
}

/** Inserts a row only if the episode has none (the backfill): false when one is there. */
export async function insertEpisodeRowOnce(c: RowWriteCollections, doc: CompactEpisodeDoc): Promise<boolean> {
  await noteEpisodeMonth(c.episodeMonths, doc.accountId, doc.month);
  return insertNew(c.episodes, { ...doc, writtenAt: new Date().toISOString() });
}

/**
 * A conversation's records of one episode with seqs inside the bounds, in seq order (at most
 * `episodeRecordsLimit` of each): what a row missed (core/episode-fold.ts `missingBefore`). Served by the
 * `conversation_pos` indexes (store/timeline.ts).
 */
const episodeRecordsLimit = 100_000;

export async function episodeRecords(
  c: { events: Collection<EventDoc>; messages: Collection<MessageDoc> },
  conversationId: string,
  episode: number,
  bounds: { eventsAfter: number; eventsBefore: number; messagesAfter: number; messagesBefore: number } = { eventsAfter: 0, eventsBefore: Infinity, messagesAfter: 0, messagesBefore: Infinity },
): Promise<{ events: TransitionEvent[]; messages: MessageRecord[] }> {
  const [events, messages] = await Promise.all([
    timelineAfter(c.events, conversationId, bounds.eventsAfter, episodeRecordsLimit, { filter: { episode }, before: bounds.eventsBefore }),
    timelineAfter(c.messages, conversationId, bounds.messagesAfter, episodeRecordsLimit, { filter: { episode }, before: bounds.messagesBefore }),
  ]);
  return { events: events.map(({ _id, conversationId: _c, accountId: _a, ...e }) => e), messages: messages.map(({ _id, conversationId: _c, accountId: _a, ...m }) => m) };
}

export interface EpisodeFilter {
  accountId: string;
  /** ISO-8601, inclusive. */
  from: string;
  /** ISO-8601, exclusive. */
  to: string;
  channel?: string | undefined;
  assignee?: string | undefined;
  /** `team=`: rows the team held, or with a stint by one of `members`. */
  team?: { team: string; members: string[] } | undefined;
}

/** Where a page starts: after the row with this `startedAt` and `_id`. */
export interface EpisodeCursor {
  startedAt: string;
  id: string;
}

function filterOf(f: EpisodeFilter, after: EpisodeCursor | undefined): Filter<EpisodeDoc> {
  const and: Record<string, unknown>[] = [];
  if (after !== undefined) and.push({ $or: [{ startedAt: { $gt: after.startedAt } }, { startedAt: after.startedAt, _id: { $gt: after.id } }] });
  if (f.team !== undefined) and.push({ $or: [{ teams: f.team.team }, ...(f.team.members.length > 0 ? [{ assigneeIds: { $in: f.team.members } }] : [])] });
  return {
    accountId: f.accountId,
    // The bound the pushdown reads the index from: the cursor's, when it is later than `from`.
    startedAt: { $gte: after !== undefined && after.startedAt > f.from ? after.startedAt : f.from, $lt: f.to },
    ...(f.channel !== undefined ? { channel: f.channel } : {}),
    ...(f.assignee !== undefined ? { assigneeIds: f.assignee } : {}),
    ...(and.length > 0 ? { $and: and } : {}),
  } as Filter<EpisodeDoc>;
}

/** One page of rows in `startedAt`, `_id` order, `limit + 1` to tell whether more follow. */
export function episodesPage(episodes: Collection<EpisodeDoc>, f: EpisodeFilter, after: EpisodeCursor | undefined, limit: number, projection?: Record<string, 0 | 1>): Promise<EpisodeDoc[]> {
  return episodes
    .find(filterOf(f, after), projection ? { projection } : {})
    .sort({ startedAt: 1, _id: 1 })
    .limit(limit + 1)
    .toArray();
}

/**
 * Every row of the range, in order, page by page (bounded pages, each a sorted, limited find the
 * indexes serve): what the CSV export reads, never the whole range at once. The next page is asked for
 * while the caller works through this one, so the store's decoding and the caller's work overlap (two
 * pages held at most).
 */
export async function* allEpisodes(episodes: Collection<EpisodeDoc>, f: EpisodeFilter, pageSize = 1000, projection?: Record<string, 0 | 1>, after?: EpisodeCursor): AsyncGenerator<EpisodeDoc> {
  let next: Promise<EpisodeDoc[]> | undefined = episodesPage(episodes, f, after, pageSize, projection);
  while (next !== undefined) {
    const page: EpisodeDoc[] = await next;
    const rows = page.slice(0, pageSize);
    const last = rows.at(-1);
    next = page.length > pageSize && last !== undefined ? episodesPage(episodes, f, { startedAt: last.startedAt, id: last._id }, pageSize, projection) : undefined;
    // A caller that stops early leaves a read in flight: it settles on its own, its rejection is not unhandled.
    next?.catch(() => undefined);
    for (const row of rows) yield row;
  }
}

/** Where a read of rows written since a moment goes on: after this `writtenAt` and `_id`. */
interface WrittenCursor {
  writtenAt: string;
  id: string;
}

/**
 * The compact rows of one account and month written at or after `since` (ISO-8601), in write order,
 * page by page: a pack's tail (store/episode-packs.ts). `account_month_written`: two string equalities,
 * then `writtenAt` and `_id` as the sort, the pushdown's shape. Rows of the older shape have no `month`
 * and are never here; a month without a pack is read by its range of `startedAt` instead.
 */
export async function* writtenSince(episodes: Collection<EpisodeDoc>, accountId: string, month: string, since: string, pageSize = 1000): AsyncGenerator<CompactEpisodeDoc> {
  let after: WrittenCursor | undefined;
  for (;;) {
    const filter = {
      accountId,
      month,
      writtenAt: { $gte: after !== undefined && after.writtenAt > since ? after.writtenAt : since },
      ...(after !== undefined ? { $or: [{ writtenAt: { $gt: after.writtenAt } }, { writtenAt: after.writtenAt, _id: { $gt: after.id } }] } : {}),
    };
    const page = (await episodes
      .find(filter as Filter<EpisodeDoc>, { projection: { _id: 1, writtenAt: 1, row: 1 } })
      .sort({ writtenAt: 1, _id: 1 })
      .limit(pageSize + 1)
      .toArray()) as CompactEpisodeDoc[];
    const rows = page.slice(0, pageSize);
    for (const row of rows) yield row;
    const last = rows.at(-1);
    if (page.length <= pageSize || last === undefined) return;
    after = { writtenAt: last.writtenAt, id: last._id };
  }
}
