/**
 * The business-hours calendar of SPEC section 9: parsing with field paths, periods read on the local
 * wall clock (DST gaps shorten them, repeated hours count twice), holidays in local dates, periods
 * joining across midnight, and business-time arithmetic checked against an independent Intl oracle.
 */
import fc from 'fast-check';
import type { BusinessHours, Weekday } from '../../workflows/conversation/core/business-hours';
import { businessCalendar, businessHorizonMs, parseBusinessHours, weekdays, zoneOffsetAt } from '../../workflows/conversation/core/business-hours';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const numRuns = 300;
const at = (iso: string) => Date.parse(iso);

const officeWeek = (start: string, end: string): BusinessHours['weekly'] =>
  Object.fromEntries((['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((d) => [d, [[start, end]]]));
const everyDay = (start: string, end: string): BusinessHours['weekly'] => Object.fromEntries(weekdays.map((d) => [d, [[start, end]]]));

// ---------------------------------------------------------------------------------------------------
// An oracle that shares no code with the module: Intl's local reading of each instant, checked against
// the periods as written. Slow (one format per instant), so only used on single instants.

const oracleFormats = new Map<string, Intl.DateTimeFormat>();
function localReading(timeZone: string, ms: number): { date: string; weekday: Weekday; msOfDay: number } {
  let format = oracleFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    oracleFormats.set(timeZone, format);
  }
  const parts = { year: '', month: '', day: '', weekday: '', hour: '', minute: '', second: '' };
  for (const p of format.formatToParts(ms)) if (p.type in parts) parts[p.type as keyof typeof parts] = p.value;
  const sub = ((ms % 1000) + 1000) % 1000;
  return {
    date: `${parts.year.padStart(4, '0')}-${parts.month}-${parts.day}`,
    weekday: parts.weekday.toLowerCase().slice(0, 3) as Weekday,
    msOfDay: Number(parts.hour) * HOUR + Number(parts.minute) * MINUTE + Number(parts.second) * 1000 + sub,
  };
}

function oracleOpen(hours: BusinessHours, ms: number): boolean {
  const local = localReading(hours.timezone, ms);
  if (hours.holidays?.includes(local.date)) return false;
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * HOUR + Number(hhmm.slice(3)) * MINUTE;
  return (hours.weekly[local.weekday] ?? []).some(([s, e]) => minutes(s) <= local.msOfDay && local.msOfDay < minutes(e));
}

// ---------------------------------------------------------------------------------------------------

describe('parseBusinessHours', () => {
  it('accepts several periods a day, 24:00 ends, adjacent periods, holidays, and returns a clean copy', () => {
    const input = {
      timezone: 'Asia/Kolkata',
      weekly: { mon: [['13:00', '18:00'], ['09:00', '13:00']], sun: [['00:00', '24:00']], sat: [] },
      holidays: ['2026-01-26', '2028-02-29'],
    };
    expect(parseBusinessHours(input)).toEqual({ ok: true, value: input });
    expect(parseBusinessHours({ timezone: 'UTC', weekly: {} })).toEqual({ ok: true, value: { timezone: 'UTC', weekly: {} } });
    for (const timezone of ['Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'Asia/Calcutta']) expect(parseBusinessHours({ timezone, weekly: {} }).ok).toBe(true);
  });

  it('accepts the most periods and holidays it allows', () => {
    const ten = Array.from({ length: 10 }, (_, i) => [`${String(i * 2).padStart(2, '0')}:00`, `${String(i * 2 + 1).padStart(2, '0')}:00`]);
    const days = Array.from({ length: 400 }, (_, i) => new Date(Date.UTC(2026, 0, 1) + i * DAY).toISOString().slice(0, 10));
    expect(parseBusinessHours({ timezone: 'Europe/Berlin', weekly: { mon: ten }, holidays: days }).ok).toBe(true);
  });

  const valid = { timezone: 'Europe/Berlin', weekly: { mon: [['09:00', '17:00']] } };
  it.each<[string, unknown, string[]]>([
    ['not an object', 'Mon-Fri 9-5', ['businessHours: must be an object { timezone, weekly, holidays? }']],
    ['null', null, ['businessHours: must be an object { timezone, weekly, holidays? }']],
    ['a list', [], ['businessHours: must be an object { timezone, weekly, holidays? }']],
    ['an unknown field', { ...valid, tz: 'UTC' }, ['businessHours.tz: unknown field']],
    ['no timezone', { weekly: {} }, ['businessHours.timezone: must be an IANA time zone name like "Europe/Berlin"']],
    ['an unknown timezone', { ...valid, timezone: 'Mars/Olympus' }, ['businessHours.timezone: "Mars/Olympus" is not a time zone this server knows']],
    ['an offset instead of a zone', { ...valid, timezone: '+05:30' }, ['businessHours.timezone: "+05:30" is not a time zone this server knows']],
    ['no weekly', { timezone: 'UTC' }, ['businessHours.weekly: must be an object with days mon..sun']],
    ['an unknown day', { timezone: 'UTC', weekly: { monday: [] } }, ['businessHours.weekly.monday: not a day (mon, tue, wed, thu, fri, sat, sun)']],
    ['a day that is not a list', { timezone: 'UTC', weekly: { tue: '09:00-17:00' } }, ['businessHours.weekly.tue: must be a list of ["HH:MM", "HH:MM"] periods']],
    ['a period that is not a pair', { timezone: 'UTC', weekly: { tue: [['09:00']] } }, ['businessHours.weekly.tue[0]: must be a pair ["HH:MM", "HH:MM"]']],
    ['a bad start', { timezone: 'UTC', weekly: { wed: [['9:00', '17:00']] } }, ['businessHours.weekly.wed[0][0]: must be a time "HH:MM" from 00:00 to 24:00']],
    ['an end past 24:00', { timezone: 'UTC', weekly: { wed: [['09:00', '24:01']] } }, ['businessHours.weekly.wed[0][1]: must be a time "HH:MM" from 00:00 to 24:00']],
    ['minutes past 59', { timezone: 'UTC', weekly: { wed: [['09:60', '10:00']] } }, ['businessHours.weekly.wed[0][0]: must be a time "HH:MM" from 00:00 to 24:00']],
    ['seconds', { timezone: 'UTC', weekly: { wed: [['09:00:00', '10:00']] } }, ['businessHours.weekly.wed[0][0]: must be a time "HH:MM" from 00:00 to 24:00']],
    [
      'a period crossing midnight',
      { timezone: 'UTC', weekly: { mon: [['08:00', '09:00'], ['22:00', '02:00']] } },
      ['businessHours.weekly.mon[1]: ends before it starts (a period crossing midnight is split over two days)'],
    ],
    ['an empty period', { timezone: 'UTC', weekly: { fri: [['09:00', '09:00']] } }, ['businessHours.weekly.fri[0]: ends where it starts']],
    ['a period starting at 24:00', { timezone: 'UTC', weekly: { fri: [['24:00', '24:00']] } }, ['businessHours.weekly.fri[0]: ends where it starts']],
    [
      'overlapping periods, listed in any order',
      { timezone: 'UTC', weekly: { sat: [['12:00', '14:00'], ['08:00', '12:30']] } },
      ['businessHours.weekly.sat[1]: overlaps businessHours.weekly.sat[0]'],
    ],
    [
      'two periods inside a long one, each reported once',
      { timezone: 'UTC', weekly: { sun: [['08:00', '18:00'], ['09:00', '10:00'], ['11:00', '12:00']] } },
      ['businessHours.weekly.sun[1]: overlaps businessHours.weekly.sun[0]', 'businessHours.weekly.sun[2]: overlaps businessHours.weekly.sun[0]'],
    ],
    [
      'more than 10 periods a day',
      { timezone: 'UTC', weekly: { sun: Array.from({ length: 11 }, (_, i) => [`${String(i).padStart(2, '0')}:00`, `${String(i).padStart(2, '0')}:30`]) } },
      ['businessHours.weekly.sun: at most 10 periods a day'],
    ],
    ['holidays that are not a list', { ...valid, holidays: '2026-12-25' }, ['businessHours.holidays: must be a list of dates "YYYY-MM-DD"']],
    ['more than 400 holidays', { ...valid, holidays: Array.from({ length: 401 }, () => '2026-12-25') }, ['businessHours.holidays: at most 400 dates']],
    [
      'holidays that are not dates',
      { ...valid, holidays: ['2026-12-25', '2026-02-29', '2026-13-01', '2026-1-05', 20261225, '2028-02-29'] },
      [
        'businessHours.holidays[1]: must be a date "YYYY-MM-DD" that exists',
        'businessHours.holidays[2]: must be a date "YYYY-MM-DD" that exists',
        'businessHours.holidays[3]: must be a date "YYYY-MM-DD" that exists',
        'businessHours.holidays[4]: must be a date "YYYY-MM-DD" that exists',
      ],
    ],
    ['a repeated holiday', { ...valid, holidays: ['2026-12-25', '2026-12-26', '2026-12-25'] }, ['businessHours.holidays[2]: repeats holidays[0]']],
    [
      'several mistakes at once, each with its path',
      { timezone: 'Nowhere/Land', weekly: { mon: [['17:00', '09:00']], xyz: [] }, holidays: ['2026-02-30'] },
      [
        'businessHours.timezone: "Nowhere/Land" is not a time zone this server knows',
        'businessHours.weekly.mon[0]: ends before it starts (a period crossing midnight is split over two days)',
        'businessHours.weekly.xyz: not a day (mon, tue, wed, thu, fri, sat, sun)',
        'businessHours.holidays[0]: must be a date "YYYY-MM-DD" that exists',
      ],
    ],
  ])('rejects %s, naming the field', (_name, input, errors) => {
    expect(parseBusinessHours(input)).toEqual({ ok: false, errors });
  });
});

describe('zone offsets', () => {
  it.each([
    ['Asia/Kolkata', '2026-06-01T00:00:00Z', 5.5 * HOUR],
    ['Europe/Berlin', '2026-01-15T12:00:00Z', HOUR],
    ['Europe/Berlin', '2026-07-15T12:00:00Z', 2 * HOUR],
    ['America/New_York', '2026-01-15T12:00:00Z', -5 * HOUR],
    ['Australia/Lord_Howe', '2026-01-15T12:00:00Z', 11 * HOUR],
    ['Australia/Lord_Howe', '2026-07-15T12:00:00Z', 10.5 * HOUR],
    ['Pacific/Chatham', '2026-07-15T12:00:00Z', 12.75 * HOUR],
    ['Europe/Berlin', '1800-01-01T00:00:00Z', 53 * MINUTE + 28_000],
  ])('reads %s at %s as %p ms ahead of UTC', (zone, iso, offset) => {
    expect(zoneOffsetAt(zone, at(iso))).toBe(offset);
  });

  it.each(['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham'])('agrees with Intl every 15 minutes of 2026 in %s', (zone) => {
    const wrong: string[] = [];
    for (let t = at('2026-01-01T00:00:00Z'); t < at('2027-01-01T00:00:00Z'); t += 15 * MINUTE) {
      const offset = zoneOffsetAt(zone, t);
      const wall = new Date(t + offset);
      if (wall.getUTCHours() * HOUR + wall.getUTCMinutes() * MINUTE !== localReading(zone, t).msOfDay) wrong.push(new Date(t).toISOString());
    }
    expect(wrong).toEqual([]);
  });

  it('finds each transition to the second (Berlin, spring 2026, 01:00Z)', () => {
    expect(zoneOffsetAt('Europe/Berlin', at('2026-03-29T00:59:59.999Z'))).toBe(HOUR);
    expect(zoneOffsetAt('Europe/Berlin', at('2026-03-29T01:00:00.000Z'))).toBe(2 * HOUR);
  });
});

describe('businessCalendar on ordinary days', () => {
  const berlin = businessCalendar({ timezone: 'Europe/Berlin', weekly: { ...officeWeek('09:00', '17:00'), sat: [['10:00', '14:00']] } });

  it.each([
    ['2026-01-05T07:59:59.999Z', false], // Monday 08:59:59.999 CET
    ['2026-01-05T08:00:00.000Z', true], // Monday 09:00 CET
    ['2026-01-05T15:59:59.999Z', true],
    ['2026-01-05T16:00:00.000Z', false], // 17:00 CET: end exclusive
    ['2026-07-06T07:00:00.000Z', true], // Monday 09:00 CEST
    ['2026-07-06T06:59:59.999Z', false],
    ['2026-01-11T10:00:00.000Z', false], // Sunday
  ])('Berlin office week: %s open is %p', (iso, open) => {
    expect(berlin.isOpen(at(iso))).toBe(open);
  });

  it.each([
    // from Friday 16:00 CET: 1h on Friday, the rest from Saturday 10:00 CET
    ['2026-01-09T15:00:00Z', 2 * HOUR, '2026-01-10T10:00:00.000Z'],
    // exactly to the end of a period: the due time is the closing instant
    ['2026-01-09T15:00:00Z', HOUR, '2026-01-09T16:00:00.000Z'],
    // from Sunday: Monday 09:00 CET + 1ms
    ['2026-01-11T12:00:00Z', 1, '2026-01-12T08:00:00.001Z'],
    // Friday 16:00 CET + 8h over the spring-forward weekend: 1h Fri, 4h Sat, Monday 09:00 CEST + 3h
    ['2026-03-27T15:00:00Z', 8 * HOUR, '2026-03-30T10:00:00.000Z'],
    // zero is the start itself, open or not
    ['2026-01-11T12:00:00Z', 0, '2026-01-11T12:00:00.000Z'],
  ])('Berlin: %s + %p ms of business time is %s', (from, duration, due) => {
    const result = berlin.addBusinessTime(at(from), duration);
    expect(new Date(result!).toISOString()).toBe(due);
    expect(berlin.businessTimeBetween(at(from), result!)).toBe(duration);
  });

  it('counts a whole ordinary week as 5 x 8h + 4h, in winter and in summer', () => {
    expect(berlin.businessTimeBetween(at('2026-01-04T23:00:00Z'), at('2026-01-11T23:00:00Z'))).toBe(44 * HOUR);
    expect(berlin.businessTimeBetween(at('2026-07-05T22:00:00Z'), at('2026-07-12T22:00:00Z'))).toBe(44 * HOUR);
    expect(berlin.businessTimeBetween(at('2026-07-12T22:00:00Z'), at('2026-07-05T22:00:00Z'))).toBe(0);
  });

  it('Kolkata (+05:30): opens at 09:30 IST, which is 04:00Z', () => {
    const kolkata = businessCalendar({ timezone: 'Asia/Kolkata', weekly: officeWeek('09:30', '18:00') });
    expect(kolkata.nextOpen(at('2026-01-04T12:00:00Z'))).toBe(at('2026-01-05T04:00:00Z'));
    expect(kolkata.nextClose(at('2026-01-05T04:00:00Z'))).toBe(at('2026-01-05T12:30:00Z'));
  });

  it('joins periods that meet in a day into one stretch', () => {
    const split = businessCalendar({ timezone: 'Europe/Berlin', weekly: { mon: [['12:00', '13:00'], ['09:00', '12:00']] } });
    expect(split.nextClose(at('2026-01-05T08:00:00Z'))).toBe(at('2026-01-05T12:00:00Z'));
  });
});

describe('businessCalendar across midnight and 24:00', () => {
  const lateShift: BusinessHours = { timezone: 'Europe/Berlin', weekly: { mon: [['23:00', '24:00']], tue: [['00:00', '01:00']] } };

  it('treats 23:00-24:00 Monday and 00:00-01:00 Tuesday as one continuous stretch', () => {
    const cal = businessCalendar(lateShift);
    const start = at('2026-01-05T22:00:00Z'); // Monday 23:00 CET
    expect(cal.nextClose(start)).toBe(at('2026-01-06T00:00:00Z'));
    expect(cal.isOpen(at('2026-01-05T23:00:00Z'))).toBe(true); // Tuesday 00:00 CET
    expect(cal.isOpen(at('2026-01-05T22:59:59.999Z'))).toBe(true);
    expect(cal.addBusinessTime(start, 90 * MINUTE)).toBe(at('2026-01-05T23:30:00Z'));
    expect(cal.businessTimeBetween(at('2026-01-05T00:00:00Z'), at('2026-01-07T00:00:00Z'))).toBe(2 * HOUR);
  });

  it('stops at midnight when the next day is a holiday', () => {
    const cal = businessCalendar({ ...lateShift, holidays: ['2026-01-06'] });
    expect(cal.nextClose(at('2026-01-05T22:00:00Z'))).toBe(at('2026-01-05T23:00:00Z'));
    expect(cal.nextOpen(at('2026-01-05T23:00:00Z'))).toBe(at('2026-01-12T22:00:00Z'));
  });

  it('never closes when every day is 00:00-24:00, and closes for a holiday', () => {
    expect(businessCalendar({ timezone: 'Asia/Tokyo', weekly: everyDay('00:00', '24:00') }).nextClose(at('2026-01-05T00:00:00Z'))).toBeNull();
    const cal = businessCalendar({ timezone: 'Asia/Tokyo', weekly: everyDay('00:00', '24:00'), holidays: ['2026-05-05'] });
    expect(cal.nextClose(at('2026-01-05T00:00:00Z'))).toBe(at('2026-05-04T15:00:00Z')); // 00:00 JST
    expect(cal.nextOpen(at('2026-05-04T15:00:00Z'))).toBe(at('2026-05-05T15:00:00Z'));
    expect(cal.addBusinessTime(at('2026-05-04T14:00:00Z'), 2 * HOUR)).toBe(at('2026-05-05T16:00:00Z'));
  });
});

describe('businessCalendar holidays are local dates', () => {
  const hours: BusinessHours = { timezone: 'Asia/Kolkata', weekly: { mon: [['00:00', '24:00']], tue: [['00:00', '24:00']] }, holidays: ['2026-01-27'] };
  const cal = businessCalendar(hours);

  it('closes at local midnight of the holiday, not UTC midnight', () => {
    expect(cal.isOpen(at('2026-01-26T18:29:59.999Z'))).toBe(true); // Monday 23:59:59.999 IST
    expect(cal.isOpen(at('2026-01-26T18:30:00.000Z'))).toBe(false); // Tuesday 00:00 IST, still Monday in UTC
    expect(cal.nextClose(at('2026-01-25T18:30:00Z'))).toBe(at('2026-01-26T18:30:00Z'));
    expect(cal.nextOpen(at('2026-01-26T18:30:00Z'))).toBe(at('2026-02-01T18:30:00Z'));
  });

  it('skips a holiday in an office week', () => {
    const office = businessCalendar({ timezone: 'Asia/Kolkata', weekly: officeWeek('09:30', '18:00'), holidays: ['2026-01-26'] });
    expect(office.nextOpen(at('2026-01-23T12:30:00Z'))).toBe(at('2026-01-27T04:00:00Z')); // Friday 18:00 -> Tuesday 09:30 IST
  });
});

describe('businessCalendar on DST transition days', () => {
  // Each case: Sunday-only periods, and the business stretches (UTC) they make on that Sunday.
  it.each<[string, string, string, [string, string][], [string, string][]]>([
    ['Berlin spring: 01:00-04:00 spans the gap and lasts 2h', 'Europe/Berlin', '2026-03-29', [['01:00', '04:00']], [['2026-03-29T00:00:00Z', '2026-03-29T02:00:00Z']]],
    ['Berlin spring: 02:30-03:30 exists only from 03:00', 'Europe/Berlin', '2026-03-29', [['02:30', '03:30']], [['2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z']]],
    ['Berlin spring: 02:00-03:00 does not exist that day', 'Europe/Berlin', '2026-03-29', [['02:00', '03:00']], []],
    ['Berlin autumn: 02:00-03:00 happens twice and lasts 2h', 'Europe/Berlin', '2026-10-25', [['02:00', '03:00']], [['2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z']]],
    [
      'Berlin autumn: 01:00-02:30 is open, closed for 30 min, open again',
      'Europe/Berlin',
      '2026-10-25',
      [['01:00', '02:30']],
      [['2026-10-24T23:00:00Z', '2026-10-25T00:30:00Z'], ['2026-10-25T01:00:00Z', '2026-10-25T01:30:00Z']],
    ],
    ['New York autumn: 01:00-02:00 lasts 2h', 'America/New_York', '2026-11-01', [['01:00', '02:00']], [['2026-11-01T05:00:00Z', '2026-11-01T07:00:00Z']]],
    [
      'New York autumn: 00:00-01:30 comes in two pieces',
      'America/New_York',
      '2026-11-01',
      [['00:00', '01:30']],
      [['2026-11-01T04:00:00Z', '2026-11-01T05:30:00Z'], ['2026-11-01T06:00:00Z', '2026-11-01T06:30:00Z']],
    ],
    ['New York spring: 02:30-03:30 lasts 30 min', 'America/New_York', '2026-03-08', [['02:30', '03:30']], [['2026-03-08T07:00:00Z', '2026-03-08T07:30:00Z']]],
    ['New York spring: 01:00-04:00 lasts 2h', 'America/New_York', '2026-03-08', [['01:00', '04:00']], [['2026-03-08T06:00:00Z', '2026-03-08T08:00:00Z']]],
    ['Lord Howe autumn (30-min DST): 01:30-02:00 lasts 1h', 'Australia/Lord_Howe', '2026-04-05', [['01:30', '02:00']], [['2026-04-04T14:30:00Z', '2026-04-04T15:30:00Z']]],
    ['Lord Howe spring: 02:00-03:00 lasts 30 min', 'Australia/Lord_Howe', '2026-10-04', [['02:00', '03:00']], [['2026-10-03T15:30:00Z', '2026-10-03T16:00:00Z']]],
    ['Chatham spring: 02:00-04:00 lasts 1h', 'Pacific/Chatham', '2026-09-27', [['02:00', '04:00']], [['2026-09-26T13:15:00Z', '2026-09-26T14:15:00Z']]],
  ])('%s', (_name, timezone, date, sunday, stretches) => {
    const cal = businessCalendar({ timezone, weekly: { sun: sunday } });
    const from = at(`${date}T00:00:00Z`) - 2 * DAY;
    const to = from + 4 * DAY;
    let cursor = from;
    for (const [openIso, closeIso] of stretches) {
      expect(cal.nextOpen(cursor)).toBe(at(openIso));
      expect(cal.isOpen(at(openIso) - 1)).toBe(false);
      expect(cal.nextClose(at(openIso))).toBe(at(closeIso));
      expect(cal.isOpen(at(closeIso) - 1)).toBe(true);
      cursor = at(closeIso);
    }
    const expected = stretches.reduce((sum, [o, c]) => sum + at(c) - at(o), 0);
    expect(cal.businessTimeBetween(from, to)).toBe(expected);
    // the next opening after that Sunday is a week later
    expect(cal.nextOpen(cursor)! - from).toBeGreaterThan(4 * DAY);
    if (expected > 0) expect(cal.addBusinessTime(from, expected)).toBe(at(stretches.at(-1)![1]));
  });

  it('Apia skipped Friday 2011-12-30: Thursday closes, Saturday opens, Friday never happens', () => {
    const cal = businessCalendar({ timezone: 'Pacific/Apia', weekly: officeWeek('09:00', '17:00') });
    const saturday = businessCalendar({ timezone: 'Pacific/Apia', weekly: { ...officeWeek('09:00', '17:00'), sat: [['09:00', '17:00']] } });
    expect(cal.nextOpen(at('2011-12-30T03:00:00Z'))).toBe(at('2012-01-01T19:00:00Z')); // Thursday 17:00 (-10) -> Monday 09:00 (+14)
    expect(saturday.nextOpen(at('2011-12-30T03:00:00Z'))).toBe(at('2011-12-30T19:00:00Z')); // Saturday 09:00 (+14)
    expect(saturday.businessTimeBetween(at('2011-12-29T10:00:00Z'), at('2011-12-31T12:00:00Z'))).toBe(16 * HOUR); // Thursday 00:00 (-10) to Sunday 02:00 (+14): Thursday and Saturday only
  });
});

describe('businessCalendar without hours, never open, and beyond the horizon', () => {
  it('null hours: always open, business time is real time', () => {
    const cal = businessCalendar(null);
    expect(cal.isOpen(123)).toBe(true);
    expect(cal.nextOpen(123)).toBe(123);
    expect(cal.nextClose(123)).toBeNull();
    expect(cal.addBusinessTime(1_000, 5 * DAY)).toBe(1_000 + 5 * DAY);
    expect(cal.businessTimeBetween(1_000, 1_000 + DAY)).toBe(DAY);
    expect(cal.businessTimeBetween(5, 1)).toBe(0);
  });

  it('no periods at all: never open', () => {
    const cal = businessCalendar({ timezone: 'Europe/Berlin', weekly: {}, holidays: ['2026-12-25'] });
    const t = at('2026-06-01T12:00:00Z');
    expect(cal.isOpen(t)).toBe(false);
    expect(cal.nextOpen(t)).toBeNull();
    expect(cal.nextClose(t)).toBe(t);
    expect(cal.addBusinessTime(t, 1)).toBeNull();
    expect(cal.addBusinessTime(t, 0)).toBe(t);
    expect(cal.businessTimeBetween(t, t + 30 * DAY)).toBe(0);
  });

  it(`answers null when the time needed lies more than ${businessHorizonMs / DAY} days ahead`, () => {
    const cal = businessCalendar({ timezone: 'Europe/Berlin', weekly: { mon: [['00:00', '00:01']] } });
    const t = at('2026-06-01T12:00:00Z');
    expect(cal.addBusinessTime(t, 365 * DAY)).toBeNull();
    const year = cal.addBusinessTime(t, 52 * MINUTE)!;
    expect(year - t).toBeGreaterThan(360 * DAY);
    expect(cal.businessTimeBetween(t, year)).toBe(52 * MINUTE);
  });

  it('spends the largest policy duration (365d) on a 40-hour week in about 4.2 years, without walking minutes', () => {
    const cal = businessCalendar({ timezone: 'America/New_York', weekly: officeWeek('09:00', '17:00') });
    const t = at('2026-06-01T12:00:00Z');
    const started = performance.now();
    const due = cal.addBusinessTime(t, 365 * DAY)!;
    expect(cal.businessTimeBetween(t, due)).toBe(365 * DAY);
    expect((due - t) / (365.25 * DAY)).toBeCloseTo(4.2, 1);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('answers at the very ends of the Date range without throwing', () => {
    const cal = businessCalendar({ timezone: 'America/New_York', weekly: everyDay('09:00', '17:00') });
    for (const t of [-8.64e15, 8.64e15]) {
      expect(typeof cal.isOpen(t)).toBe('boolean');
      expect(cal.businessTimeBetween(t - DAY, t)).toBeLessThanOrEqual(8 * HOUR);
    }
  });

  it('rejects a negative duration', () => {
    expect(() => businessCalendar(null).addBusinessTime(0, -1)).toThrow(RangeError);
    expect(() => businessCalendar({ timezone: 'UTC', weekly: {} }).addBusinessTime(0, -1)).toThrow(RangeError);
  });

  it('works at any instant, far before and far after today', () => {
    const hours: BusinessHours = { timezone: 'Europe/Berlin', weekly: officeWeek('09:00', '17:00') };
    const cal = businessCalendar(hours);
    for (const t of [at('0001-01-01T10:00:00Z'), -62_000_000_000_000, -8.6e15, 8.6e15, 253_402_300_800_000]) {
      const open = cal.nextOpen(t)!;
      expect(oracleOpen(hours, open)).toBe(true);
      if (open > t) expect(oracleOpen(hours, open - 1)).toBe(false);
      expect(cal.businessTimeBetween(t, cal.addBusinessTime(t, 20 * HOUR)!)).toBe(20 * HOUR);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties over random calendars in zones with every kind of offset change.

const zonesUnderTest = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Apia', 'America/Sao_Paulo', 'UTC'];
const rangeStart = at('2024-01-01T00:00:00Z');
const rangeEnd = at('2028-01-01T00:00:00Z');

/** A day: 0-4 periods from sorted, distinct quarter-hour marks (so some start at 00:00 or end at 24:00). */
const dayArb = fc.uniqueArray(fc.integer({ min: 0, max: 96 }), { maxLength: 8 }).map((marks) => {
  const sorted = [...marks].sort((a, b) => a - b);
  const hhmm = (q: number) => `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;
  const periods: [string, string][] = [];
  for (let i = 0; i + 1 < sorted.length; i += 2) periods.push([hhmm(sorted[i] ?? 0), hhmm(sorted[i + 1] ?? 0)]);
  return periods;
});
const dateArb = fc.integer({ min: at('2024-01-01T00:00:00Z') / DAY, max: at('2027-12-31T00:00:00Z') / DAY }).map((d) => new Date(d * DAY).toISOString().slice(0, 10));
const hoursArb: fc.Arbitrary<BusinessHours> = fc.record({
  timezone: fc.constantFrom(...zonesUnderTest),
  weekly: fc.record(Object.fromEntries(weekdays.map((d) => [d, dayArb])) as Record<Weekday, fc.Arbitrary<[string, string][]>>),
  holidays: fc.uniqueArray(dateArb, { maxLength: 30 }),
});
/** Instants in the range, biased to the minutes around DST transitions and period edges. */
const instantArb = fc.oneof(
  fc.integer({ min: rangeStart, max: rangeEnd }),
  fc.integer({ min: rangeStart / (15 * MINUTE), max: rangeEnd / (15 * MINUTE) }).chain((q) => fc.integer({ min: -2, max: 2 }).map((d) => q * 15 * MINUTE + d)),
);
const durationArb = fc.oneof(fc.integer({ min: 0, max: 4 * HOUR }), fc.integer({ min: 0, max: 30 * DAY }));

describe('businessCalendar properties', () => {
  it('parses every generated calendar (they are valid by construction)', () => {
    fc.assert(
      fc.property(hoursArb, (hours) => {
        expect(parseBusinessHours(hours)).toEqual({ ok: true, value: hours });
      }),
      { numRuns },
    );
  });

  it('isOpen agrees with an independent Intl reading of the local clock', () => {
    fc.assert(
      fc.property(hoursArb, instantArb, (hours, t) => {
        expect(businessCalendar(hours).isOpen(t)).toBe(oracleOpen(hours, t));
      }),
      { numRuns: 2_000 },
    );
  });

  it('nextOpen and nextClose agree with isOpen', () => {
    fc.assert(
      fc.property(hoursArb, instantArb, (hours, t) => {
        const cal = businessCalendar(hours);
        const open = cal.nextOpen(t);
        expect(open === t).toBe(cal.isOpen(t));
        if (open !== null) {
          expect(open).toBeGreaterThanOrEqual(t);
          expect(oracleOpen(hours, open)).toBe(true);
          if (open > t) expect(oracleOpen(hours, open - 1)).toBe(false);
          expect(cal.businessTimeBetween(t, open)).toBe(0);
        }
        const close = cal.nextClose(t);
        if (close !== null) {
          expect(close).toBeGreaterThanOrEqual(t);
          expect(oracleOpen(hours, close)).toBe(false);
          if (close > t) expect(oracleOpen(hours, close - 1)).toBe(true);
          expect(cal.businessTimeBetween(t, close)).toBe(close - t);
        }
      }),
      { numRuns },
    );
  });

  it('addBusinessTime and businessTimeBetween are inverse', () => {
    fc.assert(
      fc.property(hoursArb, instantArb, durationArb, (hours, from, duration) => {
        const cal = businessCalendar(hours);
        const due = cal.addBusinessTime(from, duration);
        if (due === null) {
          expect(cal.businessTimeBetween(from, from + businessHorizonMs)).toBeLessThan(duration);
          return;
        }
        expect(due).toBeGreaterThanOrEqual(from);
        expect(cal.businessTimeBetween(from, due)).toBe(duration);
        // and it is the first such instant: one ms earlier is one ms short
        if (duration > 0) expect(cal.businessTimeBetween(from, due - 1)).toBe(duration - 1);
      }),
      { numRuns },
    );
  });

  it('ends every positive duration on business time outside holidays (the ms before the due time is open)', () => {
    fc.assert(
      fc.property(hoursArb, instantArb, durationArb, (hours, from, duration) => {
        fc.pre(duration > 0);
        const due = businessCalendar(hours).addBusinessTime(from, duration);
        if (due === null) return;
        expect(oracleOpen(hours, due - 1)).toBe(true);
        expect(hours.holidays).not.toContain(localReading(hours.timezone, due - 1).date);
      }),
      { numRuns },
    );
  });

  it('addBusinessTime is monotone in the start and in the duration', () => {
    fc.assert(
      fc.property(hoursArb, instantArb, fc.integer({ min: 0, max: 3 * DAY }), durationArb, durationArb, (hours, from, later, d1, d2) => {
        const cal = businessCalendar(hours);
        const [small, large] = d1 <= d2 ? [d1, d2] : [d2, d1];
        const a = cal.addBusinessTime(from, small);
        const b = cal.addBusinessTime(from, large);
        if (a !== null && b !== null) expect(a).toBeLessThanOrEqual(b);
        const c = cal.addBusinessTime(from + later, small);
        if (a !== null && c !== null) expect(a).toBeLessThanOrEqual(c);
      }),
      { numRuns },
    );
  });

  it('businessTimeBetween is additive over any split, and never more than real time', () => {
    fc.assert(
      fc.property(hoursArb, instantArb, instantArb, instantArb, (hours, ...instants) => {
        const [a, b, c] = instants.sort((x, y) => x - y) as [number, number, number];
        const c2 = Math.min(c, a + 40 * DAY);
        const b2 = Math.min(b, c2);
        const cal = businessCalendar(hours);
        const whole = cal.businessTimeBetween(a, c2);
        expect(cal.businessTimeBetween(a, b2) + cal.businessTimeBetween(b2, c2)).toBe(whole);
        expect(whole).toBeLessThanOrEqual(c2 - a);
        expect(whole).toBeGreaterThanOrEqual(0);
      }),
      { numRuns },
    );
  });

  it('reads the same offsets as Intl at any instant, and around every transition of 2024-2027', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zonesUnderTest), fc.oneof(fc.integer({ min: -8.64e15 + 2 * DAY, max: 8.64e15 - 2 * DAY }), instantArb), (zone, t) => {
        const local = localReading(zone, t);
        const offset = zoneOffsetAt(zone, t);
        // the local reading the offset implies, in the oracle's terms
        const wall = new Date(t + offset);
        expect(wall.getUTCHours() * HOUR + wall.getUTCMinutes() * MINUTE + wall.getUTCSeconds() * 1000 + wall.getUTCMilliseconds()).toBe(local.msOfDay);
      }),
      { numRuns: 2_000 },
    );
  });
});
