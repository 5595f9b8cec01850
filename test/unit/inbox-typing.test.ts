import fc from 'fast-check';
import { TypingThrottle, typingIntervalMs } from '../../inbox/src/typing';

/** The inbox's typing calls (SPEC 10): the first keystroke at once, then one per conversation per 20 s. */
describe('TypingThrottle', () => {
  it.each([
    ['the first keystroke', [0], [true]],
    ['keystrokes within 20 s', [0, 1_000, 19_999], [true, false, false]],
    ['a keystroke 20 s after the last call', [0, 10_000, 20_000, 30_000, 40_000], [true, false, true, false, true]],
  ])('%s', (_name, times, expected) => {
    const throttle = new TypingThrottle();
    expect(times.map((t) => throttle.shouldSend('c1', t))).toEqual(expected);
  });

  it('spaces each conversation on its own', () => {
    const throttle = new TypingThrottle();
    expect([throttle.shouldSend('c1', 0), throttle.shouldSend('c2', 1), throttle.shouldSend('c1', 2)]).toEqual([true, true, false]);
  });

  it('never lets two calls for one conversation closer than the interval, and lets one through after every quiet interval', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 1, maxLength: 50 }), (gaps) => {
        const throttle = new TypingThrottle();
        let now = 0;
        let lastSent: number | undefined;
        for (const gap of gaps) {
          now += gap;
          const sent = throttle.shouldSend('c', now);
          if (lastSent !== undefined && sent) expect(now - lastSent).toBeGreaterThanOrEqual(typingIntervalMs);
          if (lastSent === undefined || now - lastSent >= typingIntervalMs) expect(sent).toBe(true);
          if (sent) lastSent = now;
        }
      }),
    );
  });
});
