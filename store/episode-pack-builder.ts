import type { Collection } from 'mongodb';
import type { EpisodeDoc, EpisodeMonthDoc } from './episodes';
import type { EpisodePackCollections, MonthRead, PackOptions } from './episode-packs';
import { monthEntries } from './episode-packs';
import type { RowPackBuild } from './episode-row-packs';
import { newestRowPack, writeRowPack } from './episode-row-packs';
import { episodePackClaimDocId } from './ids';
import { insertNew } from './writes';

/**
 * SPEC 11's packs built in the background (store/DESIGN.md "Reports (SPEC 11)"), so that a summary or a
 * CSV export meets a long tail only right after a burst of row writes, never a month read row by row
 * because nobody had read it yet.
 *
 * Each tick walks the next `monthsPerTick` months that have rows (`episode_months`, in `_id` order from
 * where the last tick stopped, through the `account_id` index: no collection is read whole), and for each
 * reads the newest summary pack's and row pack's headers and counts the month's rows written since each
 * mark, stopping at the repack threshold (`account_month_written`: a limited, sorted index read). A month
 * whose tail is at least `repackAfter` rows and a 50th of the pack (the summary's own rule), or that has
 * rows and no pack, is due; the tick builds at most `buildsPerTick` of them.
 *
 * Several API processes: before building, a process claims the month for the current time slot
 * (`episode_pack_claims/{accountId}/{month}/{slot}`, insert-once: exactly one wins), so of processes that
 * find the same month due at once one builds and the others go on; the next slot (and the next tick)
 * finds its tail short. A build that outlives its slot may meet a second builder of the next slot: both
 * insert their own pack (insert-once, random `_id`), which is correct, only wasted work.
 */
export interface PackBuilderOptions extends PackOptions {
  /** Months looked at per tick (default 50). */
  monthsPerTick?: number;
  /** Months built per tick (default 1): a build of a busy month reads tens of thousands of rows. */
  buildsPerTick?: number;
  /** The claim's time slot (default one minute): at most one build of a month per slot across processes. */
  claimMs?: number;
  rowChunkChars?: number;
}

type BuilderCollections = { episodes: Collection<EpisodeDoc>; episodeMonths: Collection<EpisodeMonthDoc>; episodePacks: EpisodePackCollections };

/** What one tick looked at and built. */
export interface BuilderTick {
  checked: number;
  built: { accountId: string; month: string; summary: MonthRead | null; rows: RowPackBuild | null }[];
  /** Months due that another process had claimed for this slot. */
  claimedElsewhere: number;
}

/** The repack rule of store/episode-packs.ts `monthEntries`: at least `repackAfter` rows and a 50th of the pack. */
const threshold = (repackAfter: number, packRows: number): number => Math.max(1, repackAfter, Math.ceil(packRows / 50));

/** Whether at least `n` of the month's rows were written at or after `mark` ('' : ever): reads at most `n` index entries. */
async function tailAtLeast(episodes: Collection<EpisodeDoc>, accountId: string, month: string, mark: string, n: number): Promise<boolean> {
  const found = await episodes
    .find({ accountId, month, writtenAt: { $gte: mark } }, { projection: { _id: 1 } })
    .sort({ writtenAt: 1, _id: 1 })
    .limit(n)
    .toArray();
  return found.length >= n;
}

/**
 * Which of a month's packs are due: a month without one that has `repackAfter` compact rows (a read of
 * fewer is cheap; rows of the older shape are not counted: they have no `month` until their next write),
 * or one whose tail reached the threshold.
 */
export async function monthDue(c: BuilderCollections, accountId: string, month: string, repackAfter = 500): Promise<{ summary: boolean; rows: boolean }> {
  const [[summary], rows] = await Promise.all([c.episodePacks.headers.find({ accountId, month }).sort({ _id: -1 }).limit(1).toArray(), newestRowPack(c.episodePacks, accountId, month)]);
  const due = (header: { mark: string; rows: number } | null | undefined) =>
    header === null || header === undefined ? tailAtLeast(c.episodes, accountId, month, '', threshold(repackAfter, 0)) : tailAtLeast(c.episodes, accountId, month, header.mark, threshold(repackAfter, header.rows));
  const [s, r] = await Promise.all([due(summary), due(rows)]);
  return { summary: s, rows: r };
}

/**
 * The background builder's state: where its walk of the months stands. `tick` is one bounded round; the
 * API process runs it on an interval (api/report-pack-builder.ts).
 */
export class PackBuilder {
  private after: string | undefined;

  constructor(
    private readonly c: BuilderCollections,
    private readonly options: PackBuilderOptions = {},
  ) {}

  async tick(): Promise<BuilderTick> {
    const now = this.options.now ?? Date.now;
    const limit = this.options.monthsPerTick ?? 50;
    const result: BuilderTick = { checked: 0, built: [], claimedElsewhere: 0 };
    const months = await this.nextMonths(limit);
    for (const { accountId, month, _id } of months) {
      if (result.built.length >= (this.options.buildsPerTick ?? 1)) break;
      this.after = _id;
      result.checked += 1;
      const due = await monthDue(this.c, accountId, month, this.options.repackAfter);
      if (!due.summary && !due.rows) continue;
      if (!(await this.claim(accountId, month, now()))) {
        result.claimedElsewhere += 1;
        continue;
      }
      // The summary's pack through its own read (which repacks a long tail by the same rule); then the rows'.
      const summary = due.summary ? (await monthEntries(this.c, accountId, month, this.options)).read : null;
      const rows = due.rows ? await writeRowPack(this.c, accountId, month, this.options) : null;
      result.built.push({ accountId, month, summary, rows });
    }
    return result;
  }

  /** The next months of the walk, in `_id` order, starting again from the first after the last. */
  private async nextMonths(limit: number): Promise<EpisodeMonthDoc[]> {
    const page = async (after: string | undefined) => {
      // The `account_id` index ({ accountId, _id }, no equality): `accountId` bounds the read, `_id` the cursor.
      const filter = after === undefined ? {} : { accountId: { $gte: after.slice(0, after.lastIndexOf('/')) }, _id: { $gt: after } };
      return this.c.episodeMonths.find(filter).sort({ accountId: 1, _id: 1 }).limit(limit).toArray();
    };
    const months = await page(this.after);
    if (months.length < limit && this.after !== undefined) {
      const seen = new Set(months.map((m) => m._id));
      for (const m of await page(undefined)) if (months.length < limit && !seen.has(m._id)) months.push(m);
    }
    return months;
  }

  /** Claims a month for the current slot: true for exactly one of racing processes. */
  private async claim(accountId: string, month: string, at: number): Promise<boolean> {
    const slotMs = this.options.claimMs ?? 60_000;
    const slot = new Date(Math.floor(at / slotMs) * slotMs).toISOString();
    if (!(await insertNew(this.c.episodePacks.claims, { _id: episodePackClaimDocId(accountId, month, slot), claimedAt: new Date(at).toISOString() }))) return false;
    // The slot before is over: its claim (if any) is dropped, so claims stay about one per month built lately.
    await this.c.episodePacks.claims.deleteOne({ _id: episodePackClaimDocId(accountId, month, new Date(Date.parse(slot) - slotMs).toISOString()) });
    return true;
  }
}
