import type { Collection } from 'mongodb';
import { RateLimits } from '../../api/rate-limit';
import { createLogger } from '../../infra/logger';
import type { RateSlotChunkDoc } from '../../store/rate-slots';

/**
 * SPEC section 12 with the database away (api/DESIGN.md "Rate limits"): the limiter must not take the API
 * down. A claim that fails, or does not answer within 1 s, hands the request to the process's in-memory
 * insurance, which still limits.
 */
describe('rate limits while the store is away', () => {
  const log = createLogger({ level: 'silent' });
  const settings = { user: { rate: 1, burst: 10 }, service: { rate: 1, burst: 10 }, anonymous: { rate: 1, burst: 10 } };
  const store = (insertOne: () => Promise<unknown>) => ({ insertOne, deleteMany: () => Promise.resolve({ deletedCount: 0 }) }) as unknown as Collection<RateSlotChunkDoc>;

  async function verdicts(limits: RateLimits, count: number) {
    const answers = [];
    for (let i = 0; i < count; i++) answers.push(await limits.consume('user', 'key'));
    limits.close();
    return answers;
  }

  test('a failing store: requests are answered from memory, the burst passes and then 429 with a wait', async () => {
    const limits = new RateLimits(store(() => Promise.reject(new Error('connection refused'))), settings, log);
    const answers = await verdicts(limits, 40);
    expect(answers.filter((v) => v.ok).length).toBeGreaterThanOrEqual(10);
    expect(answers.filter((v) => v.ok).length).toBeLessThan(40);
    expect(answers.find((v) => !v.ok)).toMatchObject({ ok: false, retryAfterMs: expect.any(Number) });
  });

  test('a store that never answers: requests are still answered, from memory', async () => {
    const limits = new RateLimits(store(() => new Promise(() => undefined)), settings, log);
    // Answered at all: only the first request waits for the claim; the others go to memory while the store rests.
    const answers = await verdicts(limits, 40);
    expect(answers.filter((v) => v.ok).length).toBeGreaterThanOrEqual(10);
    expect(answers.filter((v) => v.ok).length).toBeLessThan(40);
  });

  test('a slow store (each claim answers after 300 ms, longer than a chunk of the default service bucket lasts): a burst within the limit is admitted whole', async () => {
    const claimed = new Set<string>();
    const slow = {
      insertOne: async (doc: RateSlotChunkDoc) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (claimed.has(doc._id)) throw Object.assign(new Error('E11000 duplicate key'), { code: 11000 });
        claimed.add(doc._id);
        return { acknowledged: true, insertedId: doc._id };
      },
      deleteMany: () => Promise.resolve({ deletedCount: 0 }),
    } as unknown as Collection<RateSlotChunkDoc>;
    const limits = new RateLimits(slow, { ...settings, service: { rate: 500, burst: 1_000 } }, log);
    const answers: Awaited<ReturnType<RateLimits['consume']>>[] = [];
    // Eight waves of 25 at once, as a client pushing 200 deliveries in batches does.
    for (let wave = 0; wave < 8; wave++) answers.push(...(await Promise.all(Array.from({ length: 25 }, () => limits.consume('service', 'key')))));
    limits.close();
    expect(answers.filter((v) => !v.ok)).toEqual([]);
  });
});
