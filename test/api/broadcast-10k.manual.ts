import { randomUUID } from 'node:crypto';
import { mapLimit } from '../../infra/map-limit';
import { eventually, useStack } from '../support/stack';
import { createAccount } from '../support/scenario';

// By hand only (not CI): REAL=200 npx jest --testMatch '**/broadcast-10k.manual.ts' test/api/broadcast-10k.manual.ts
// Creating 10,000 real conversations took over an hour on a shared 2-core machine (1.5-4 per second
// measured on 2026-11-27, load average 13), so this sends to REAL real conversations plus ids of
// conversations that do not exist, 10,000 recipients in all. Measured then with REAL=200: POST 202 in
// 0.5 s, done in 72 s (139 recipients/s), 200 templates recorded, GET of the result 1.0 s and 1.1 MB.
const REAL = Number(process.env.REAL ?? 200);
describe('broadcast to 10,000 recipients (measured by hand)', () => {
  const env = useStack();
  test('10,000 recipients', async () => {
    const account = await createAccount(env.stack);
    const t0 = Date.now();
    const ids = await mapLimit(Array.from({ length: REAL }, (_, i) => String(100_000_000 + i)), 16, async (customer) => {
      for (;;) {
        const res = await env.stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: 'wa-main', customer, messageId: `wamid.${randomUUID()}`, text: 'hi' }, account.keys.service);
        if (res.status === 202) return res.body.conversationId as string;
      }
    });
    await eventually(async () => ((await env.stack.db.collection('conversations').countDocuments({ accountId: account.id })) === ids.length ? true : undefined), { timeoutMs: 3_600_000, intervalMs: 2_000 });
    const t1 = Date.now();
    console.log(`created ${REAL} conversations in ${(t1 - t0) / 1000}s`);
    const missing = Array.from({ length: 10_000 - REAL }, (_, i) => `conv:${account.id}:wa-main:${900_000_000 + i}`);
    const started = await env.stack.http.post(`/v1/accounts/${account.id}/broadcasts`, { broadcastId: 'ten-k', template: { name: 'news' }, conversationIds: [...ids, ...missing] }, account.keys.service);
    console.log(`POST answered ${started.status} in ${(Date.now() - t1) / 1000}s`);
    const result = await eventually(
      async () => {
        const res = await env.stack.http.get(`/v1/accounts/${account.id}/broadcasts/ten-k`, account.keys.service);
        return res.body.status === 'done' ? res.body : undefined;
      },
      { timeoutMs: 3_600_000, intervalMs: 2_000 },
    );
    const t2 = Date.now();
    console.log(`broadcast done in ${(t2 - t1) / 1000}s: sent ${result.sent.length}, skipped ${result.skipped.length}, ${(10_000 / ((t2 - t1) / 1000)).toFixed(1)}/s`);
    const outbound = await env.stack.db.collection('messages').countDocuments({ accountId: account.id, direction: 'outbound' });
    console.log(`outbound template messages: ${outbound}`);
    const get = Date.now();
    const res = await env.stack.http.get(`/v1/accounts/${account.id}/broadcasts/ten-k`, account.keys.service);
    console.log(`GET of the finished broadcast: ${(Date.now() - get)} ms, ${JSON.stringify(res.body).length} bytes`);
  }, 7_200_000);
});
