import fc from 'fast-check';
import type { ClockPolicy, SettingsForm, Weekday } from '../../inbox/src/settings-form';
import { checkForm, fieldKeys, formOf, metrics, patchFor, placeRefusal, priorities, weekdays } from '../../inbox/src/settings-form';
import { formatDuration } from '../../workflows/conversation/core/durations';
import type { PolicyPatch } from '../../workflows/conversation/core/policy';
import { PolicyError, applyPolicyPatch, defaultPolicy, policyToDocument } from '../../workflows/conversation/core/policy';

/**
 * The settings page's form (inbox/src/settings-form.ts) against the policy core itself: what the page
 * sends is what the API's policy takes, what it reads back shows as sent, and a refusal lands at the
 * field it names.
 */

const document = (patch: PolicyPatch = {}) => policyToDocument(applyPolicyPatch(defaultPolicy, patch)) as unknown as ClockPolicy;
/** What the API answers to `validation_failed` from the policy (api/accounts.ts). */
const refusalOf = (patch: PolicyPatch): string => {
  try {
    applyPolicyPatch(defaultPolicy, patch);
  } catch (e) {
    if (e instanceof PolicyError) return `policy.${e.message}`;
    throw e;
  }
  throw new Error('accepted');
};

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
/** A day's periods: sorted, non-overlapping, none empty (what the API accepts). */
const day = fc.uniqueArray(fc.integer({ min: 0, max: 24 * 4 }), { maxLength: 6 }).map((marks) => {
  const sorted = [...marks].sort((a, b) => a - b).map((q) => q * 15);
  const periods = [];
  for (let i = 0; i + 1 < sorted.length; i += 2) periods.push({ from: hhmm(sorted[i]!), to: hhmm(sorted[i + 1]!) });
  return periods;
});
/** A duration as the API writes it back (canonical), or empty (off). */
const duration = fc.integer({ min: 1, max: 400 * 60 }).map((s) => formatDuration(s * 1000));
const optionalDuration = fc.option(duration, { nil: '' });
const form: fc.Arbitrary<SettingsForm> = fc.record({
  hoursOn: fc.boolean(),
  timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/Sao_Paulo', 'Asia/Kolkata'),
  weekly: fc.record(Object.fromEntries(weekdays.map((d) => [d, day])) as Record<Weekday, typeof day>),
  holidays: fc.uniqueArray(fc.date({ min: new Date('2026-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)), { maxLength: 4 }),
  outOfOfficeOn: fc.boolean(),
  outOfOfficeText: fc.string({ minLength: 1, maxLength: 40 }).filter((t) => t.trim() !== ''),
  outOfOfficeCooldown: duration,
  sla: fc.record(Object.fromEntries(priorities.map((p) => [p, fc.record(Object.fromEntries(metrics.map((m) => [m, optionalDuration])))])) as never),
  slaWarnBefore: optionalDuration,
  slaBusinessHoursOnly: fc.boolean(),
  answerWithin: optionalDuration,
  snoozeWakeBeforeWindow: duration,
});

describe('the settings form', () => {
  test('a valid form passes the checks, and once saved there is nothing left to save', () => {
    const loaded = formOf(document());
    fc.assert(
      fc.property(form, (edited) => {
        expect(checkForm(edited)).toEqual({});
        const patch = patchFor(loaded, edited);
        const saved = formOf(document(patch as PolicyPatch));
        const left = patchFor(saved, edited);
        // Left alone, "count business hours only" follows business hours (SPEC 9's default) and reads back as in force.
        if (patch.slaBusinessHoursOnly === undefined) {
          expect(saved.slaBusinessHoursOnly).toBe(edited.hoursOn);
          delete left.slaBusinessHoursOnly;
        }
        expect(left).toEqual({});
      }),
    );
  });

  test('a form left as loaded sends nothing; one SLA target sends only its priority, whole', () => {
    const loaded = formOf(document({ sla: { normal: { firstResponse: '1h' }, urgent: { firstResponse: '5m', resolution: '4h' } } }));
    expect(patchFor(loaded, loaded)).toEqual({});
    const edited = { ...loaded, sla: { ...loaded.sla, urgent: { ...loaded.sla.urgent, nextResponse: '15m' } } };
    expect(patchFor(loaded, edited)).toEqual({ sla: { urgent: { firstResponse: '5m', nextResponse: '15m', resolution: '4h' } } });
    const cleared = { ...loaded, sla: { ...loaded.sla, urgent: { firstResponse: '', nextResponse: '', resolution: '' } } };
    expect(patchFor(loaded, cleared)).toEqual({ sla: { urgent: null } });
  });

  test('switching business hours and out of office off sends null', () => {
    const loaded = formOf(document({ businessHours: { timezone: 'UTC', weekly: { mon: [['09:00', '17:00']] } }, outOfOffice: { text: 'Closed', cooldown: '1h' } }));
    expect(loaded.hoursOn && loaded.outOfOfficeOn).toBe(true);
    expect(patchFor(loaded, { ...loaded, hoursOn: false, outOfOfficeOn: false })).toEqual({ businessHours: null, outOfOffice: null });
  });

  const valid = formOf(document());
  test.each([
    [{ hoursOn: true, weekly: { ...valid.weekly, mon: [{ from: '09:00', to: '13:00' }, { from: '18:00', to: '14:00' }] } }, 'businessHours.weekly.mon[1]', 'ends before it starts'],
    [{ hoursOn: true, weekly: { ...valid.weekly, tue: [{ from: '9', to: '13:00' }] } }, 'businessHours.weekly.tue[0]', 'HH:MM'],
    [{ hoursOn: true, weekly: { ...valid.weekly, fri: [{ from: '10:00', to: '10:00' }] } }, 'businessHours.weekly.fri[0]', 'ends before it starts'],
    [{ hoursOn: true, timezone: 'Mars/Olympus' }, 'businessHours.timezone', 'not a time zone'],
    [{ hoursOn: true, holidays: [''] }, 'businessHours.holidays[0]', 'YYYY-MM-DD'],
    [{ sla: { ...valid.sla, urgent: { ...valid.sla.urgent, firstResponse: 'soon' } } }, 'sla.urgent.firstResponse', 'not a duration'],
    [{ outOfOfficeOn: true, outOfOfficeText: '  ' }, 'outOfOffice.text', 'required'],
    [{ outOfOfficeOn: true, outOfOfficeText: 'Closed', outOfOfficeCooldown: '12 hours' }, 'outOfOffice.cooldown', 'not a duration'],
    [{ snoozeWakeBeforeWindow: '' }, 'snoozeWakeBeforeWindow', 'not a duration'],
    [{ answerWithin: '1x' }, 'answerWithin', 'not a duration'],
  ] as [Partial<SettingsForm>, string, string][])('%j is refused at %s before sending', (patch, key, words) => {
    const errors = checkForm({ ...valid, ...patch });
    expect(Object.keys(errors)).toEqual([key]);
    expect(errors[key]).toContain(words);
  });

  test('business hours that are off are not checked', () => {
    expect(checkForm({ ...valid, hoursOn: false, timezone: 'nowhere', holidays: ['x'] })).toEqual({});
  });
});

describe("the API's refusals land at their field", () => {
  const withPeriods = { ...valid(), hoursOn: true, weekly: { ...valid().weekly, mon: [{ from: '09:00', to: '13:00' }, { from: '12:00', to: '14:00' }] }, holidays: ['2026-12-24'] };
  function valid() {
    return formOf(document());
  }
  const keys = fieldKeys(withPeriods);

  test('the policy core says which period overlaps, and the page puts it at that period', () => {
    const message = refusalOf({ businessHours: { timezone: 'UTC', weekly: { mon: [['09:00', '13:00'], ['12:00', '14:00']] } } });
    const placed = placeRefusal(message, keys);
    expect(placed).toEqual({ 'businessHours.weekly.mon[1]': 'overlaps Monday period 1' });
  });

  test('a repeated holiday is named as the page names it', () => {
    const message = refusalOf({ businessHours: { timezone: 'UTC', weekly: {}, holidays: ['2026-12-24', '2026-12-25', '2026-12-24'] } });
    expect(placeRefusal(message, fieldKeys({ ...withPeriods, holidays: ['2026-12-24', '2026-12-25', '2026-12-24'] }))).toEqual({ 'businessHours.holidays[2]': 'repeats holiday 1' });
  });

  test.each([
    [refusalOf({ businessHours: { timezone: 'UTC', weekly: {}, holidays: ['2026-02-30'] } }), 'businessHours.holidays[0]'],
    [refusalOf({ sla: { urgent: { firstResponse: '0s' } } }), 'sla.urgent.firstResponse'],
    [refusalOf({ outOfOffice: { cooldown: '1h' } }), 'outOfOffice.text'],
    [refusalOf({ outOfOffice: { text: 'x', cooldown: '400d' } }), 'outOfOffice.cooldown'],
    [refusalOf({ answerWithin: '500d' }), 'answerWithin'],
    // The schema's spelling (zod paths joined by dots).
    ['businessHours.weekly.mon.1.0: Invalid input', 'businessHours.weekly.mon[1]'],
    ['sla.high.resolution: a duration like "48h", "30m" or "5s"', 'sla.high.resolution'],
    ['slaWarnBefore: a duration like "48h", "30m" or "5s"', 'slaWarnBefore'],
    ['businessHours.weekly.xyz: unknown', 'businessHours.weekly'],
    ['preset: Invalid option', 'form'],
  ])('%s → %s', (message, key) => {
    const placed = placeRefusal(message, keys);
    expect(Object.keys(placed)).toEqual([key]);
    expect(placed[key]!.length).toBeGreaterThan(0);
  });

  test('several refusals in one message each land at their own field', () => {
    const placed = placeRefusal('sla.urgent.firstResponse: a duration like "48h"; answerWithin: a duration like "48h"', keys);
    expect(placed).toEqual({ 'sla.urgent.firstResponse': 'a duration like "48h"', answerWithin: 'a duration like "48h"' });
  });

  test('a refusal of a field the page does not show stays whole, path and all, for the form', () => {
    expect(placeRefusal('routing.mode: Invalid option', keys)).toEqual({ form: 'routing.mode: Invalid option' });
  });
});
