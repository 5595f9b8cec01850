/**
 * The snooze menu's choices (SPEC 9) as the `until` each one posts: pure, so test/unit/inbox-snooze.test.ts
 * covers them. "Tomorrow 9:00" is read in the account's business hours with the engine's own calendar
 * (workflows/conversation/core/business-hours.ts: no imports, no clock), so the inbox and the SLA agree on
 * what a business morning is.
 */
import type { BusinessHours } from '../../workflows/conversation/core/business-hours';
import { businessCalendar, zoneOffsetAt } from '../../workflows/conversation/core/business-hours';

export type { BusinessHours };

/** The local date (year, month 1-12, day) of an instant in a time zone. */
function localDate(timeZone: string, atMs: number): { y: number; m: number; d: number } {
  const local = new Date(atMs + zoneOffsetAt(timeZone, atMs));
  return { y: local.getUTCFullYear(), m: local.getUTCMonth() + 1, d: local.getUTCDate() };
}

/** The instant a local wall-clock time has in a zone (the offset read at that local time, then once more for a change in between). */
function localTime(timeZone: string, y: number, m: number, d: number, hour: number): number {
  const wall = Date.UTC(y, m - 1, d, hour);
  const first = wall - zoneOffsetAt(timeZone, wall);
  return wall - zoneOffsetAt(timeZone, first);
}

/**
 * Tomorrow at 9:00 in the account's time zone (the browser's when it has no business hours); when the
 * account is closed then (a weekend, a holiday, hours that start later), its next opening after that.
 */
export function tomorrowMorning(now: number, hours: BusinessHours | null, browserTimeZone: string): number {
  const zone = hours?.timezone ?? browserTimeZone;
  const today = localDate(zone, now);
  const tomorrow = new Date(Date.UTC(today.y, today.m - 1, today.d + 1));
  const nine = localTime(zone, tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, tomorrow.getUTCDate(), 9);
  if (!hours) return nine;
  const calendar = businessCalendar(hours);
  return calendar.isOpen(nine) ? nine : (calendar.nextOpen(nine) ?? nine);
}

/** A `datetime-local` input's value (local to the browser, no zone) as the ISO time with a zone the API takes; null when empty or not a time. */
export function customUntil(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const at = new Date(value).getTime();
  return Number.isFinite(at) ? new Date(at).toISOString() : null;
}

/** The menu: what each choice says and the `until` it posts ("window" needs an open window). */
export function snoozeChoices(now: number, hours: BusinessHours | null, browserTimeZone: string, windowOpen: boolean): { id: string; label: string; until: string }[] {
  const morning = tomorrowMorning(now, hours, browserTimeZone);
  // Said as what it is when the account is closed tomorrow at 9:00 ("Mon 09:00"), not as "tomorrow".
  const plain = tomorrowMorning(now, null, hours?.timezone ?? browserTimeZone);
  const when = new Date(morning).toLocaleString('en-GB', { weekday: 'short', hour: '2-digit', minute: '2-digit', timeZone: hours?.timezone ?? browserTimeZone });
  const choices = [
    { id: 'hour', label: '1 hour', until: '1h' },
    { id: 'tomorrow', label: morning === plain ? 'Tomorrow 9:00' : `Next opening: ${when}`, until: new Date(morning).toISOString() },
  ];
  if (windowOpen) choices.push({ id: 'window', label: 'Before the window closes', until: 'window' });
  return choices;
}
