/**
 * SPEC section 10, "Media out", to WhatsApp: a reply carrying a stored file is uploaded to the channel's
 * number (multipart, with the channel's token) and sent by the id Graph answers, its text the caption
 * where WhatsApp shows one. Against a fake Graph API on loopback, through the public HTTP API.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeGraph } from '../support/fake-graph';
import { startFakeGraph } from '../support/fake-graph';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import { eventually, useStack } from '../support/stack';

const accessToken = `EAAG-token-${randomUUID()}`;
const phoneNumberId = '114002873001777';
const channel = '15550100077';

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
    body: { provider: 'whatsapp_cloud', phoneNumberId, accessToken, appSecret: `app-${randomUUID()}`, verifyToken: `verify-${randomUUID()}` },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
});

async function upload(bytes: Buffer, contentType: string, filename?: string): Promise<string> {
  const headers: Record<string, string> = { authorization: `Bearer ${account.keys.agent}`, 'content-type': contentType, ...(filename ? { 'x-filename': filename } : {}) };
  const res = await fetch(`${env.stack.baseUrl}/v1/accounts/${account.id}/media`, { method: 'POST', headers, body: new Uint8Array(bytes) });
  const body = (await res.json()) as any;
  if (res.status !== 201) throw new Error(`upload refused: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

async function timelineMessage(conversationId: string, messageId: string): Promise<any> {
  const page = await env.stack.http.get(conversationPath(account, conversationId, '/messages?limit=500'), account.keys.agent);
  return (page.body.messages as any[]).find((m) => m.messageId === messageId);
}

it('an image reply is uploaded to the number, then sent by its Graph id with the text as caption', async () => {
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), channel });
  const png = randomBytes(400 * 1024);
  const mediaId = await upload(png, 'image/png', 'chart.png');

  const reply = await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'Your chart', media: { id: mediaId } }, account.keys.agent);
  expect(reply.status).toBe(200);

  const send = await fake.waitFor((r) => r.phoneNumberId === phoneNumberId && r.body?.type === 'image', 15_000);
  const uploaded = fake.mediaUploads.find((u) => u.id === send.body.image.id);
  expect(uploaded).toMatchObject({ phoneNumberId, token: accessToken, messagingProduct: 'whatsapp', type: 'image/png', mimeType: 'image/png', filename: 'chart.png' });
  expect(uploaded!.bytes.equals(png)).toBe(true);
  expect(send.body.image).toEqual({ id: uploaded!.id, caption: 'Your chart' });
  expect(send.token).toBe(accessToken);

  // The timeline shows it as inbound media shows: its type as the kind, the caption as the text, our id.
  const messageId = reply.body.messageId;
  const shown = await eventually(async () => {
    const m = await timelineMessage(conversationId, messageId);
    return m?.delivery?.status === 'sent' ? m : undefined;
  });
  expect(shown).toMatchObject({ kind: 'image', text: 'Your chart', content: { media: { id: mediaId, mimeType: 'image/png', caption: 'Your chart' } } });
});

it('a document goes with its file name; audio without a caption', async () => {
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), channel });
  const pdfId = await upload(randomBytes(2000), 'application/pdf', 'offer.pdf');
  expect((await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { media: { id: pdfId, caption: 'The offer' } }, account.keys.agent)).status).toBe(200);
  const doc = await fake.waitFor((r) => r.body?.type === 'document' && r.body?.to === `+${conversationId.split(':').at(-1)}`, 15_000);
  expect(doc.body.document).toEqual({ id: expect.any(String), caption: 'The offer', filename: 'offer.pdf' });

  const audioId = await upload(randomBytes(3000), 'audio/ogg');
  expect((await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { media: { id: audioId } }, account.keys.agent)).status).toBe(200);
  const audio = await fake.waitFor((r) => r.body?.type === 'audio' && r.body?.to === `+${conversationId.split(':').at(-1)}`, 15_000);
  expect(audio.body.audio).toEqual({ id: expect.any(String) });
});

it('text with audio or a sticker, an unknown media id, or caption and text both: 400 naming the field, nothing sent', async () => {
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer(), channel });
  const audioId = await upload(randomBytes(1000), 'audio/mpeg');
  const stickerId = await upload(randomBytes(1000), 'image/webp');
  const imageId = await upload(randomBytes(1000), 'image/jpeg');
  const other = await createAccount(env.stack);
  const cases: [unknown, string][] = [
    [{ text: 'listen', media: { id: audioId } }, 'text'],
    [{ media: { id: stickerId, caption: 'hi' } }, 'media.caption'],
    [{ media: { id: 'med_doesnotexist' } }, 'media.id'],
    [{ text: 'a', media: { id: imageId, caption: 'b' } }, 'text'],
    [{ media: { id: 'not-a-media-id' } }, 'media.id'],
    [{}, 'text'],
  ];
  for (const [body, field] of cases) {
    const res = await env.stack.http.post(conversationPath(account, conversationId, '/replies'), body, account.keys.agent);
    expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
  }
  // Another account's file is unknown here.
  const theirs = await fetch(`${env.stack.baseUrl}/v1/accounts/${other.id}/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${other.keys.agent}`, 'content-type': 'image/png' },
    body: new Uint8Array(randomBytes(100)),
  });
  const theirId = ((await theirs.json()) as any).id;
  const res = await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { media: { id: theirId } }, account.keys.agent);
  expect(res.status).toBe(400);
  // Nothing reached Graph for this customer: a probe text reply shows up alone.
  await env.stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'probe' }, account.keys.agent);
  await fake.waitFor((r) => r.body?.text?.body === 'probe' && r.body?.to === `+${conversationId.split(':').at(-1)}`, 15_000);
  expect(fake.requests.filter((r) => r.body?.to === `+${conversationId.split(':').at(-1)}`).map((r) => r.body.type)).toEqual(['text']);
});
