import fc from 'fast-check';
import { ipv6Prefix64 } from '../../api/rate-limit';
import type { BucketShape } from '../../api/slot-bucket';
import { SlotBucket, chunkSizeFor, parseRateTier } from '../../api/slot-bucket';
import { loadConfig } from '../../infra/config';

/**
 * The token bucket as claimed time slots (api/slot-bucket.ts, api/DESIGN.md "Rate limits"): several
 * processes, each with its own SlotBucket, claim chunks from one shared set (the database's insert-once),
 * and whatever they do, admissions in any interval stay within the bucket's bound.
 */

/** Processes sharing one store; the store's insert-once is a Set. Returns the admission times. */
function simulate(shape: BucketShape, processes: number, requests: { process: number; at: number }[]): number[] {
  const claimed = new Set<number>();
  const buckets = Array.from({ length: processes }, () => new SlotBucket(shape));
  const admitted: number[] = [];
  for (const { process, at } of requests) {
    const bucket = buckets[process % processes]!;
    for (;;) {
      const step = bucket.step(at);
      if (step.kind === 'admit') admitted.push(at);
      if (step.kind !== 'claim') break;
      const won = !claimed.has(step.chunk);
      claimed.add(step.chunk);
      bucket.settle(step.chunk, won);
    }
  }
  return admitted;
}

/** The largest excess over `burst + rate * (t2 - t1)` of any interval of admissions (sorted times). */
function worstExcess(shape: BucketShape, times: number[]): number {
  const sorted = [...times].sort((x, y) => x - y);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      worst = Math.max(worst, j - i + 1 - (shape.burst + (shape.rate * (sorted[j]! - sorted[i]!)) / 1000));
    }
  }
  return worst;
}

const start = 1_765_000_000_000;
const user = { rate: 50, burst: 100, chunk: chunkSizeFor(100) };

describe('SlotBucket', () => {
  test('property: however several processes interleave, no interval admits more than burst + rate × its length + 1', () => {
    fc.assert(
      fc.property(
        fc.record({ rate: fc.integer({ min: 1, max: 600 }), burst: fc.integer({ min: 1, max: 300 }) }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ process: fc.nat(3), gap: fc.integer({ min: 0, max: 40 }) }), { maxLength: 400 }),
        ({ rate, burst }, processes, gaps) => {
          const shape = { rate, burst, chunk: chunkSizeFor(burst) };
          let at = start;
          const requests = gaps.map(({ process, gap }) => ({ process, at: (at += gap) }));
          expect(worstExcess(shape, simulate(shape, processes, requests))).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('property: requests stepped out of arrival order (each charged at its arrival while others waited for a claim) keep the bound', () => {
    fc.assert(
      fc.property(
        fc.record({ rate: fc.integer({ min: 1, max: 600 }), burst: fc.integer({ min: 1, max: 300 }) }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ process: fc.nat(3), gap: fc.integer({ min: 0, max: 40 }), lag: fc.integer({ min: 0, max: 1_500 }) }), { maxLength: 400 }),
        ({ rate, burst }, processes, gaps) => {
          const shape = { rate, burst, chunk: chunkSizeFor(burst) };
          let at = start;
          const requests = gaps.map(({ process, gap, lag }) => ({ process, at: (at += gap) - lag }));
          expect(worstExcess(shape, simulate(shape, processes, requests))).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  test.each([1, 2, 4])('a burst at one instant through %i process(es) admits the burst, less at most one chunk per process', (processes) => {
    const requests = Array.from({ length: 500 }, (_, i) => ({ process: i, at: start }));
    const admitted = simulate(user, processes, requests).length;
    expect(admitted).toBeLessThanOrEqual(user.burst);
    expect(admitted).toBeGreaterThanOrEqual(user.burst - processes * (user.chunk - 1));
  });

  test('sustained at twice the rate, admissions follow the rate: the burst, then rate per second', () => {
    // 100 requests a second for 60 s, from two processes in turn.
    const requests = Array.from({ length: 6_000 }, (_, i) => ({ process: i % 2, at: start + i * 10 }));
    const admitted = simulate(user, 2, requests).length;
    expect(admitted).toBeLessThanOrEqual(user.burst + user.rate * 60 + 1);
    expect(admitted).toBeGreaterThanOrEqual(user.burst + user.rate * 60 - 2 * user.chunk - 1);
  });

  test('a refused request is told when the next slot starts, at least 1 ms away', () => {
    const bucket = new SlotBucket({ rate: 2, burst: 1, chunk: 1 });
    let step = bucket.step(start);
    expect(step).toMatchObject({ kind: 'claim' });
    bucket.settle((step as { chunk: number }).chunk, true);
    expect(bucket.step(start)).toEqual({ kind: 'admit' });
    step = bucket.step(start);
    expect(step.kind).toBe('wait');
    expect((step as { ms: number }).ms).toBeGreaterThanOrEqual(1);
    expect((step as { ms: number }).ms).toBeLessThanOrEqual(500);
  });
});

describe('rate limit settings', () => {
  test.each([
    ['50/100', { rate: 50, burst: 100 }],
    [' 500 / 1000 ', { rate: 500, burst: 1000 }],
    ['1/1', { rate: 1, burst: 1 }],
    ['0/10', undefined],
    ['10/0', undefined],
    ['50', undefined],
    ['50/100/2', undefined],
    ['fast', undefined],
    ['200000/10', undefined],
  ])('%j parses as %j', (text, tier) => {
    expect(parseRateTier(text)).toEqual(tier);
  });

  test("the defaults are SPEC section 12's, and a bad value names its variable", () => {
    expect(loadConfig({}).rateLimits).toEqual({ user: { rate: 50, burst: 100 }, service: { rate: 500, burst: 1000 }, anonymous: { rate: 20, burst: 40 } });
    expect(loadConfig({ RATE_LIMIT_USER: '10/20' }).rateLimits.user).toEqual({ rate: 10, burst: 20 });
    expect(() => loadConfig({ RATE_LIMIT_SERVICE: 'lots' })).toThrow(/RATE_LIMIT_SERVICE: must be "rate\/burst"/);
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
  });

  test.each([
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2'],
    ['2001:db8::1', '2001:db8:0:0'],
    ['::1', '0:0:0:0'],
    ['2001:0DB8:0001:0002::', '2001:db8:1:2'],
    ['fe80::1%eth0', 'fe80:0:0:0'],
  ])('IPv6 %s counts by its /64 %s', (ip, prefix) => {
    expect(ipv6Prefix64(ip)).toBe(prefix);
  });
});
