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
});
