/**
 * What SPEC 11's summary keeps of an episode row, and how many of those are packed into a few large
 * strings (store/episode-packs.ts, store/DESIGN.md "Reports (SPEC 11)"). Pure: no clock, no IO.
 *
 * Why: on the embedded store every document read costs a decode of the whole document, so a summary
 * over 100,000 rows cannot read 100,000 documents in a second. A pack holds the summary's fields of
 * every row of one account and month as tuples in a few strings; a summary reads the newest pack and
 * the rows written since (the tail), and each row of the tail replaces its pack entry (`mergeTail`):
 * the tail holds the rows as they are now, so the result is the rows' summary, not an approximation.
 *
 * An entry carries what the summary reads (core/episode-summary.ts `SummaryRow`: only the last
 * assignee of `assignees`) and what its filters read (`startedAt`, `channel`, every stint's user, every
 * team), keyed by the row's `_id` less the account's `conv:{accountId}:` prefix.
 */
import type { SummaryRow } from './episode-summary';
import type { EpisodeRow, SlaOutcome } from './episode-fold';
import type { SlaMetric } from './sla';
import { slaMetrics } from './sla';
import type { EntryFilter } from './episode-csv';
import { ChunkBuilder, fieldsMatch } from './episode-csv';

export type { EntryFilter } from './episode-csv';

/** One row of a pack: a tuple, since a pack holds tens of thousands of them. */
export type PackEntry = [
  key: string,
  startedAt: string,
  resolvedAt: string | null,
  firstResponseSeconds: number | null,
  resolutionSeconds: number | null,
  /** One letter per metric, in `slaMetrics` order (`outcomeLetter`). */
  sla: string,
  csat: number | null,
  channel: string,
  team: string | null,
  lastAssignee: string | null,
  assigneeIds: string[],
  teams: string[],
];

/** The fields of a row an entry is made from (a stored row without its fold state). */
export type PackSource = Pick<EpisodeRow, 'startedAt' | 'resolvedAt' | 'firstResponseSeconds' | 'resolutionSeconds' | 'sla' | 'csat' | 'channel' | 'team' | 'assignees'> & {
  teams?: readonly string[] | null;
};

const outcomeLetter: { [O in SlaOutcome]: string } = { met: 'm', breached: 'b', pending: 'p', none: 'n' };
const letterOutcome: Record<string, SlaOutcome> = { m: 'met', b: 'breached', p: 'pending', n: 'none' };

/** The entry of a row whose `_id` is `key` (already without the account's prefix). */
export function packEntryOf(key: string, row: PackSource): PackEntry {
  const sla = slaMetrics.map((m) => outcomeLetter[row.sla?.[m] ?? 'none']).join('');
  const assigneeIds = [...new Set(row.assignees.map((s) => s.userId))];
  return [
    key,
    row.startedAt,
    row.resolvedAt ?? null,
    row.firstResponseSeconds ?? null,
    row.resolutionSeconds ?? null,
    sla,
    row.csat ?? null,
    row.channel,
    row.team ?? null,
    row.assignees.at(-1)?.userId ?? null,
    assigneeIds,
    [...(row.teams ?? [])],
  ];
}

/** What the summary reads of an entry: the same values the row itself gives (`summarize` over rows). */
export function summaryRowOf(e: PackEntry): SummaryRow {
  // A plain loop: this runs once per row of a summary (100,000 in the goal), and Object.fromEntries over
  // a mapped array cost a measurable part of the fold.
  const sla = {} as Record<SlaMetric, SlaOutcome>;
  for (let i = 0; i < slaMetrics.length; i++) sla[slaMetrics[i]!] = letterOutcome[e[5][i] ?? 'n'] ?? 'none';
  return {
    startedAt: e[1],
    resolvedAt: e[2],
    firstResponseSeconds: e[3],
    resolutionSeconds: e[4],
    sla,
    csat: e[6],
    channel: e[7],
    team: e[8],
    assignees: e[9] === null ? [] : [{ userId: e[9] }],
  };
}

/** The same test the store's query makes of a row (store/episodes.ts `filterOf`). */
export const entryMatches = (e: PackEntry, f: EntryFilter): boolean => fieldsMatch(e[1], e[7], e[10], e[11], f);

/**
 * A pack's entries and the tail's: each tail entry replaces the pack's entry of its row (or adds one).
 * The tail is read in write order, so of two reads of one row (a row written again while the tail was
 * read) the later one wins. Changes `entries` in place.
 */
export function mergeTail(entries: Map<string, PackEntry>, tail: Iterable<PackEntry>): Map<string, PackEntry> {
  for (const e of tail) entries.set(e[0], e);
  return entries;
}

/**
 * Entries as JSON text in chunks of at most about `maxChars` characters each (one entry never splits;
 * an entry longer than `maxChars` is a chunk by itself). Every entry is in exactly one chunk, in order.
 */
export function chunkEntries<E = PackEntry>(entries: Iterable<E>, maxChars: number): string[] {
  const chunks: string[] = [];
  const builder = new ChunkBuilder<E>(maxChars);
  for (const e of entries) {
    const full = builder.add(e);
    if (full !== null) chunks.push(full);
  }
  const last = builder.finish();
  if (last !== null) chunks.push(last);
  return chunks;
}

export function parseChunk(text: string): PackEntry[] {
  return JSON.parse(text) as PackEntry[];
}

/** The month of an ISO-8601 instant, `YYYY-MM` (UTC): the part of an account's rows a pack holds. */
export const monthOf = (iso: string): string => iso.slice(0, 7);

/** The months (UTC, `YYYY-MM`) that hold rows started in [from, to), ISO-8601 bounds in UTC. */
export function monthsOf(from: string, to: string): string[] {
  if (!(from < to)) return [];
  const months: string[] = [];
  const last = monthOf(new Date(Date.parse(to) - 1).toISOString());
  let year = Number(from.slice(0, 4));
  let month = Number(from.slice(5, 7));
  for (;;) {
    const m = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    months.push(m);
    if (m >= last) return months;
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
}

/** The first instant of a month and of the next one, ISO-8601 (the range a cold month is read over). */
export function monthRange(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { from: new Date(Date.UTC(y, m - 1, 1)).toISOString(), to: new Date(Date.UTC(y, m, 1)).toISOString() };
}
