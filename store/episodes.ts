import type { Collection, Db, Filter } from 'mongodb';
import type { EpisodeRow } from '../workflows/conversation/core/episode-fold';
import type { MessageRecord, TransitionEvent } from '../workflows/conversation/core/model';
import type { EventDoc, MessageDoc } from './documents';
import { episodeDocId } from './ids';
import { isDuplicateKeyError } from './writes';

/**
 * Episode rows (SPEC 11, core/episode-fold.ts): one document per episode, `_id`
 * `{conversationId}/{episode}`, written only by that conversation's `persist` (one writer per row, its
 * batches in order) and, for episodes that have no row, inserted once by the backfill command.
 *
 * `version` is the conversation view's version of the batch that wrote the row last: rows move only
 * forwards along it, the way views do (`ConditionalWrites`, store/collections.ts). The fold itself
 * skips records it has folded (`fold.lastEventSeq`/`lastMessageSeq`), so a retried batch changes nothing.
 *
 * Reads: the reports page through `find({ accountId, startedAt: range[, channel] }).sort({ startedAt, _id })
 * .limit(n)` on `account_started` / `account_channel_started`: string equalities, then an ISO-8601
 * string and `_id` as the sort, which is the shape FerretDB's top-N pushdown serves from the index
 * (dev/ferretdb-pushdown/README.md) and MongoDB from its B-tree. `assignee` and `team` filter inside
 * that scan (an array in an index key would make every row "odd" for the pushdown).
 */
export interface EpisodeDoc extends EpisodeRow {
  _id: string;
  version: number;
  updatedAt: Date;
  /**
   * Every user with a stint, each once: what `assignee=` and `team=` match, as plain array elements
   * (an equality on an array of strings, which FerretDB evaluates as MongoDB does, not a dotted path
   * into an array of documents).
   */
  assigneeIds: string[];
}

/** The document of a folded row, written with the view of version `version` (0: by the backfill). */
export function episodeDoc(row: EpisodeRow, version: number): EpisodeDoc {
  return { ...row, _id: episodeDocId(row.conversationId, row.episode), version, updatedAt: new Date(), assigneeIds: [...new Set(row.assignees.map((s) => s.userId))] };
}

export const episodesCollection = (db: Db): Collection<EpisodeDoc> => db.collection<EpisodeDoc>('episodes');

/** The stored rows of some episodes of one conversation, by episode (point reads by `_id`). */
export async function readEpisodeRows(episodes: Collection<EpisodeDoc>, conversationId: string, numbers: readonly number[]): Promise<Map<number, EpisodeDoc>> {
  const found = await Promise.all(numbers.map((n) => episodes.findOne({ _id: episodeDocId(conversationId, n) })));
  const out = new Map<number, EpisodeDoc>();
  for (const doc of found) if (doc !== null) out.set(doc.episode, withDefaults(doc));
  return out;
}

/** A stored row with the fields an older writer (or FerretDB's dropped nulls) left out. */
export function withDefaults(doc: EpisodeDoc): EpisodeDoc {
  return {
    ...doc,
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
 * Writes a row forwards: not when the stored one was written by a later batch (`stored`, read before
 * the fold; `filter` mode checks in the write itself). A first write that collides with one made
 * meanwhile is done when that one is at least as new (the other attempt of this same batch, racing);
 * one older than the batch (the backfill's, version 0) throws, so the batch is retried and folds on
 * from that row.
 */
export async function writeEpisodeRow(episodes: Collection<EpisodeDoc>, doc: EpisodeDoc, stored: EpisodeDoc | undefined, mode: 'filter' | 'read-then-write'): Promise<'written' | 'stale'> {
  if (stored !== undefined && stored.version > doc.version) return 'stale';
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
export async function insertEpisodeRowOnce(episodes: Collection<EpisodeDoc>, doc: EpisodeDoc): Promise<boolean> {
  try {
    await episodes.insertOne(doc);
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/**
 * A conversation's records of one episode with seqs inside the bounds, in seq order: what a row missed
 * (core/episode-fold.ts `missingBefore`). Served by the `conversation_seq` indexes.
 */
export async function episodeRecords(
  c: { events: Collection<EventDoc>; messages: Collection<MessageDoc> },
  conversationId: string,
  episode: number,
  bounds: { eventsAfter: number; eventsBefore: number; messagesAfter: number; messagesBefore: number } = { eventsAfter: 0, eventsBefore: Infinity, messagesAfter: 0, messagesBefore: Infinity },
): Promise<{ events: TransitionEvent[]; messages: MessageRecord[] }> {
  const seq = (after: number, before: number) => (Number.isFinite(before) ? { $gt: after, $lt: before } : { $gt: after });
  const [events, messages] = await Promise.all([
    c.events.find({ conversationId, episode, seq: seq(bounds.eventsAfter, bounds.eventsBefore) }).sort({ seq: 1 }).toArray(),
    c.messages.find({ conversationId, episode, seq: seq(bounds.messagesAfter, bounds.messagesBefore) }).sort({ seq: 1 }).toArray(),
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
 * indexes serve): what the CSV export and the summary read, never the whole range at once.
 */
export async function* allEpisodes(episodes: Collection<EpisodeDoc>, f: EpisodeFilter, pageSize = 1000, projection?: Record<string, 0 | 1>): AsyncGenerator<EpisodeDoc> {
  let after: EpisodeCursor | undefined;
  for (;;) {
    const page = await episodesPage(episodes, f, after, pageSize, projection);
    const rows = page.slice(0, pageSize);
    for (const row of rows) yield row;
    const last = rows.at(-1);
    if (page.length <= pageSize || last === undefined) return;
    after = { startedAt: last.startedAt, id: last._id };
  }
}
