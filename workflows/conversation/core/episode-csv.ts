/**
 * SPEC 11's CSV of episode rows, and the row packs it is read from at scale (store/episode-row-packs.ts,
 * store/DESIGN.md "Reports (SPEC 11)"). Pure: no clock, no IO.
 *
 * Why row packs: on the embedded store reading one compact row costs about 240 µs (FerretDB decodes the
 * whole document, whatever the projection), so 100,000 rows cannot be read in 10 s. A row pack holds a
 * month's rows as CSV-ready lines in start order (`startedAt`, then `_id`), a few thousand per chunk; an
 * export reads a pack chunk by chunk and merges in the rows written since its mark (the tail), each tail
 * row replacing its pack entry (`mergeStartOrder`). Each entry keeps what the route's filters read, so
 * the filters are the store query's (`rowMatches`).
 */
import type { EpisodeRow } from './episode-fold';

/** A row without its fold state: what the report routes read and answer. */
export type ReportFields = Omit<EpisodeRow, 'fold'>;

/** A row as the API answers it: the SPEC's fields and `team`, without the fold's bookkeeping. */
export function reportView(r: ReportFields) {
  return {
    conversationId: r.conversationId,
    episode: r.episode,
    channel: r.channel,
    customer: r.customer,
    startedAt: r.startedAt,
    firstAssignedAt: r.firstAssignedAt,
    firstResponseAt: r.firstResponseAt,
    firstResponseSeconds: r.firstResponseSeconds,
    businessFirstResponseSeconds: r.businessFirstResponseSeconds,
    resolvedAt: r.resolvedAt,
    resolutionSeconds: r.resolutionSeconds,
    closedReason: r.closedReason,
    assignees: r.assignees,
    customerMessages: r.customerMessages,
    userMessages: r.userMessages,
    reopenedFrom: r.reopenedFrom,
    sla: r.sla,
    csat: r.csat,
    priority: r.priority ?? 'normal',
    tags: r.tags,
    team: r.team,
  };
}
export type EpisodeView = ReturnType<typeof reportView>;

/** The CSV's columns: one per scalar field, then `assignees`, `tags` and `sla` as JSON text (SPEC 11). */
export const csvColumns = [
  'conversationId',
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
  'customerMessages',
  'userMessages',
  'reopenedFrom',
  'csat',
  'priority',
  'team',
  'assignees',
  'tags',
  'sla',
] as const satisfies readonly (keyof EpisodeView)[];

/** One CSV cell (RFC 4180): null is empty; objects are JSON text; quoted when it holds a quote, comma or line break. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvHeader = csvColumns.join(',') + '\r\n';

export const csvLine = (row: EpisodeView): string => csvColumns.map((c) => csvCell(row[c])).join(',') + '\r\n';

/** One row of a row pack: its key (the `_id` less `conv:{accountId}:`), what the filters read, and its CSV line. */
export type RowEntry = [key: string, startedAt: string, channel: string, assigneeIds: string[], teams: string[], line: string];

/** The entry of a row whose `_id` is `key` (already without the account's prefix). */
export function rowEntryOf(key: string, row: ReportFields): RowEntry {
  return [key, row.startedAt, row.channel, [...new Set(row.assignees.map((s) => s.userId))], [...(row.teams ?? [])], csvLine(reportView(row))];
}

/** The filters of `GET .../reports/*` (store/episodes.ts `EpisodeFilter` without the account). */
export interface EntryFilter {
  /** ISO-8601, inclusive. */
  from: string;
  /** ISO-8601, exclusive. */
  to: string;
  channel?: string | undefined;
  assignee?: string | undefined;
  team?: { team: string; members: readonly string[] } | undefined;
}

/** The test the store's query makes of a row (store/episodes.ts `filterOf`), over the fields an entry keeps. */
export function fieldsMatch(startedAt: string, channel: string, assigneeIds: readonly string[], teams: readonly string[], f: EntryFilter): boolean {
  if (!(startedAt >= f.from && startedAt < f.to)) return false;
  if (f.channel !== undefined && channel !== f.channel) return false;
  if (f.assignee !== undefined && !assigneeIds.includes(f.assignee)) return false;
  if (f.team !== undefined && !teams.includes(f.team.team) && !f.team.members.some((m) => assigneeIds.includes(m))) return false;
  return true;
}

export const rowMatches = (e: RowEntry, f: EntryFilter): boolean => fieldsMatch(e[1], e[2], e[3], e[4], f);

/**
 * Strings in the store's order: MongoDB (and FerretDB) compare strings by their UTF-8 bytes, which is
 * code point order; JavaScript's `<` compares UTF-16 code units, which differs when one side is a
 * surrogate (a code point above U+FFFF) and the other is U+E000 or above. Remapped here so that the
 * two agree for every string.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x < 0xe000 ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Start order, as the rows' `sort({ startedAt: 1, _id: 1 })` (every key shares the account's prefix). */
export function compareStartOrder(a: RowEntry, b: RowEntry): number {
  return compareCodePoints(a[1], b[1]) || compareCodePoints(a[0], b[0]);
}

/**
 * A pack's entries (in start order, chunk by chunk) with the tail's: every tail entry in its place, and a
 * pack entry whose row is in the tail left out (the tail holds the row as it is now; a row's start never
 * changes, so its place does not either). `tail` must be in start order (`sortTail`).
 */
export function* mergeStartOrder(pack: Iterable<RowEntry>, tail: readonly RowEntry[], tailKeys: ReadonlySet<string>, state: { next: number }): Generator<RowEntry> {
  for (const e of pack) {
    if (tailKeys.has(e[0])) continue;
    while (state.next < tail.length && compareStartOrder(tail[state.next]!, e) < 0) yield tail[state.next++]!;
    yield e;
  }
}

/** What is left of the tail after the last chunk (rows that start after every pack entry). */
export function* tailRest(tail: readonly RowEntry[], state: { next: number }): Generator<RowEntry> {
  while (state.next < tail.length) yield tail[state.next++]!;
}

/** The tail's entries in start order, one per row (of two reads of one row, the later: the map keeps the last). */
export function sortTail(byKey: ReadonlyMap<string, RowEntry>): RowEntry[] {
  return [...byKey.values()].sort(compareStartOrder);
}

/**
 * Entries as JSON text in chunks of at most about `maxChars` characters each, as they come (one entry
 * never splits; an entry longer than `maxChars` is a chunk by itself): `add` answers a chunk when the
 * entry does not fit beside the ones before, `finish` the last one.
 */
export class ChunkBuilder<E> {
  private parts: string[] = [];
  private size = 2;
  constructor(private readonly maxChars: number) {}

  add(entry: E): string | null {
    const text = JSON.stringify(entry);
    let full: string | null = null;
    if (this.parts.length > 0 && this.size + text.length + 1 > this.maxChars) full = this.finish();
    this.parts.push(text);
    this.size += text.length + 1;
    return full;
  }

  finish(): string | null {
    if (this.parts.length === 0) return null;
    const chunk = `[${this.parts.join(',')}]`;
    this.parts = [];
    this.size = 2;
    return chunk;
  }
}
