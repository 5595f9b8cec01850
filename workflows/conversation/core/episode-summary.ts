/**
 * SPEC section 11's summary as a pure function of episode rows, so the route and any check that
 * recomputes it from `GET .../reports/episodes` get the same figures by construction. Rows are added
 * one at a time (the route streams them from the store, never holding more than the numbers the
 * percentiles need), then `items()` answers.
 *
 * Pinned (SPEC 11) and decided here:
 * - groups: `agent` = the episode's last assignee (its last stint's user; `null` for an episode nobody
 *   held), `team` = the row's `team` (`null` without one), `channel`, `day` = `YYYY-MM-DD` of `startedAt`
 *   in the business-hours time zone (UTC without one). Items are ordered by group, `null` last.
 * - `episodesStarted`: the rows of the group (a row is an episode that started in the range);
 *   `episodesClosed`: those of them with a `resolvedAt`.
 * - percentiles by nearest rank over the rows that have the figure: the value at rank ceil(p/100 * n)
 *   of the ascending list; `null` when no row has it.
 * - SLA attainment per metric: met / (met + breached), `null` when both are 0 (pending and none are left out).
 * - CSAT: the count of rows with a score and their average (`null` with none).
 */
import { zoneOffsetAt } from './business-hours';
import type { SlaMetric } from './sla';
import { slaMetrics } from './sla';
import type { EpisodeRow } from './episode-fold';

export type GroupBy = 'agent' | 'team' | 'channel' | 'day';
export const groupBys: readonly GroupBy[] = ['agent', 'team', 'channel', 'day'];

/** The fields of a row the summary reads (the route asks the store for these only). */
export type SummaryRow = Pick<EpisodeRow, 'startedAt' | 'resolvedAt' | 'firstResponseSeconds' | 'resolutionSeconds' | 'sla' | 'csat' | 'channel' | 'team'> & {
  assignees: readonly { userId: string }[];
};

export interface Percentiles {
  p50: number | null;
  p90: number | null;
}

export interface SummaryItem {
  group: string | null;
  episodesStarted: number;
  episodesClosed: number;
  firstResponseSeconds: Percentiles;
  resolutionSeconds: Percentiles;
  sla: Record<SlaMetric, { met: number; breached: number; attainment: number | null }>;
  csat: { count: number; average: number | null };
}

/** Nearest rank: the smallest value with at least p% of the values at or below it. */
export function nearestRank(sortedAscending: readonly number[], p: number): number | null {
  if (sortedAscending.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sortedAscending.length));
  return sortedAscending[rank - 1]!;
}

/** The local date of an instant in a time zone (UTC when null), `YYYY-MM-DD`. */
export function localDay(iso: string, timeZone: string | null): string {
  const at = Date.parse(iso);
  const offset = timeZone === null ? 0 : zoneOffsetAt(timeZone, at);
  return new Date(at + offset).toISOString().slice(0, 10);
}

export function groupOf(row: SummaryRow, groupBy: GroupBy, timeZone: string | null): string | null {
  switch (groupBy) {
    case 'agent':
      return row.assignees.at(-1)?.userId ?? null;
    case 'team':
      return row.team ?? null;
    case 'channel':
      return row.channel;
    case 'day':
      return localDay(row.startedAt, timeZone);
  }
}

interface Acc {
  started: number;
  closed: number;
  firstResponse: number[];
  resolution: number[];
  sla: Record<SlaMetric, { met: number; breached: number }>;
  csatCount: number;
  csatSum: number;
}

const percentiles = (values: number[]): Percentiles => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: nearestRank(sorted, 50), p90: nearestRank(sorted, 90) };
};

export class EpisodeSummary {
  private readonly groups = new Map<string | null, Acc>();

  constructor(
    private readonly groupBy: GroupBy,
    private readonly timeZone: string | null,
  ) {}

  add(row: SummaryRow): void {
    const key = groupOf(row, this.groupBy, this.timeZone);
    let acc = this.groups.get(key);
    if (acc === undefined) {
      acc = {
        started: 0,
        closed: 0,
        firstResponse: [],
        resolution: [],
        sla: { firstResponse: { met: 0, breached: 0 }, nextResponse: { met: 0, breached: 0 }, resolution: { met: 0, breached: 0 } },
        csatCount: 0,
        csatSum: 0,
      };
      this.groups.set(key, acc);
    }
    acc.started += 1;
    if (row.resolvedAt !== null && row.resolvedAt !== undefined) acc.closed += 1;
    if (typeof row.firstResponseSeconds === 'number') acc.firstResponse.push(row.firstResponseSeconds);
    if (typeof row.resolutionSeconds === 'number') acc.resolution.push(row.resolutionSeconds);
    for (const metric of slaMetrics) {
      const outcome = row.sla?.[metric];
      if (outcome === 'met') acc.sla[metric].met += 1;
      else if (outcome === 'breached') acc.sla[metric].breached += 1;
    }
    if (typeof row.csat === 'number') {
      acc.csatCount += 1;
      acc.csatSum += row.csat;
    }
  }

  items(): SummaryItem[] {
    const keys = [...this.groups.keys()].sort((a, b) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1));
    return keys.map((group) => {
      const acc = this.groups.get(group)!;
      const sla = Object.fromEntries(
        slaMetrics.map((m) => {
          const { met, breached } = acc.sla[m];
          return [m, { met, breached, attainment: met + breached === 0 ? null : met / (met + breached) }];
        }),
      ) as SummaryItem['sla'];
      return {
        group,
        episodesStarted: acc.started,
        episodesClosed: acc.closed,
        firstResponseSeconds: percentiles(acc.firstResponse),
        resolutionSeconds: percentiles(acc.resolution),
        sla,
        csat: { count: acc.csatCount, average: acc.csatCount === 0 ? null : acc.csatSum / acc.csatCount },
      };
    });
  }
}

/** The summary of a list of rows at once (what a check recomputes from the rows it was given). */
export function summarize(rows: readonly SummaryRow[], groupBy: GroupBy, timeZone: string | null): SummaryItem[] {
  const summary = new EpisodeSummary(groupBy, timeZone);
  for (const row of rows) summary.add(row);
  return summary.items();
}
