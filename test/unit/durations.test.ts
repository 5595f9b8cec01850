/**
 * Duration strings as the API writes them ("48h", "1h30m", "250ms"): the parser the API and the policy
 * share, and the formatter that shows a policy back.
 */
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../workflows/conversation/core/durations';

const numRuns = 1_000;

describe('parseDuration', () => {
  it.each([
    ['48h', 48 * 3_600_000],
    ['24h', 86_400_000],
    ['30m', 1_800_000],
    ['5s', 5_000],
    ['250ms', 250],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 86_400_000 + 7_200_000 + 180_000 + 4_000 + 5],
    ['0s', 0],
    ['  48h  ', 172_800_000],
  ])('reads %p as %p milliseconds', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', ' ', 'h', '48', '-1h', '+1h', '1.5h', '48 h', '1h 30m', '48H', '48hours', '1w', 'ms', '1h-30m', '1e3ms', '0x10s', 'NaN', '99999999999999999999d'])(
    'rejects %p',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it('rejects any string with a character outside digits and unit letters', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        fc.pre(/[^0-9msdh\s]/.test(text.trim()));
        expect(parseDuration(text)).toBeUndefined();
      }),
      { numRuns },
    );
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [5_000, '5s'],
    [1_800_000, '30m'],
    [5_400_000, '1h30m'],
    [172_800_000, '48h'],
    [86_400_000, '24h'],
    [3_600_001, '1h1ms'],
  ])('writes %p milliseconds as %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips every non-negative whole number of milliseconds through parseDuration', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      { numRuns },
    );
  });

  it('writes the same text for any spelling of the same duration, and that text reads back to it', () => {
    const spelling = fc.array(fc.tuple(fc.nat({ max: 10_000 }), fc.constantFrom('ms', 's', 'm', 'h', 'd')), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(spelling, (parts) => {
        const text = parts.map(([amount, unit]) => `${amount}${unit}`).join('');
        const ms = parseDuration(text);
        expect(ms).toEqual(expect.any(Number));
        const canonical = formatDuration(ms!);
        expect(parseDuration(canonical)).toBe(ms);
        expect(formatDuration(parseDuration(canonical)!)).toBe(canonical);
      }),
      { numRuns },
    );
  });
});
