import { manualRouting } from '../../workflows/routing/routing';
/**
 * The account policy: defaults of SPEC section 2, its string form for the API, and patches that
 * validate meaning, bump the version and name the field they reject.
 */
import fc from 'fast-check';
import { formatDuration } from '../../workflows/conversation/core/durations';
import type { Policy } from '../../workflows/conversation/core/policy';
import { PolicyError, applyPolicyPatch, defaultPolicy, effective, policyToDocument } from '../../workflows/conversation/core/policy';

const numRuns = 500;
const HOUR = 3_600_000;

function policyError(run: () => unknown): PolicyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return error as PolicyError;
  }
  throw new Error('expected a PolicyError, but nothing was thrown');
}

describe('defaultPolicy', () => {
  it('closes after 48h of customer silence and allows free-form replies for 24h, at version 0', () => {
    expect(defaultPolicy).toMatchObject({ preset: 'default', autoCloseAfterMs: 48 * HOUR, serviceWindowMs: 24 * HOUR, routing: manualRouting, version: 0 });
  });

  it('shows as the strings the API reads and writes', () => {
    expect(policyToDocument(defaultPolicy)).toMatchObject({ preset: 'default', autoCloseAfter: '48h', serviceWindow: '24h', routing: manualRouting, version: 0 });
  });
});

describe('applyPolicyPatch', () => {
  it('bumps the version even for an empty patch and changes nothing else', () => {
    expect(applyPolicyPatch(defaultPolicy, {})).toEqual({ ...defaultPolicy, version: 1 });
  });

  it('sets each duration it is given and keeps the others', () => {
    const base: Policy = { ...defaultPolicy, version: 7 };
    expect(applyPolicyPatch(base, { autoCloseAfter: '72h' })).toEqual({ ...base, autoCloseAfterMs: 72 * HOUR, version: 8 });
    expect(applyPolicyPatch(base, { serviceWindow: '30m', preset: 'default' })).toEqual({ ...base, serviceWindowMs: 1_800_000, version: 8 });
  });

  it('does not modify the policy it patches', () => {
    const base = Object.freeze({ ...defaultPolicy });
    applyPolicyPatch(base, { autoCloseAfter: '5s', serviceWindow: '5s' });
    expect(base).toEqual(defaultPolicy);
  });

  it.each([
    ['autoCloseAfter', 'forever'],
    ['autoCloseAfter', '48'],
    ['serviceWindow', ''],
    ['serviceWindow', '1.5h'],
  ] as const)('throws a PolicyError naming %s when %p is not a duration', (field, text) => {
    const error = policyError(() => applyPolicyPatch(defaultPolicy, { [field]: text }));
    expect(error.field).toBe(field);
    expect(error.name).toBe('PolicyError');
    expect(error.message).toMatch(new RegExp(`^${field}: `));
    expect(error.message).toContain(`"${text}"`);
  });

  it.each([
    ['autoCloseAfter', '999ms'],
    ['autoCloseAfter', '0s'],
    ['serviceWindow', '366d'],
    ['serviceWindow', '365d1ms'],
  ] as const)('throws a PolicyError naming %s when %p is outside 1s..365d', (field, text) => {
    const error = policyError(() => applyPolicyPatch(defaultPolicy, { [field]: text }));
    expect(error.field).toBe(field);
    expect(error.message).toBe(`${field}: must be between 1s and 365d`);
  });

  it.each(['1s', '1000ms', '365d'])('accepts the boundary %p', (text) => {
    expect(() => applyPolicyPatch(defaultPolicy, { autoCloseAfter: text, serviceWindow: text })).not.toThrow();
  });

  it('round-trips any in-range policy through its document form', () => {
    const durationMs = fc.integer({ min: 1_000, max: 365 * 86_400_000 });
    fc.assert(
      fc.property(durationMs, durationMs, fc.nat({ max: 1_000 }), (autoCloseAfterMs, serviceWindowMs, version) => {
        const policy: Policy = { preset: 'default', autoCloseAfterMs, serviceWindowMs, version };
        const document = policyToDocument(policy);
        expect(document.autoCloseAfter).toBe(formatDuration(autoCloseAfterMs));
        const { preset, autoCloseAfter, serviceWindow } = document;
        expect(effective(applyPolicyPatch(policy, { preset, autoCloseAfter, serviceWindow }))).toEqual(effective({ ...policy, version: version + 1 }));
      }),
      { numRuns },
    );
  });
});

describe('effective', () => {
  const presets = fc.constantFrom('default' as const, 'status_inbox' as const, 'work_items' as const);
  const overrides = fc.record(
    { autoCloseAfterMs: fc.option(fc.integer({ min: 1_000, max: 365 * 86_400_000 })), serviceWindowMs: fc.integer({ min: 1_000, max: 7 * 86_400_000 }), answerWithinMs: fc.option(fc.integer({ min: 60_000, max: 86_400_000 })) },
    { requiredKeys: ['serviceWindowMs'] },
  );

  it('answers a policy it resolved as it is (frozen), with what resolving the original answers', () => {
    fc.assert(
      fc.property(presets, overrides, fc.nat({ max: 1_000 }), (preset, fields, version) => {
        const policy: Policy = { preset, autoCloseAfterMs: null, ...fields, version };
        const once = effective(policy);
        expect(Object.isFrozen(once)).toBe(true);
        expect(effective(once)).toBe(once);
        // Resolving again from the original gives an equal, separate object: nothing is cached by the input.
        expect(effective(policy)).toEqual(once);
        expect(effective({ ...once })).toEqual(once);
      }),
      { numRuns },
    );
  });

  it('resolves a policy changed after it was resolved as it now is (applyPolicyPatch builds its result so)', () => {
    const policy: Policy = { ...defaultPolicy };
    expect(effective(policy).autoCloseAfterMs).toBe(48 * HOUR);
    policy.autoCloseAfterMs = HOUR;
    expect(effective(policy).autoCloseAfterMs).toBe(HOUR);
  });
});
