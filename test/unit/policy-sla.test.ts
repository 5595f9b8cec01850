/**
 * SPEC 9's policy fields: businessHours, sla per priority, slaBusinessHoursOnly (the boolean in force),
 * slaWarnBefore. Patches name the field they reject; documents read back what a patch set.
 */
import fc from 'fast-check';
import { formatDuration } from '../../workflows/conversation/core/durations';
import { PolicyError, applyPolicyPatch, defaultPolicy, effective, policyToDocument, slaPolicyOf } from '../../workflows/conversation/core/policy';
import type { SlaMetric, SlaPriority } from '../../workflows/conversation/core/sla';
import { slaMetrics, slaPriorities } from '../../workflows/conversation/core/sla';

const berlin = { timezone: 'Europe/Berlin', weekly: { mon: [['09:00', '13:00'], ['14:00', '18:00']] as [string, string][] }, holidays: ['2026-12-25'] };

function policyError(run: () => unknown): PolicyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return error as PolicyError;
  }
  throw new Error('expected a PolicyError, but nothing was thrown');
}

describe('SLA policy fields', () => {
  it('are off by default: always open, no targets, no warnings, wall time', () => {
    expect(policyToDocument(defaultPolicy)).toMatchObject({ businessHours: null, sla: {}, slaBusinessHoursOnly: false, slaWarnBefore: null });
    expect(slaPolicyOf(defaultPolicy)).toEqual({ targets: {}, warnBeforeMs: null, businessHoursOnly: false });
  });

  it('read back what a patch set, durations as strings', () => {
    const policy = applyPolicyPatch(defaultPolicy, { businessHours: berlin, sla: { urgent: { firstResponse: '5m', resolution: null }, normal: { nextResponse: '1h' } }, slaWarnBefore: '1m' });
    expect(policyToDocument(policy)).toMatchObject({
      businessHours: berlin,
      sla: { urgent: { firstResponse: '5m', resolution: null }, normal: { nextResponse: '1h' } },
      slaBusinessHoursOnly: true,
      slaWarnBefore: '1m',
    });
    expect(slaPolicyOf(policy)).toEqual({ targets: { urgent: { firstResponse: 300_000, resolution: null }, normal: { nextResponse: 3_600_000 } }, warnBeforeMs: 60_000, businessHoursOnly: true });
  });

  it('keeps business hours without nested arrays (FerretDB refuses them), periods as "HH:MM-HH:MM"', () => {
    const policy = applyPolicyPatch(defaultPolicy, { businessHours: berlin });
    expect(effective(policy).businessHours).toEqual({ timezone: 'Europe/Berlin', weekly: { mon: ['09:00-13:00', '14:00-18:00'] }, holidays: ['2026-12-25'] });
    const nested = (v: unknown): boolean => (Array.isArray(v) ? v.some((x) => Array.isArray(x) || nested(x)) : typeof v === 'object' && v !== null && Object.values(v).some(nested));
    expect(nested(policy)).toBe(false);
  });

  it.each([
    [null, false, false],
    [null, true, true],
    [false, true, false],
    [true, false, true],
  ] as const)('slaBusinessHoursOnly %p with business hours %p reads back as %p', (flag, withHours, inForce) => {
    const policy = applyPolicyPatch(defaultPolicy, { slaBusinessHoursOnly: flag, businessHours: withHours ? berlin : null });
    expect(policyToDocument(policy).slaBusinessHoursOnly).toBe(inForce);
    expect(slaPolicyOf(policy).businessHoursOnly).toBe(inForce);
  });

  it('an explicit slaBusinessHoursOnly stays when business hours change; null follows them again', () => {
    const off = applyPolicyPatch(applyPolicyPatch(defaultPolicy, { slaBusinessHoursOnly: false }), { businessHours: berlin });
    expect(policyToDocument(off).slaBusinessHoursOnly).toBe(false);
    expect(policyToDocument(applyPolicyPatch(off, { slaBusinessHoursOnly: null })).slaBusinessHoursOnly).toBe(true);
  });

  it('a patch replaces each priority it names whole, removes one set to null, and sla: null removes all', () => {
    const base = applyPolicyPatch(defaultPolicy, { sla: { urgent: { firstResponse: '5m' }, normal: { firstResponse: '1h', resolution: '1d' } } });
    const next = applyPolicyPatch(base, { sla: { normal: { nextResponse: '2h' }, urgent: null } });
    expect(effective(next).sla).toEqual({ normal: { nextResponse: 7_200_000 } });
    expect(effective(applyPolicyPatch(base, { sla: null })).sla).toEqual({});
  });

  it.each([
    [{ sla: { urgent: { firstResponse: 'soon' } } }, 'sla.urgent.firstResponse'],
    [{ sla: { low: { resolution: '0s' } } }, 'sla.low.resolution'],
    [{ slaWarnBefore: '500ms' }, 'slaWarnBefore'],
    [{ businessHours: { timezone: 'Mars/Olympus', weekly: {} } }, 'businessHours.timezone'],
    [{ businessHours: { timezone: 'UTC', weekly: { mon: [['18:00', '09:00']] } } }, 'businessHours.weekly.mon[0]'],
    [{ businessHours: { timezone: 'UTC', weekly: { tue: [['09:00', '12:00'], ['11:00', '13:00']] } } }, 'businessHours.weekly.tue[1]'],
  ] as const)('refuses %j naming %s', (patch, field) => {
    const error = policyError(() => applyPolicyPatch(defaultPolicy, patch as never));
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it('round-trips any SLA document through a patch', () => {
    const duration = fc.integer({ min: 1, max: 365 * 86_400 }).map((s) => formatDuration(s * 1_000));
    const metricTargets = fc.record(Object.fromEntries(slaMetrics.map((m) => [m, fc.option(duration)])) as Record<SlaMetric, fc.Arbitrary<string | null>>, { requiredKeys: [] });
    const sla = fc.record(Object.fromEntries(slaPriorities.map((p) => [p, metricTargets])) as Record<SlaPriority, typeof metricTargets>, { requiredKeys: [] });
    fc.assert(
      fc.property(sla, fc.option(duration), fc.option(fc.boolean()), (targets, warn, flag) => {
        const policy = applyPolicyPatch(defaultPolicy, { sla: targets, slaWarnBefore: warn, slaBusinessHoursOnly: flag });
        const document = policyToDocument(policy);
        expect(document.sla).toEqual(targets);
        const again = applyPolicyPatch(defaultPolicy, { sla: document.sla, slaWarnBefore: document.slaWarnBefore, slaBusinessHoursOnly: document.slaBusinessHoursOnly });
        expect(slaPolicyOf(again)).toEqual(slaPolicyOf(policy));
      }),
      { numRuns: 300 },
    );
  });
});

describe('out of office, answerWithin and snoozeWakeBeforeWindow (SPEC 9)', () => {
  it('are off by default, with the window wake 1h before the window closes', () => {
    expect(policyToDocument(defaultPolicy)).toMatchObject({ outOfOffice: null, answerWithin: null, snoozeWakeBeforeWindow: '1h' });
  });

  it('read back what a patch set; the cooldown defaults to 12h and a later patch keeps the text', () => {
    const on = applyPolicyPatch(defaultPolicy, { outOfOffice: { text: 'We are closed; back at 9:00.' }, answerWithin: '10m', snoozeWakeBeforeWindow: '30m' });
    expect(policyToDocument(on)).toMatchObject({ outOfOffice: { text: 'We are closed; back at 9:00.', cooldown: '12h' }, answerWithin: '10m', snoozeWakeBeforeWindow: '30m' });
    const shorter = applyPolicyPatch(on, { outOfOffice: { cooldown: '1h' } });
    expect(effective(shorter).outOfOffice).toEqual({ text: 'We are closed; back at 9:00.', cooldownMs: 3_600_000 });
    expect(effective(applyPolicyPatch(shorter, { outOfOffice: null, answerWithin: null })).outOfOffice).toBeNull();
  });

  it.each([
    [{ outOfOffice: { cooldown: '1h' } }, 'outOfOffice.text'],
    [{ outOfOffice: { text: '   ' } }, 'outOfOffice.text'],
    [{ outOfOffice: { text: 'x'.repeat(4_097) } }, 'outOfOffice.text'],
    [{ outOfOffice: { text: 'closed', cooldown: 'soon' } }, 'outOfOffice.cooldown'],
    [{ answerWithin: '0s' }, 'answerWithin'],
    [{ snoozeWakeBeforeWindow: '400d' }, 'snoozeWakeBeforeWindow'],
  ] as const)('%j is refused naming %s', (patch, field) => {
    expect(policyError(() => applyPolicyPatch(defaultPolicy, patch as never)).field).toBe(field);
  });
});
