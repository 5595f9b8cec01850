/**
 * The business-hours calendar of SPEC section 9: which instants are business time, and business-time
 * arithmetic over them (`addBusinessTime`, `businessTimeBetween`) for the SLA clocks. Pure: time-zone
 * math goes through `Intl.DateTimeFormat`, which the workflow sandbox has and which answers the same for
 * a given Node/ICU, so a deadline computed here replays.
 *
 * What a period means (decided here, exact to the millisecond):
 * - An instant is business time when its local wall-clock reading in `timezone` falls inside a period
 *   of its local date's weekday (start inclusive, end exclusive) and that local date is not a holiday.
 *   Everything follows from this one rule:
 * - Spring forward: local times in the gap do not exist, so a period inside the gap is empty that day
 *   and one spanning it is shorter (Berlin 01:00-04:00 on the last Sunday of March lasts 2 hours).
 * - Fall back: the repeated local hour happens twice and counts twice (New York 01:00-02:00 on the
 *   first Sunday of November lasts 2 hours; 00:00-01:30 lasts 2 hours, in two pieces).
 * - Periods that meet (09:00-12:00 + 12:00-13:00, or 23:00-24:00 Monday + 00:00-01:00 Tuesday) are one
 *   stretch of business time: `nextClose` does not stop at the seam.
 * - Holidays are local dates: the whole local day is closed, whatever its periods.
 * - `nextClose` of an instant outside business hours is that instant (it is closed already); a due time
 *   that falls exactly at the end of a period is that closing instant (the last business millisecond is
 *   the one before it).
 *
 * Bounds: every search stops `businessHorizonMs` (5 years) after the instant it starts from. The policy
 * accepts durations up to 365d, which a 40-hour week spends in about 4.2 years, so any accepted duration
 * on an ordinary week fits; `nextOpen`/`addBusinessTime` answer null beyond it (as for a calendar that
 * never opens) and `nextClose` answers null when it stays open that long. `businessTimeBetween` has no
 * horizon: it walks the periods between its two instants (a few per day), never minute by minute.
 * Instants are milliseconds anywhere in the Date range (±8.64e15); no clock is read.
 *
 * Offsets are read from Intl at probes 6 hours apart and cached per zone in 4-day blocks; a zone would
 * need two transitions within 6 hours that cancel out for a probe to miss them (tzdata has none since
 * the 19th century). The cache holds values that are pure functions of (zone, block), so sharing it
 * across workflows changes no answer.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export interface BusinessHours {
  timezone: string;
  weekly: Partial<Record<Weekday, [string, string][]>>;
  holidays?: string[];
}

export const weekdays: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
export const maxPeriodsPerDay = 10;
export const maxHolidays = 400;
/** How far any search of a calendar looks ahead of the instant it starts from (see above). */
export const businessHorizonMs = 5 * 366 * 86_400_000;

const minuteMs = 60_000;
const hourMs = 3_600_000;
const dayMs = 86_400_000;

// ---------------------------------------------------------------------------------------------------
// Parsing (the policy's `businessHours`, SPEC 9 pinned rules)

const clock = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes since local midnight for "HH:MM" (00:00..24:00), or undefined. */
function clockMinutes(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = clock.exec(text);
  if (m === null) return undefined;
  return m[3] !== undefined ? 24 * 60 : Number(m[1]) * 60 + Number(m[2]);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil; no Date quirks for years < 100). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 for a "YYYY-MM-DD" that names a real date, or undefined. */
function holidayDay(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = isoDate.exec(text);
  if (m === null) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// A name, not an offset: newer Intl versions also take "+05:30", which is no IANA zone and would make the
// answer depend on the Node version.
const zoneName = /^[A-Za-z][\w+-]*(?:\/[\w+-]+)*$/;

function validTimeZone(name: string): boolean {
  if (!zoneName.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function parseDay(path: string, input: unknown, errors: string[]): [string, string][] | undefined {
  if (!Array.isArray(input)) {
    errors.push(`${path}: must be a list of ["HH:MM", "HH:MM"] periods`);
    return undefined;
  }
  if (input.length > maxPeriodsPerDay) {
    errors.push(`${path}: at most ${maxPeriodsPerDay} periods a day`);
    return undefined;
  }
  const periods: [string, string][] = [];
  const spans: { index: number; start: number; end: number }[] = [];
  input.forEach((period: unknown, index) => {
    const at = `${path}[${index}]`;
    if (!Array.isArray(period) || period.length !== 2) {
      errors.push(`${at}: must be a pair ["HH:MM", "HH:MM"]`);
      return;
    }
    const [startText, endText] = period as unknown[];
    const start = clockMinutes(startText);
    const end = clockMinutes(endText);
    if (start === undefined) errors.push(`${at}[0]: must be a time "HH:MM" from 00:00 to 24:00`);
    if (end === undefined) errors.push(`${at}[1]: must be a time "HH:MM" from 00:00 to 24:00`);
    if (start === undefined || end === undefined) return;
    if (end < start) {
      errors.push(`${at}: ends before it starts (a period crossing midnight is split over two days)`);
      return;
    }
    if (end === start) {
      errors.push(`${at}: ends where it starts`);
      return;
    }
    periods.push([startText as string, endText as string]);
    spans.push({ index, start, end });
  });
  // Sorted by start, a period overlaps an earlier one exactly when it starts before the furthest end so
  // far; it is reported once, against the period that reaches furthest.
  spans.sort((a, b) => a.start - b.start);
  let furthest: (typeof spans)[number] | undefined;
  for (const span of spans) {
    if (furthest !== undefined && span.start < furthest.end) {
      const [first, second] = furthest.index < span.index ? [furthest, span] : [span, furthest];
      errors.push(`${path}[${second.index}]: overlaps ${path}[${first.index}]`);
    }
    if (furthest === undefined || span.end > furthest.end) furthest = span;
  }
  return periods;
}

/**
 * Parses and checks a policy's businessHours (SPEC 9 pinned rules): IANA timezone (Intl accepts it),
 * "HH:MM" 00:00..24:00, start inclusive, end exclusive, end after start, no overlaps, none crossing
 * midnight, holidays "YYYY-MM-DD" valid dates, bounded sizes (<= 10 periods a day, <= 400 holidays).
 * Errors name the field path, e.g. "businessHours.weekly.mon[1]: ends before it starts". The value is
 * a fresh copy holding only the known fields, periods in the order given.
 */
export function parseBusinessHours(input: unknown): { ok: true; value: BusinessHours } | { ok: false; errors: string[] } {
  const root = 'businessHours';
  if (!isRecord(input)) return { ok: false, errors: [`${root}: must be an object { timezone, weekly, holidays? }`] };
  const errors: string[] = [];
  for (const key of Object.keys(input)) {
    if (key !== 'timezone' && key !== 'weekly' && key !== 'holidays') errors.push(`${root}.${key}: unknown field`);
  }

  const timezone = input.timezone;
  if (typeof timezone !== 'string' || timezone.length === 0 || timezone.length > 64) {
    errors.push(`${root}.timezone: must be an IANA time zone name like "Europe/Berlin"`);
  } else if (!validTimeZone(timezone)) {
    errors.push(`${root}.timezone: "${timezone}" is not a time zone this server knows`);
  }

  const weekly: Partial<Record<Weekday, [string, string][]>> = {};
  if (!isRecord(input.weekly)) {
    errors.push(`${root}.weekly: must be an object with days mon..sun`);
  } else {
    for (const [key, day] of Object.entries(input.weekly)) {
      if (!(weekdays as readonly string[]).includes(key)) {
        errors.push(`${root}.weekly.${key}: not a day (mon, tue, wed, thu, fri, sat, sun)`);
        continue;
      }
      const periods = parseDay(`${root}.weekly.${key}`, day, errors);
      if (periods !== undefined) weekly[key as Weekday] = periods;
    }
  }

  let holidays: string[] | undefined;
  if (input.holidays !== undefined) {
    if (!Array.isArray(input.holidays)) {
      errors.push(`${root}.holidays: must be a list of dates "YYYY-MM-DD"`);
    } else if (input.holidays.length > maxHolidays) {
      errors.push(`${root}.holidays: at most ${maxHolidays} dates`);
    } else {
      holidays = [];
      const seen = new Map<number, number>();
      input.holidays.forEach((text: unknown, index) => {
        const day = holidayDay(text);
        if (day === undefined) {
          errors.push(`${root}.holidays[${index}]: must be a date "YYYY-MM-DD" that exists`);
          return;
        }
        const first = seen.get(day);
        if (first !== undefined) errors.push(`${root}.holidays[${index}]: repeats holidays[${first}]`);
        else seen.set(day, index);
        holidays!.push(text as string);
      });
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  const value: BusinessHours = { timezone: timezone as string, weekly };
  if (holidays !== undefined) value.holidays = holidays;
  return { ok: true, value };
}

// ---------------------------------------------------------------------------------------------------
// Time-zone offsets (local wall clock = instant + offset)

const blockMs = 4 * dayMs;
const probeMs = 6 * hourMs;
const maxBlocksPerZone = 20_000;
const maxInstant = 8.64e15;

interface OffsetBlock {
  startOffset: number;
  /** Instants in (block start, block end] where the offset changes, and the offset from there on. */
  transitions: { at: number; offset: number }[];
}

class ZoneOffsets {
  private readonly format: Intl.DateTimeFormat;
  private readonly blocks = new Map<number, OffsetBlock>();

  constructor(timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The offset at a whole second, straight from Intl: the local reading as if UTC, minus the instant. */
  private read(instant: number): number {
    // Intl throws outside the Date range (±8.64e15 ms); the blocks at its ends read the offset at the end.
    const second = Math.min(Math.max(instant, -maxInstant), maxInstant);
    const fields = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
    let beforeChrist = false;
    for (const part of this.format.formatToParts(second)) {
      if (part.type === 'era') beforeChrist = part.value.startsWith('B');
      else if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
    }
    const year = beforeChrist ? 1 - fields.year : fields.year;
    const local = daysFromCivil(year, fields.month, fields.day) * dayMs + fields.hour * hourMs + fields.minute * minuteMs + fields.second * 1000;
    return local - second;
  }

  private block(index: number): OffsetBlock {
    const cached = this.blocks.get(index);
    if (cached !== undefined) return cached;
    const start = index * blockMs;
    const block: OffsetBlock = { startOffset: this.read(start), transitions: [] };
    let [lo, loOffset] = [start, block.startOffset];
    for (let probe = start + probeMs; probe <= start + blockMs; probe += probeMs) {
      const probeOffset = this.read(probe);
      // Bisect (to the second: transitions fall on whole seconds) for each change before this probe.
      while (loOffset !== probeOffset) {
        let hi = probe;
        while (hi - lo > 1000) {
          const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
          if (this.read(mid) === loOffset) lo = mid;
          else hi = mid;
        }
        const offset = this.read(hi);
        block.transitions.push({ at: hi, offset });
        [lo, loOffset] = [hi, offset];
      }
      lo = probe;
    }
    if (this.blocks.size >= maxBlocksPerZone) this.blocks.clear();
    this.blocks.set(index, block);
    return block;
  }

  /** The offset at `at` and the instant (> at) up to which it holds for sure: the next transition or the block's end. */
  segment(at: number): { offset: number; end: number } {
    const index = Math.floor(at / blockMs);
    const block = this.block(index);
    let offset = block.startOffset;
    for (const t of block.transitions) {
      if (t.at > at) return { offset, end: t.at };
      offset = t.offset;
    }
    return { offset, end: (index + 1) * blockMs };
  }
}

const zones = new Map<string, ZoneOffsets>();

function zoneOffsets(timeZone: string): ZoneOffsets {
  let zone = zones.get(timeZone);
  if (zone === undefined) {
    zone = new ZoneOffsets(timeZone);
    zones.set(timeZone, zone);
  }
  return zone;
}

/** The offset (local minus UTC, ms) of a time zone at an instant. */
export function zoneOffsetAt(timeZone: string, atMs: number): number {
  return zoneOffsets(timeZone).segment(atMs).offset;
}

// ---------------------------------------------------------------------------------------------------
// The calendar

/** A compiled calendar: `null` hours = always open. */
export interface BusinessCalendar {
  isOpen(atMs: number): boolean;
  /** The first instant >= atMs that is inside business hours (atMs itself when open); null if the calendar never opens (no periods at all). */
  nextOpen(atMs: number): number | null;
  /** The first instant >= atMs at which the calendar closes (end of the current period), or null if always open. */
  nextClose(atMs: number): number | null;
  /** The instant when `durationMs` of business time has elapsed counting from fromMs (fromMs itself when 0); null if never. */
  addBusinessTime(fromMs: number, durationMs: number): number | null;
  /** Business time between two instants (0 when to <= from). */
  businessTimeBetween(fromMs: number, toMs: number): number;
}

const alwaysOpen: BusinessCalendar = {
  isOpen: () => true,
  nextOpen: (atMs) => atMs,
  nextClose: () => null,
  addBusinessTime: (fromMs, durationMs) => fromMs + checkedDuration(durationMs),
  businessTimeBetween: (fromMs, toMs) => Math.max(0, toMs - fromMs),
};

function checkedDuration(durationMs: number): number {
  if (!(durationMs >= 0) || !Number.isFinite(durationMs)) throw new RangeError(`a business duration must be a finite number >= 0, got ${durationMs}`);
  return durationMs;
}

/** A day's periods in ms since local midnight, sorted, with periods that meet or overlap merged. */
type DayPeriods = { start: number; end: number }[];

function compileDay(periods: [string, string][] | undefined): DayPeriods {
  const spans = (periods ?? []).map(([s, e]) => ({ start: clockMinutes(s)! * minuteMs, end: clockMinutes(e)! * minuteMs })).sort((a, b) => a.start - b.start);
  const merged: DayPeriods = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last !== undefined && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/**
 * Compiles business hours (as `parseBusinessHours` returns them) into a calendar; `null` = always open.
 * Throws RangeError for a time zone Intl does not know (parse first).
 */
export function businessCalendar(hours: BusinessHours | null): BusinessCalendar {
  if (hours === null) return alwaysOpen;
  const zone = zoneOffsets(hours.timezone);
  // Indexed by the day number's weekday: days since 1970-01-01 (a Thursday) + 3, mod 7, is 0 for Monday.
  const week = weekdays.map((day) => compileDay(hours.weekly[day]));
  const neverOpens = week.every((day) => day.length === 0);
  const holidays = new Set((hours.holidays ?? []).map((text) => holidayDay(text)!));

  const periodsOn = (day: number): DayPeriods => (holidays.has(day) ? [] : (week[(((day + 3) % 7) + 7) % 7] ?? []));

  /** Whether a local wall-clock reading (ms, as if UTC) is inside a period. */
  const wallOpen = (wall: number): boolean => {
    const day = Math.floor(wall / dayMs);
    const ms = wall - day * dayMs;
    return periodsOn(day).some((p) => p.start <= ms && ms < p.end);
  };

  /** The first wall reading >= wall inside a period, if one comes before `limit`. */
  const wallNextOpen = (wall: number, limit: number): number | null => {
    for (let day = Math.floor(wall / dayMs); day * dayMs < limit; day++) {
      for (const p of periodsOn(day)) {
        const end = day * dayMs + p.end;
        if (end <= wall) continue;
        const at = Math.max(wall, day * dayMs + p.start);
        return at < limit ? at : null;
      }
    }
    return null;
  };

  /** For a wall reading inside a period: where that stretch ends (across midnights), or `limit` if it lasts that long. */
  const wallNextClose = (wall: number, limit: number): number => {
    let day = Math.floor(wall / dayMs);
    const ms = wall - day * dayMs;
    let end = day * dayMs + periodsOn(day).find((p) => p.start <= ms && ms < p.end)!.end;
    while (end === (day + 1) * dayMs && end < limit) {
      day++;
      const first = periodsOn(day)[0];
      if (first === undefined || first.start !== 0) break;
      end = day * dayMs + first.end;
    }
    return Math.min(end, limit);
  };

  // Both walk the timeline in stretches of one offset, asking the wall-clock questions inside each.
  const nextOpenBefore = (atMs: number, horizon: number): number | null => {
    if (neverOpens) return null;
    for (let at = atMs; at < horizon; ) {
      const { offset, end } = zone.segment(at);
      const wall = wallNextOpen(at + offset, end + offset);
      if (wall !== null) return wall - offset < horizon ? wall - offset : null;
      at = end;
    }
    return null;
  };

  // The walk stops at `horizon`: a calendar open around the clock has no close for years, and the
  // callers only need to know there is none before the instant they care about.
  const nextCloseBefore = (atMs: number, horizon: number): number | null => {
    for (let at = atMs; at < horizon; ) {
      const { offset, end } = zone.segment(at);
      const wall = at + offset;
      if (!wallOpen(wall)) return at;
      const stop = Math.min(end, horizon);
      const close = wallNextClose(wall, stop + offset);
      if (close < stop + offset) return close - offset;
      at = stop;
    }
    return null;
  };

  return {
    isOpen(atMs) {
      return wallOpen(atMs + zone.segment(atMs).offset);
    },
    nextOpen(atMs) {
      return nextOpenBefore(atMs, atMs + businessHorizonMs);
    },
    nextClose(atMs) {
      return nextCloseBefore(atMs, atMs + businessHorizonMs);
    },
    addBusinessTime(fromMs, durationMs) {
      if (checkedDuration(durationMs) === 0) return fromMs;
      const horizon = fromMs + businessHorizonMs;
      let rest = durationMs;
      for (let at = fromMs; ; ) {
        const open = nextOpenBefore(at, horizon);
        if (open === null) return null;
        // Only a close before the moment the rest would be done matters (the walk is bounded by it).
        const enough = Math.min(horizon, open + rest);
        const close = nextCloseBefore(open, enough) ?? enough;
        if (close - open >= rest) return open + rest <= horizon ? open + rest : null;
        rest -= close - open;
        at = close;
        if (at >= horizon) return null;
      }
    },
    businessTimeBetween(fromMs, toMs) {
      let total = 0;
      for (let at = fromMs; at < toMs; ) {
        const open = nextOpenBefore(at, toMs);
        if (open === null || open >= toMs) break;
        const close = Math.min(nextCloseBefore(open, toMs) ?? toMs, toMs);
        total += close - open;
        at = close;
      }
      return total;
    },
  };
}
