import type { Response } from 'express';
import { once } from 'node:events';
import type { ApiDeps } from './deps';
import { loadAccount } from './accounts';
import { ApiError } from './errors';
import { mapLimit } from '../infra/map-limit';
import type { MonthRead, PackOptions } from '../store/episode-packs';
import { monthEntries } from '../store/episode-packs';
import type { EpisodeCursor, EpisodeDoc, EpisodeFilter } from '../store/episodes';
import { episodesPage, readProjection, reportRow } from '../store/episodes';
import { rangeRowEntries } from '../store/episode-row-packs';
import type { RowEntry } from '../workflows/conversation/core/episode-csv';
import { csvHeader, reportView } from '../workflows/conversation/core/episode-csv';
import { entryMatches, monthsOf, summaryRowOf } from '../workflows/conversation/core/episode-packs';
import type { GroupBy, SummaryItem } from '../workflows/conversation/core/episode-summary';
import { EpisodeSummary } from '../workflows/conversation/core/episode-summary';
import { effective } from '../workflows/conversation/core/policy';

/**
 * SPEC 11's reports (supervisors): the episode rows of a range (JSON pages, or the whole range as CSV
 * streamed page by page) and the summary, computed from the same rows by the pure
 * `EpisodeSummary` (core/episode-summary.ts) that a check recomputing it would use. No request reads a
 * whole collection: every read of rows is a bounded, sorted page of an index (store/episodes.ts). The
 * summary reads, per month of the range, the month's newest pack and the rows written since
 * (store/episode-packs.ts), and keeps the numbers its percentiles need.
 */
export interface RangeQuery {
  from: string;
  to: string;
  channel?: string | undefined;
  assignee?: string | undefined;
  team?: string | undefined;
}

const utc = (iso: string) => new Date(Date.parse(iso)).toISOString();

async function filterOf(deps: ApiDeps, accountId: string, q: RangeQuery): Promise<EpisodeFilter> {
  let team: EpisodeFilter['team'];
  if (q.team !== undefined) {
    // The team's current members (a small read of the account's users).
    const members = await deps.collections.users.find({ accountId, teams: q.team }, { projection: { userId: 1 } }).toArray();
    team = { team: q.team, members: members.map((u) => u.userId) };
  }
  return { accountId, from: utc(q.from), to: utc(q.to), channel: q.channel, assignee: q.assignee, team };
}

/** A row as the API answers it: the SPEC's fields and `team`, without the fold's bookkeeping. */
export const episodeView = (doc: EpisodeDoc) => reportView(reportRow(doc));

const encodeCursor = (c: EpisodeCursor) => Buffer.from(JSON.stringify({ s: c.startedAt, i: c.id })).toString('base64url');
function decodeCursor(text: string, accountId: string): EpisodeCursor {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as { s?: unknown; i?: unknown };
    if (typeof parsed.s === 'string' && typeof parsed.i === 'string' && parsed.i.startsWith(`conv:${accountId}:`)) return { startedAt: parsed.s, id: parsed.i };
  } catch {
    // fall through
  }
  throw new ApiError({ code: 'validation_failed', message: 'cursor: not a cursor this API returned' });
}

/** `GET .../reports/episodes` as JSON: one page, in start order, `{ items, nextCursor }`. */
export async function listEpisodes(deps: ApiDeps, accountId: string, q: RangeQuery & { limit: number; cursor?: string | undefined }) {
  const filter = await filterOf(deps, accountId, q);
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, accountId);
  const docs = await episodesPage(deps.collections.episodes, filter, after, q.limit, readProjection);
  const page = docs.slice(0, q.limit);
  const last = page.at(-1);
  return { items: page.map(episodeView), nextCursor: docs.length > q.limit && last ? encodeCursor({ startedAt: last.startedAt, id: last._id }) : null };
}

/**
 * `GET .../reports/episodes` with `Accept: text/csv`: the whole range, month by month, streamed with the
 * socket's backpressure: a month with a row pack from its pack chunk by chunk and the rows written since
 * (store/episode-row-packs.ts), a month without one page by page, so the API holds one chunk or page
 * (and a month's tail) whatever the range's size.
 */
export async function streamEpisodesCsv(deps: ApiDeps, accountId: string, q: RangeQuery, res: Response): Promise<void> {
  const filter = await filterOf(deps, accountId, q);
  const batches = rangeRowEntries(deps.collections, filter);
  // The first batch is read before the headers go, so a store that is down still answers 503.
  const first = await batches.next();
  res.status(200);
  res.setHeader('content-type', 'text/csv; charset=utf-8');
  res.setHeader('content-disposition', `attachment; filename="episodes-${accountId}.csv"`);
  const write = async (text: string) => {
    // A client that went away never drains: stop waiting at its close too.
    if (!res.write(text)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  // One write per batch (a chunk's or a page's rows), not one per row.
  const lines = (batch: RowEntry[]) => batch.map((e) => e[5]).join('');
  try {
    await write(csvHeader);
    if (!first.done) {
      await write(lines(first.value));
      for await (const batch of batches) {
        if (res.destroyed) return;
        await write(lines(batch));
      }
    }
    res.end();
  } catch (error) {
    // The status line is gone: cut the transfer, so the client sees an incomplete file, never a short one.
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * `GET .../reports/summary`: per group, from the range's rows (core/episode-summary.ts), read month by
 * month as each month's pack and the rows written since (store/episode-packs.ts), at most three months
 * held at a time. `reads` says what each month cost.
 */
export async function episodeSummary(
  deps: ApiDeps,
  accountId: string,
  q: RangeQuery & { groupBy: GroupBy },
  options: PackOptions & { reads?: MonthRead[] } = {},
): Promise<{ groupBy: GroupBy; from: string; to: string; timeZone: string; items: SummaryItem[] }> {
  const account = await loadAccount(deps, accountId);
  const timeZone = effective(account.policy).businessHours?.timezone ?? null;
  const filter = await filterOf(deps, accountId, q);
  const groupBy = q.groupBy;
  const summary = new EpisodeSummary(groupBy, timeZone);
  // Three months at a time: a range of a year is mostly months with few rows, each a few round trips,
  // and `EpisodeSummary` does not depend on the order rows are added in.
  await mapLimit(monthsOf(filter.from, filter.to), 3, async (month) => {
    const { entries, read } = await monthEntries(deps.collections, accountId, month, options);
    options.reads?.push(read);
    for (const e of entries.values()) if (entryMatches(e, filter)) summary.add(summaryRowOf(e));
  });
  return { groupBy, from: filter.from, to: filter.to, timeZone: timeZone ?? 'UTC', items: summary.items() };
}
