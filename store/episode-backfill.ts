import type { Db } from 'mongodb';
import { collections } from './collections';
import { episodeDoc, episodeRecords, insertEpisodeRowOnce, readEpisodeRows } from './episodes';
import { newestAccountPolicy } from './policy-versions';
import { foldContextOf, foldEpisode } from '../workflows/conversation/core/episode-fold';
import type { Policy } from '../workflows/conversation/core/policy';
import { defaultPolicy } from '../workflows/conversation/core/policy';

/**
 * The backfill of SPEC 11's episode rows (README "Reports"): for every conversation view, every episode
 * that has no row is folded from the conversation's stored events and messages (core/episode-fold.ts,
 * the fold `persist` runs) and inserted once. A row is never replaced: one that exists, or that the
 * conversation's own `persist` writes first, wins (insert-once, store/DESIGN.md), and a `persist`
 * that finds a row the backfill inserted folds on from it. `dryRun` writes nothing and reports what it
 * would write.
 *
 * What the records cannot say for episodes before the current one: `priority`, `tags` and `team` are
 * not events, so those rows get `normal`, [] and null; the current episode's come from its view.
 */
export interface BackfillOptions {
  dryRun: boolean;
  /** Only this account's conversations. */
  accountId?: string | undefined;
  /** One line per row written (or that would be). */
  report?: (line: string) => void;
  /** Conversations read per page. */
  pageSize?: number;
}

export interface BackfillResult {
  conversations: number;
  /** Episodes that already had a row. */
  existing: number;
  /** Rows written (with `dryRun`: that would be). */
  written: number;
  /** Rows the conversation's own persist wrote between the backfill's read and its insert. */
  raced: number;
}

export async function backfillEpisodes(db: Db, options: BackfillOptions): Promise<BackfillResult> {
  const c = collections(db);
  const result: BackfillResult = { conversations: 0, existing: 0, written: 0, raced: 0 };
  const policies = new Map<string, Policy>();
  const policyOf = async (accountId: string): Promise<Policy> => {
    let policy = policies.get(accountId);
    if (policy === undefined) {
      policy = (await newestAccountPolicy(c.accounts, c.policyVersions, accountId)) ?? defaultPolicy;
      policies.set(accountId, policy);
    }
    return policy;
  };
  let after: string | undefined;
  const pageSize = options.pageSize ?? 200;
  for (;;) {
    const filter = { ...(options.accountId !== undefined ? { accountId: options.accountId } : {}), ...(after !== undefined ? { _id: { $gt: after } } : {}) };
    const views = await c.conversations.find(filter, { projection: { _id: 1, accountId: 1, channel: 1, customer: 1, episode: 1, priority: 1, tags: 1, team: 1 } }).sort({ _id: 1 }).limit(pageSize).toArray();
    for (const view of views) {
      result.conversations += 1;
      const numbers = Array.from({ length: view.episode ?? 0 }, (_, i) => i + 1);
      if (numbers.length === 0) continue;
      const stored = await readEpisodeRows(c.episodes, view._id, numbers);
      result.existing += stored.size;
      const missing = numbers.filter((n) => !stored.has(n));
      if (missing.length === 0) continue;
      const policy = await policyOf(view.accountId);
      const who = { conversationId: view._id, accountId: view.accountId, channel: view.channel, customer: view.customer };
      for (const episode of missing) {
        const records = await episodeRecords(c, view._id, episode);
        const ctx = foldContextOf(policy, { episode: view.episode, priority: view.priority ?? 'normal', tags: view.tags ?? [], team: view.team ?? null });
        const row = foldEpisode(null, who, episode, records, ctx);
        if (row === null) continue;
        const doc = episodeDoc(row, 0);
        if (!options.dryRun && !(await insertEpisodeRowOnce(c, doc))) {
          result.raced += 1;
          continue;
        }
        result.written += 1;
        options.report?.(
          `${options.dryRun ? 'would write' : 'wrote'} ${doc._id}: started ${row.startedAt}, ${row.resolvedAt === null ? 'open' : `ended ${row.resolvedAt} (${row.closedReason ?? 'closed'})`}, ` +
            `${row.customerMessages} customer and ${row.userMessages} user messages, ${row.assignees.length} stints`,
        );
      }
    }
    const last = views.at(-1);
    if (views.length < pageSize || last === undefined) return result;
    after = last._id;
  }
}
