/**
 * SPEC section 10: a customer's media is fetched from the provider durably and kept; the message's
 * `content.media.id` is the id GET .../media/{id} takes. The fake Graph API fails the first download:
 * the fetch is retried (with a fresh URL) and the file still arrives. Through the public HTTP API.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FakeGraph } from '../support/fake-graph';
import { inboundImageBody, signedMetaRequest, startFakeGraph } from '../support/fake-graph';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, newCustomer } from '../support/scenario';
import { eventually, useStack } from '../support/stack';
import { loadTest } from '../support/tiers';

const accessToken = `EAAG-token-${randomUUID()}`;
const appSecret = `app-${randomUUID()}`;
const phoneNumberId = '114002873001888';
const channel = '15550100088';

let fake: FakeGraph;
beforeAll(async () => {
  fake = await startFakeGraph();
});
afterAll(async () => {
  await fake?.close();
});

const env = useStack(() => ({ whatsappGraphUrl: fake.url }));
let account: Account;

beforeAll(async () => {
  account = await createAccount(env.stack);
  const put = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, {
    key: account.keys.owner,
    body: { provider: 'whatsapp_cloud', phoneNumberId, accessToken, appSecret, verifyToken: `verify-${randomUUID()}` },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
});

it("a customer's image is kept under the id its message names, though the first download fails", async () => {
  const jpeg = randomBytes(300 * 1024);
  const providerMediaId = fake.addMedia(jpeg, 'image/jpeg');
  fake.failDownloads(1);
  const customer = newCustomer();
  const wamid = `wamid.${randomUUID()}`;
  const { rawBody, headers } = signedMetaRequest(inboundImageBody({ phoneNumberId, from: customer, wamid, mediaId: providerMediaId, caption: 'the dent' }), appSecret);
  expect((await env.stack.http.request('POST', `/webhooks/whatsapp/${account.id}`, { body: rawBody, headers })).status).toBe(200);

  const conversationId = `conv:${account.id}:${channel}:${customer}`;
  const message = await eventually(async () => {
    const page = await env.stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent);
    return page.status === 200 ? (page.body.messages as any[]).find((m) => m.messageId === wamid) : undefined;
  });
  expect(message.content.media).toMatchObject({ id: expect.stringMatching(/^med_in_/), providerMediaId, caption: 'the dent' });

  const served = await eventually(
    async () => {
      const res = await fetch(`${env.stack.baseUrl}/v1/accounts/${account.id}/media/${message.content.media.id}`, { headers: { authorization: `Bearer ${account.keys.agent}` } });
      return res.status === 200 ? { type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) } : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  expect(served.type).toBe('image/jpeg');
  expect(served.bytes.equals(jpeg)).toBe(true);
  // The first download failed and was tried again, with the channel's token every time.
  const reads = fake.mediaReads.filter((r) => r.mediaId === providerMediaId);
  expect(reads.filter((r) => r.kind === 'download').map((r) => r.status)).toEqual([500, 200]);
  expect(reads.every((r) => r.authorized)).toBe(true);

  // Another account cannot read it, even knowing the id.
  const other = await createAccount(env.stack);
  const foreign = await fetch(`${env.stack.baseUrl}/v1/accounts/${other.id}/media/${message.content.media.id}`, { headers: { authorization: `Bearer ${other.keys.owner}` } });
  expect(foreign.status).toBe(404);
});

loadTest("500 customers' images while the first 500 downloads fail: every one is kept, none lost, each with its own bytes", async () => {
  const count = 500;
  const files = Array.from({ length: count }, (_, i) => {
    const bytes = randomBytes(8 * 1024 + i);
    return { bytes, providerMediaId: fake.addMedia(bytes, 'image/jpeg'), sha256: createHash('sha256').update(bytes).digest('hex') };
  });
  fake.failDownloads(count);
  const started = Date.now();
  for (let i = 0; i < count; i += 25) {
    await Promise.all(
      files.slice(i, i + 25).map(async ({ providerMediaId }) => {
        const body = inboundImageBody({ phoneNumberId, from: newCustomer(), wamid: `wamid.${randomUUID()}`, mediaId: providerMediaId });
        const { rawBody, headers } = signedMetaRequest(body, appSecret);
        expect((await env.stack.http.request('POST', `/webhooks/whatsapp/${account.id}`, { body: rawBody, headers })).status).toBe(200);
      }),
    );
  }
  const stored = () => env.stack.db.collection('media').find({ accountId: account.id, state: 'stored', sha256: { $in: files.map((f) => f.sha256) } }).toArray();
  // Every failed download is retried after 2 s or more (workflows/media): the lot arrives within minutes.
  const kept = await eventually(async () => {
    const docs = await stored();
    return docs.length === count ? docs : undefined;
  }, { timeoutMs: 300_000, intervalMs: 1_000 });
  const failed = fake.mediaReads.filter((r) => r.kind === 'download' && r.status !== 200).length;
  process.stdout.write(`inbound media: ${count} kept of ${count}, ${failed} downloads failed first, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  expect(new Set(kept.map((d) => d.sha256)).size).toBe(count);
  expect(failed).toBeGreaterThanOrEqual(count);
}, 600_000);
