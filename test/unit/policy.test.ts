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
