import type { Logger } from 'pino';
import type { Collections, ConditionalWrites } from '../store/collections';
import type { CompactEpisodeDoc, StoredEpisode } from '../store/episodes';
import { episodeDoc, episodeRecords, readEpisodeRows, rowText, writeEpisodeRow } from '../store/episodes';
import type { EpisodeRecords, EpisodeRow } from '../workflows/conversation/core/episode-fold';
import { episodesOf, foldContextOf, foldEpisode, missingBefore } from '../workflows/conversation/core/episode-fold';
import type { MessageRecord, TransitionEvent } from '../workflows/conversation/core/model';
import type { Policy } from '../workflows/conversation/core/policy';
import type { ConversationView } from '../workflows/conversation/core/view';

/** What of a `persist` batch the rows read. */
export interface RowsBatch {
  view: ConversationView;
  events: TransitionEvent[];
  messages: MessageRecord[];
}

/**
 * SPEC 11's episode rows, kept by the conversation's own `persist` (the rows' one writer): for each
 * episode a batch touches, read its row by `_id`, read from the store whatever the row has not folded
 * yet and the batch does not hold (a row that fell behind, an episode that began before rows existed),
 * fold (core/episode-fold.ts), and write it forwards beside the view.
 *
 * The reads run beside the timeline's writes and the write beside the view's, so a batch costs no more
 * round trips than before: one point read and one write per episode it touches (one, nearly always).
 * A fault in the fold itself (not in the store) is logged and leaves the rows as they were, never
 * holding up the conversation's views: the next batch finds the gap and folds it again.
 */
export interface EpisodeRowsDeps {
  c: Collections;
  log: Logger;
  /** The account's policy: business hours and SLA targets (cached by the caller). */
  policyOf: (accountId: string) => Promise<Policy>;
}

export interface PreparedRows {
  docs: { doc: CompactEpisodeDoc; stored: StoredEpisode | undefined }[];
}

export function createEpisodeRows({ c, log, policyOf }: EpisodeRowsDeps) {
  return {
    /** Reads and folds: the rows this batch moves, not yet written. */
    async prepare({ view, events, messages }: RowsBatch): Promise<PreparedRows> {
      const records: EpisodeRecords = { events, messages };
      const numbers = new Set(episodesOf(records));
      if (view.episode > 0) numbers.add(view.episode);
      if (numbers.size === 0) return { docs: [] };
      const who = { conversationId: view.id, accountId: view.accountId, channel: view.channel, customer: view.customer };
      const [stored, policy] = await Promise.all([readEpisodeRows(c.episodes, view.id, [...numbers]), policyOf(view.accountId)]);
      const ctx = foldContextOf(policy, { episode: view.episode, priority: view.priority ?? 'normal', tags: view.tags ?? [], team: view.team ?? null });
      const docs: PreparedRows['docs'] = [];
      for (const episode of numbers) {
        const before = stored.get(episode);
        const inBatch = episodesOf(records).includes(episode);
        // A view-only batch (a priority, a tag) moves only a row that exists.
        if (!inBatch && before === undefined) continue;
        const missing = inBatch ? missingBefore(before ?? null, episode, records) : null;
        const earlier = missing === null ? null : await episodeRecords(c, view.id, episode, missing);
        let row: EpisodeRow | null;
        try {
          row = before ?? null;
          if (earlier !== null) row = foldEpisode(row, who, episode, earlier, ctx);
          row = foldEpisode(row, who, episode, records, ctx);
        } catch (error) {
          log.error({ err: error, conversationId: view.id, episode }, 'episode row not folded; the next batch folds it again');
          continue;
        }
        if (row === null) continue;
        // A batch that moves nothing of the row (a delivery receipt, most view-only changes) writes nothing.
        if (before !== undefined && sameRow(before, row)) continue;
        docs.push({ doc: episodeDoc(row, view.version), stored: before });
      }
      return { docs };
    },

    /** Writes what `prepare` folded, forwards only. */
    async write(prepared: PreparedRows, mode: ConditionalWrites): Promise<void> {
      await Promise.all(prepared.docs.map(({ doc, stored }) => writeEpisodeRow(c, doc, stored, mode)));
    },
  };
}

/**
 * Whether a write would change the row: its report fields and its fold state, as the text a compact
 * document holds. A row of the older shape compares unequal when its nested fields were stored in
 * another order, and is then rewritten compact: one write more, never one less.
 */
function sameRow(before: StoredEpisode, after: EpisodeRow): boolean {
  return rowText(before) === rowText(after) && JSON.stringify(before.fold) === JSON.stringify(after.fold);
}

/** A policy read at most once per `ttlMs` per account: rows follow a policy change within that. */
export function cachedPolicies(load: (accountId: string) => Promise<Policy>, ttlMs = 5_000, now: () => number = Date.now): (accountId: string) => Promise<Policy> {
  const cache = new Map<string, { at: number; policy: Promise<Policy> }>();
  return (accountId) => {
    const hit = cache.get(accountId);
    if (hit !== undefined && now() - hit.at < ttlMs) return hit.policy;
    const policy = load(accountId);
    // A failed read is not kept: the next batch asks again.
    void policy.catch(() => cache.delete(accountId));
    if (cache.size > 10_000) cache.clear();
    cache.set(accountId, { at: now(), policy });
    return policy;
  };
}
