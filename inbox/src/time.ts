/**
 * Times as a person reads them, in the browser's time zone (or the one given, for tests). Pure: every
 * function takes `now` or a zone instead of reading them, so test/unit/inbox-time.test.ts covers them.
 */

/** "now", "3m", "5h", then the date: list rows have little room. */
export function relativeTime(iso: string | null, now = Date.now(), timeZone?: string): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return 'now';
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return new Date(iso).toLocaleDateString([], { day: 'numeric', month: 'short', timeZone });
}

/**
 * What is left until a time, never more than is left: "23h 59m", "4m 10s", "20s"; null once it has
 * passed. Minutes are rounded down (a window closing in 23h 59m 30s says 23h 59m, not 24h 0m), and the
 * last ten minutes count seconds, so a short policy window reads truthfully.
 */
export function timeLeft(iso: string | null, now = Date.now()): string | null {
  if (!iso) return null;
  const ms = Date.parse(iso) - now;
  if (!(ms > 0)) return null;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${Math.max(s, 1)}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m ${s % 60}s`;
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "14:05" in the zone. */
export const clock = (iso: string, timeZone?: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZone });

/** "6 Dec 2026, 14:05:09" in the zone: for hover text, where there is room to be exact. */
export const fullTime = (iso: string, timeZone?: string) =>
  new Date(iso).toLocaleString([], { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone });

/** The calendar day of an instant in the zone, as YYYY-MM-DD (for grouping and comparing days). */
export function dayKey(iso: string, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** A day separator's words: "Today", "Yesterday", or the date ("Friday, 4 December 2026"). */
export function dayLabel(iso: string, now = Date.now(), timeZone?: string): string {
  const day = dayKey(iso, timeZone);
  if (day === dayKey(new Date(now).toISOString(), timeZone)) return 'Today';
  // Yesterday is the day of the instant 24h before noon of today's date, which holds across DST changes.
  const [y, m, d] = dayKey(new Date(now).toISOString(), timeZone).split('-').map(Number) as [number, number, number];
  const yesterday = new Date(Date.UTC(y, m - 1, d - 1, 12)).toISOString().slice(0, 10);
  if (day === yesterday) return 'Yesterday';
  return new Date(iso).toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone });
}
