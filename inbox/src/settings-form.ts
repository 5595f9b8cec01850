/**
 * The settings page's form for the account's clock policy (SPEC 9): business hours, out of office, SLA
 * targets, and the answer and snooze clocks. Pure, so test/unit/inbox-settings.test.ts covers it: the
 * policy document → the form, the form → one PATCH body holding only what changed, the checks made
 * before sending, and where an API refusal belongs in the form.
 *
 * Field keys are the API's own paths (`businessHours.weekly.mon[1]`, `sla.urgent.firstResponse`,
 * `outOfOffice.text`), so a refusal the API names lands at the field that caused it.
 */

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];
export const priorities = ['urgent', 'high', 'normal', 'low'] as const;
export type Priority = (typeof priorities)[number];
export const metrics = ['firstResponse', 'nextResponse', 'resolution'] as const;
export type Metric = (typeof metrics)[number];

export const weekdayNames: Record<Weekday, string> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };
export const metricLabels: Record<Metric, string> = { firstResponse: 'First response', nextResponse: 'Next response', resolution: 'Resolution' };

/** The clock fields of the policy document as `GET /v1/accounts/{id}` answers them (absent from older API processes). */
export interface ClockPolicy {
  businessHours?: { timezone: string; weekly: Partial<Record<Weekday, [string, string][]>>; holidays?: string[] } | null;
  outOfOffice?: { text: string; cooldown: string } | null;
  sla?: Partial<Record<Priority, Partial<Record<Metric, string | null>> | null>> | null;
  slaWarnBefore?: string | null;
  slaBusinessHoursOnly?: boolean | null;
  answerWithin?: string | null;
  snoozeWakeBeforeWindow?: string;
}

export interface Period {
  from: string;
  to: string;
}

/** What the page edits: text as typed; an empty duration means off. */
export interface SettingsForm {
  hoursOn: boolean;
  timezone: string;
  weekly: Record<Weekday, Period[]>;
  holidays: string[];
  outOfOfficeOn: boolean;
  outOfOfficeText: string;
  outOfOfficeCooldown: string;
  sla: Record<Priority, Record<Metric, string>>;
  slaWarnBefore: string;
  slaBusinessHoursOnly: boolean;
  answerWithin: string;
  snoozeWakeBeforeWindow: string;
}

/** Each key of the PATCH body this page may send, and how the form makes its value. */
type PatchBody = {
  businessHours?: ClockPolicy['businessHours'];
  outOfOffice?: ClockPolicy['outOfOffice'];
  sla?: Partial<Record<Priority, Record<Metric, string | null> | null>>;
  slaWarnBefore?: string | null;
  slaBusinessHoursOnly?: boolean;
  answerWithin?: string | null;
  snoozeWakeBeforeWindow?: string;
};

const emptyWeek = (): Record<Weekday, Period[]> => ({ mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] });
const emptyTargets = (): Record<Metric, string> => ({ firstResponse: '', nextResponse: '', resolution: '' });

/** The browser's own zone: the first guess for an account that has no business hours yet. */
export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** The form for a policy document. */
export function formOf(policy: ClockPolicy, fallbackZone = 'UTC'): SettingsForm {
  const hours = policy.businessHours ?? null;
  const weekly = emptyWeek();
  for (const day of weekdays) weekly[day] = (hours?.weekly[day] ?? []).map(([from, to]) => ({ from, to }));
  const sla = Object.fromEntries(priorities.map((p) => [p, { ...emptyTargets(), ...Object.fromEntries(metrics.map((m) => [m, policy.sla?.[p]?.[m] ?? ''])) }])) as SettingsForm['sla'];
  return {
    hoursOn: hours !== null,
    timezone: hours?.timezone ?? fallbackZone,
    weekly,
    holidays: [...(hours?.holidays ?? [])],
    outOfOfficeOn: (policy.outOfOffice ?? null) !== null,
    outOfOfficeText: policy.outOfOffice?.text ?? '',
    outOfOfficeCooldown: policy.outOfOffice?.cooldown ?? '12h',
    sla,
    slaWarnBefore: policy.slaWarnBefore ?? '',
    slaBusinessHoursOnly: policy.slaBusinessHoursOnly ?? hours !== null,
    answerWithin: policy.answerWithin ?? '',
    snoozeWakeBeforeWindow: policy.snoozeWakeBeforeWindow ?? '1h',
  };
}

const orNull = (text: string) => (text.trim() === '' ? null : text.trim());

/** Each field's wire value, as the PATCH body would carry it. */
const wire: { [K in keyof PatchBody]-?: (f: SettingsForm) => PatchBody[K] } = {
  businessHours: (f) => {
    if (!f.hoursOn) return null;
    const weekly: Partial<Record<Weekday, [string, string][]>> = {};
    for (const day of weekdays) if (f.weekly[day].length > 0) weekly[day] = f.weekly[day].map((p) => [p.from.trim(), p.to.trim()]);
    return { timezone: f.timezone.trim(), weekly, ...(f.holidays.length > 0 ? { holidays: f.holidays.map((h) => h.trim()) } : {}) };
  },
  outOfOffice: (f) => (f.outOfOfficeOn ? { text: f.outOfOfficeText, cooldown: f.outOfOfficeCooldown.trim() } : null),
  // A priority the API reads whole (metrics left out are off); one with no target at all is removed and uses normal's.
  sla: (f) =>
    Object.fromEntries(
      priorities.map((p) => {
        const targets = Object.fromEntries(metrics.map((m) => [m, orNull(f.sla[p][m])])) as Record<Metric, string | null>;
        return [p, metrics.some((m) => targets[m] !== null) ? targets : null];
      }),
    ),
  slaWarnBefore: (f) => orNull(f.slaWarnBefore),
  slaBusinessHoursOnly: (f) => f.slaBusinessHoursOnly,
  answerWithin: (f) => orNull(f.answerWithin),
  snoozeWakeBeforeWindow: (f) => f.snoozeWakeBeforeWindow.trim(),
};

const patchKeys = Object.keys(wire) as (keyof PatchBody)[];

/**
 * The PATCH body for what changed between the form as loaded and as it is now: fields left alone are not
 * sent, so a default that follows another field (`slaBusinessHoursOnly` follows business hours) keeps
 * following it, and a save changes nothing else. Within `sla`, only the priorities that changed.
 */
export function patchFor(loaded: SettingsForm, now: SettingsForm): PatchBody {
  const out: Record<string, unknown> = {};
  for (const key of patchKeys) {
    const before = wire[key](loaded);
    const after = wire[key](now);
    if (key === 'sla') {
      const b = before as NonNullable<PatchBody['sla']>;
      const a = after as NonNullable<PatchBody['sla']>;
      const changed = priorities.filter((p) => JSON.stringify(b[p]) !== JSON.stringify(a[p]));
      if (changed.length > 0) out.sla = Object.fromEntries(changed.map((p) => [p, a[p]]));
    } else if (JSON.stringify(before) !== JSON.stringify(after)) {
      out[key] = after;
    }
  }
  return out as PatchBody;
}

const durationPattern = /^(?:\d+(?:ms|s|m|h|d))+$/;
const clockPattern = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** Whether this browser knows a time zone name (the API checks again with its own list). */
export function knownTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * The simple checks made before sending, by field key; an empty object sends. The API has the last
 * word (it also refuses overlapping periods and dates that do not exist): its refusal lands by `placeRefusal`.
 */
export function checkForm(f: SettingsForm): Record<string, string> {
  const errors: Record<string, string> = {};
  const duration = (key: string, text: string, required: boolean) => {
    const t = text.trim();
    if (t === '' && !required) return;
    if (!durationPattern.test(t)) errors[key] = `"${t}" is not a duration like "15m", "4h" or "1h30m"`;
  };
  if (f.hoursOn) {
    if (!knownTimeZone(f.timezone.trim())) errors['businessHours.timezone'] = `"${f.timezone.trim()}" is not a time zone like "Europe/Berlin"`;
    for (const day of weekdays) {
      f.weekly[day].forEach((p, i) => {
        const key = `businessHours.weekly.${day}[${i}]`;
        const from = p.from.trim();
        const to = p.to.trim();
        if (!clockPattern.test(from) || !clockPattern.test(to)) errors[key] = 'times are "HH:MM", from 00:00 to 24:00';
        else if (minutesOf(to) <= minutesOf(from)) errors[key] = 'ends before it starts: a period crossing midnight is split over two days';
      });
    }
    f.holidays.forEach((h, i) => {
      if (!datePattern.test(h.trim())) errors[`businessHours.holidays[${i}]`] = 'a date "YYYY-MM-DD"';
    });
  }
  if (f.outOfOfficeOn) {
    if (f.outOfOfficeText.trim() === '') errors['outOfOffice.text'] = 'the reply a customer gets outside business hours is required';
    duration('outOfOffice.cooldown', f.outOfOfficeCooldown, true);
  }
  for (const p of priorities) for (const m of metrics) duration(`sla.${p}.${m}`, f.sla[p][m], false);
  duration('slaWarnBefore', f.slaWarnBefore, false);
  duration('answerWithin', f.answerWithin, false);
  duration('snoozeWakeBeforeWindow', f.snoozeWakeBeforeWindow, true);
  return errors;
}

/** Every field key the page shows, most specific first within a group: where a refusal can land. */
export function fieldKeys(f: SettingsForm): string[] {
  const keys = ['businessHours.timezone'];
  for (const day of weekdays) f.weekly[day].forEach((_p, i) => keys.push(`businessHours.weekly.${day}[${i}]`));
  keys.push('businessHours.weekly');
  f.holidays.forEach((_h, i) => keys.push(`businessHours.holidays[${i}]`));
  keys.push('businessHours.holidays', 'businessHours', 'outOfOffice.text', 'outOfOffice.cooldown', 'outOfOffice');
  for (const p of priorities) for (const m of metrics) keys.push(`sla.${p}.${m}`);
  keys.push('sla', 'slaWarnBefore', 'slaBusinessHoursOnly', 'answerWithin', 'snoozeWakeBeforeWindow');
  return keys;
}

/**
 * A `validation_failed` message as field key → message. The API writes `path: message`, several joined
 * by "; ", with paths in one of two spellings: the policy's own (`policy.businessHours.weekly.mon[1]`)
 * or the schema's (`businessHours.weekly.mon.1.0`); both become the page's (`businessHours.weekly.mon[1][0]`).
 * Each lands at the most specific field whose key starts its path; what fits no field stays under `form`.
 */
export function placeRefusal(message: string, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const parts = message.split(/; (?=[\w.[\]]+: )/);
  for (const part of parts) {
    const match = /^([\w.[\]]+): ([\s\S]*)$/.exec(part);
    const path = match ? normalPath(match[1]!) : '';
    const text = match ? match[2]! : part;
    const key = keys.find((k) => path === k || path.startsWith(`${k}.`) || path.startsWith(`${k}[`)) ?? 'form';
    out[key] ??= key === 'form' && path ? `${path}: ${text}` : fieldWords(text);
  }
  return out;
}

/** Paths inside a message, in the page's words: "overlaps businessHours.weekly.mon[0]" → "overlaps Monday period 1". */
function fieldWords(text: string): string {
  return text
    .replace(/(?:businessHours\.weekly\.)?\b(mon|tue|wed|thu|fri|sat|sun)\[(\d+)\]/g, (_m, day: Weekday, i: string) => `${weekdayNames[day]} period ${Number(i) + 1}`)
    .replace(/(?:businessHours\.)?\bholidays\[(\d+)\]/g, (_m, i: string) => `holiday ${Number(i) + 1}`);
}

function normalPath(path: string): string {
  return path.replace(/^policy\./, '').replace(/\.(\d+)(?=\.|\[|$)/g, '[$1]');
}

