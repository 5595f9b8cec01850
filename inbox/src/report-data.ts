/**
 * The reports page's choices and figures (SPEC 11), pure: the range a picker choice means, the days a
 * chart spans, the summary's `groupBy=day` items as series with gaps, the SLA attainment of the whole
 * range, and the CSV file's name. test/unit/inbox-reports.test.ts covers them.
 */
import { dayKey } from './time';

/** SPEC 11's summary item (api/report-schemas.ts `summaryItem`). */
export interface SummaryItem {
  group: string | null;
  episodesStarted: number;
  episodesClosed: number;
  firstResponseSeconds: { p50: number | null; p90: number | null };
  resolutionSeconds: { p50: number | null; p90: number | null };
  sla: Record<SlaMetric, Attainment>;
  csat: { count: number; average: number | null };
}
export interface Summary {
  groupBy: 'agent' | 'team' | 'channel' | 'day';
  from: string;
  to: string;
  timeZone: string;
  items: SummaryItem[];
}
export type SlaMetric = 'firstResponse' | 'nextResponse' | 'resolution';
export const slaMetrics: readonly SlaMetric[] = ['firstResponse', 'nextResponse', 'resolution'];
export const slaMetricLabels: Record<SlaMetric, string> = { firstResponse: 'First response', nextResponse: 'Next response', resolution: 'Resolution' };
export interface Attainment {
  met: number;
  breached: number;
  attainment: number | null;
}

/** The API's longest range (api/report-schemas.ts `maxRangeDays`). */
export const maxRangeDays = 366;

export type RangeChoice = { kind: 'last'; days: 7 | 30 } | { kind: 'custom'; fromDay: string; toDay: string };

/** A range as the API takes it: `from` inclusive, `to` exclusive (ISO instants), and its days for a file name. */
export interface Range {
  from: string;
  to: string;
  fromDay: string;
  toDay: string;
}

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

/** YYYY-MM-DD plus `n` calendar days (UTC date arithmetic on the date alone, so no zone or DST shifts it). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The instant a calendar day starts in the browser's zone (the `Date` constructor's local time). */
const localMidnight = (day: string): string => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).toISOString();
};

/**
 * The range a choice means, in whole days of the browser's zone: "last 7 days" is today and the six
 * before it (to the end of today); a custom range runs from the start of its first day to the end of
 * its last. A refusal in words when the days are not dates, reversed, or more than 366.
 */
export function rangeOf(choice: RangeChoice, now: number): { ok: true; range: Range } | { ok: false; field: 'from' | 'to'; reason: string } {
  const today = dayKey(new Date(now).toISOString());
  const [fromDay, toDay] = choice.kind === 'last' ? [addDays(today, -(choice.days - 1)), today] : [choice.fromDay, choice.toDay];
  if (!dayPattern.test(fromDay) || Number.isNaN(Date.parse(fromDay))) return { ok: false, field: 'from', reason: 'Choose the first day.' };
  if (!dayPattern.test(toDay) || Number.isNaN(Date.parse(toDay))) return { ok: false, field: 'to', reason: 'Choose the last day.' };
  if (toDay < fromDay) return { ok: false, field: 'from', reason: 'The first day is after the last.' };
  if (dayCount(fromDay, toDay) > maxRangeDays) return { ok: false, field: 'to', reason: `At most ${maxRangeDays} days.` };
  return { ok: true, range: { from: localMidnight(fromDay), to: localMidnight(addDays(toDay, 1)), fromDay, toDay } };
}

/** How many calendar days from `fromDay` to `toDay`, both counted. */
export const dayCount = (fromDay: string, toDay: string) => Math.round((Date.parse(toDay) - Date.parse(fromDay)) / 86_400_000) + 1;

/**
 * The days a chart of [from, to) shows, as the summary groups them: YYYY-MM-DD in the summary's zone
 * (the business hours', else UTC), from the day of `from` to the day of the last moment before `to`.
 */
export function daysOf(from: string, to: string, timeZone: string): string[] {
  const first = dayKey(from, timeZone);
  const last = dayKey(new Date(Date.parse(to) - 1).toISOString(), timeZone);
  const days: string[] = [];
  for (let day = first; day <= last && days.length <= maxRangeDays + 1; day = addDays(day, 1)) days.push(day);
  return days;
}

export type DayFigure = (item: SummaryItem) => number | null;

/** One value per day from `groupBy=day` items; null for a day without episodes or without the figure (a gap). */
export function seriesByDay(days: readonly string[], items: readonly SummaryItem[], figure: DayFigure): (number | null)[] {
  const byDay = new Map(items.map((i) => [i.group, i]));
  return days.map((day) => {
    const item = byDay.get(day);
    return item ? figure(item) : null;
  });
}

/**
 * SLA attainment of the whole range per metric, from any grouping's items (each episode is in exactly
 * one group, so the sums are the range's): met / (met + breached), null when neither.
 */
export function totalAttainment(items: readonly SummaryItem[]): Record<SlaMetric, Attainment> {
  const out = {} as Record<SlaMetric, Attainment>;
  for (const metric of slaMetrics) {
    const met = items.reduce((n, i) => n + i.sla[metric].met, 0);
    const breached = items.reduce((n, i) => n + i.sla[metric].breached, 0);
    out[metric] = { met, breached, attainment: met + breached === 0 ? null : met / (met + breached) };
  }
  return out;
}

/** "93%" (whole percent, rounded down so 99.6% never reads 100%), "–" for none. */
export function percentWords(attainment: number | null): string {
  return attainment === null ? '–' : `${Math.floor(attainment * 100 + 1e-9)}%`;
}

/** The CSV's file name: `episodes-<first day>-<last day>.csv`. */
export const csvFileName = (range: Pick<Range, 'fromDay' | 'toDay'>) => `episodes-${range.fromDay}-${range.toDay}.csv`;
