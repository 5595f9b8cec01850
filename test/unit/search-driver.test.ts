import fc from 'fast-check';
import type { TermProbe } from '../../workflows/conversation/core/search-driver';
import { compareDrivers, driverOf } from '../../workflows/conversation/core/search-driver';

/** Which word drives a search of several words (workflows/conversation/core/search-driver.ts). */

const full = (word: string, oldestAt: number): TermProbe => ({ word, count: 50, size: 50, oldestAt });
const partial = (word: string, count: number): TermProbe => ({ word, count, size: 50, oldestAt: count === 0 ? null : 1_000 });

describe('the driver of a search of several words', () => {
  test.each<[string, TermProbe[], string]>([
    ['a word with every posting read drives over a full one', [full('alfa', 0), partial('zebra', 49)], 'zebra'],
    ['of two words read whole, the one with fewer postings', [partial('pedido', 12), partial('zebra', 3)], 'zebra'],
    ['a word with no posting at all drives (nothing can match)', [partial('pe', 30), partial('xyz', 0)], 'xyz'],
    ['both full: the one reaching further back is sparser ("alfa beta", beta rarer lately)', [full('alfa', 9_000), full('beta', 4_000)], 'beta'],
    ['a short common prefix loses to a longer, sparser word', [full('pe', 90_000), full('zebra', 10)], 'zebra'],
    ['both full over the same time: the longer word', [full('pe', 5_000), full('pedido', 5_000)], 'pedido'],
    ['equals in every way: the first typed', [full('alfa', 5_000), full('beta', 5_000)], 'alfa'],
    ['equal counts read whole, equal length: the first typed', [partial('ana', 7), partial('bia', 7)], 'ana'],
    ['length counts characters, not UTF-16 units', [full('açaí', 5), full('acai', 5)], 'açaí'],
  ])('%s', (_name, probes, word) => {
    expect(probes[driverOf(probes)]!.word).toBe(word);
  });

  const probe: fc.Arbitrary<TermProbe> = fc
    .record({ word: fc.constantFrom('pe', 'ped', 'pedido', 'alfa', 'beta', 'zebra', 'açaí', 'x1'), size: fc.constantFrom(1, 50, 100), fill: fc.nat({ max: 120 }), oldestAt: fc.nat({ max: 10 }) })
    .map(({ word, size, fill, oldestAt }) => {
      const count = Math.min(fill, size);
      return { word, count, size, oldestAt: count === 0 ? null : oldestAt };
    });

  test('the driver is a probe no other probe beats, the first of its equals', () => {
    fc.assert(
      fc.property(fc.array(probe, { minLength: 1, maxLength: 6 }), (probes) => {
        const pick = driverOf(probes);
        expect(probes.every((p) => compareDrivers(p, probes[pick]!) >= 0)).toBe(true);
        expect(probes.slice(0, pick).every((p) => compareDrivers(p, probes[pick]!) > 0)).toBe(true);
      }),
    );
  });

  test('the comparison is an order: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(probe, probe, probe, (a, b, c) => {
        expect(Math.sign(compareDrivers(a, b)) + Math.sign(compareDrivers(b, a))).toBe(0);
        if (compareDrivers(a, b) <= 0 && compareDrivers(b, c) <= 0) expect(compareDrivers(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });

  test('a word whose every posting was read always drives over one that has more than it read', () => {
    fc.assert(
      fc.property(fc.array(probe, { minLength: 1, maxLength: 6 }), (probes) => {
        const whole = probes.filter((p) => p.count < p.size);
        const picked = probes[driverOf(probes)]!;
        if (whole.length > 0) expect(picked.count).toBe(Math.min(...whole.map((p) => p.count)));
        expect(picked.count < picked.size).toBe(whole.length > 0);
      }),
    );
  });
});
