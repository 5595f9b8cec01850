/**
 * SPEC section 10, "Media out", at the adapters: WhatsApp's media send body and its upload to the
 * number (multipart, streamed), the webhook provider's body with a signed link, and the link itself.
 */
import { randomBytes } from 'node:crypto';
import { checkMediaLink, mediaLinkPath } from '../../channels/media-links';
import type { OutboundMessage, StoredMediaFile, WhatsAppChannelConfig } from '../../channels/types';
import type { OutboundRequest } from '../../channels/outbound-http';
import { webhookDeliveryBody } from '../../channels/webhook-provider';
import { graphMessageBody, sendWhatsApp } from '../../channels/whatsapp/graph';
import type { MediaRef } from '../../workflows/conversation/core/outbound';
import { parseMultipart } from '../support/fake-graph';

const config: WhatsAppChannelConfig = { provider: 'whatsapp_cloud', phoneNumberId: '1140028', accessToken: 'EAAG-secret', appSecret: 'a', verifyToken: 'v', apiVersion: 'v21.0' };

function mediaMessage(media: Partial<MediaRef> = {}): OutboundMessage {
  return {
    deliveryId: 'd-1',
    accountId: 'acc-1',
    channel: '15550100001',
    customer: '15550100123',
    conversationId: 'conv:acc-1:15550100001:15550100123',
    messageId: 'msg-1',
    campaignId: null,
    content: { kind: 'media', media: { id: 'med_abc', mediaType: 'image', mimeType: 'image/png', ...media } },
    replyTo: null,
  };
}

describe('graphMessageBody for media', () => {
  it.each([
    ['image', { caption: 'c', filename: 'f.png' }, { id: 'G1', caption: 'c' }],
    ['video', { caption: 'c' }, { id: 'G1', caption: 'c' }],
    ['document', { caption: 'c', filename: 'offer.pdf' }, { id: 'G1', caption: 'c', filename: 'offer.pdf' }],
    ['audio', { caption: 'dropped' }, { id: 'G1' }],
    ['sticker', {}, { id: 'G1' }],
  ] as const)('%s goes under its own key, with only the fields WhatsApp shows', (mediaType, extra, object) => {
    const body = graphMessageBody(mediaMessage({ mediaType, ...extra }), 'G1') as any;
    expect(body).toMatchObject({ messaging_product: 'whatsapp', to: '+15550100123', type: mediaType });
    expect(body[mediaType]).toEqual(object);
  });

  it('refuses media that was not uploaded', () => {
    expect(() => graphMessageBody(mediaMessage())).toThrow(/not uploaded/);
  });
});

describe('sendWhatsApp with media', () => {
  const bytes = randomBytes(300_000);
  const file: StoredMediaFile = {
    size: bytes.length,
    mimeType: 'image/png',
    filename: 'chart.png',
    async *chunks() {
      for (let at = 0; at < bytes.length; at += 100_000) yield bytes.subarray(at, at + 100_000);
    },
  };

  /** A stand-in for the HTTP client: reads a streamed body whole, answers like Graph. */
  function graph(answers: { upload: [number, unknown]; send: [number, unknown] }) {
    const seen: { url: string; headers: Record<string, string>; body: Buffer }[] = [];
    const post = async (request: OutboundRequest) => {
      const parts: Buffer[] = [];
      if (request.bodyStream) for await (const piece of request.bodyStream.chunks()) parts.push(piece);
      const body = request.bodyStream ? Buffer.concat(parts) : request.body;
      if (request.bodyStream) expect(body.length).toBe(request.bodyStream.length);
      seen.push({ url: request.url, headers: request.headers, body });
      const [status, answer] = request.url.endsWith('/media') ? answers.upload : answers.send;
      return { status, headers: {}, body: Buffer.from(JSON.stringify(answer)), truncated: false };
    };
    return { seen, post };
  }

  it('uploads the file to the number, multipart and streamed, then sends by the id Graph answered', async () => {
    const { seen, post } = graph({ upload: [200, { id: '999' }], send: [200, { messages: [{ id: 'wamid.X' }] }] });
    const result = await sendWhatsApp(config, mediaMessage({ caption: 'hi' }), { graphUrl: 'http://graph', post, openMedia: async () => file });
    expect(result).toEqual({ outcome: 'sent', providerMessageId: 'wamid.X' });
    expect(seen.map((s) => s.url)).toEqual(['http://graph/v21.0/1140028/media', 'http://graph/v21.0/1140028/messages']);
    const form = parseMultipart(seen[0]!.body, seen[0]!.headers['content-type']!)!;
    expect(form.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ['messaging_product', undefined, undefined],
      ['type', undefined, undefined],
      ['file', 'chart.png', 'image/png'],
    ]);
    expect(form[2]!.data.equals(bytes)).toBe(true);
    expect(JSON.parse(seen[1]!.body.toString()).image).toEqual({ id: '999', caption: 'hi' });
  });

  it('a file no longer stored fails the message; a refused upload is classified like a send, its token never shown', async () => {
    expect(await sendWhatsApp(config, mediaMessage(), { graphUrl: 'http://graph', openMedia: async () => undefined })).toMatchObject({ outcome: 'failed', error: { code: 'media_missing' } });
    const retry = graph({ upload: [500, { error: { code: 131000, message: 'EAAG-secret' } }], send: [200, {}] });
    expect(await sendWhatsApp(config, mediaMessage(), { graphUrl: 'http://graph', post: retry.post, openMedia: async () => file })).toMatchObject({ outcome: 'retry', error: { code: 131000 } });
    const final = graph({ upload: [400, { error: { code: 131053 } }], send: [200, {}] });
    const failed = await sendWhatsApp(config, mediaMessage(), { graphUrl: 'http://graph', post: final.post, openMedia: async () => file });
    expect(failed).toMatchObject({ outcome: 'failed', error: { code: 131053 } });
    expect(JSON.stringify(failed)).not.toContain('EAAG-secret');
    expect(final.seen).toHaveLength(1);
  });
});

describe('media links', () => {
  const key = randomBytes(32);
  const link = { accountId: 'acc-1', mediaId: 'med_abc', expires: 2_000_000_000 };
  const partsOf = (path: string) => {
    const url = new URL(path, 'http://x');
    return { expires: url.searchParams.get('expires') ?? undefined, signature: url.searchParams.get('signature') ?? undefined };
  };

  it('a link we signed opens its own file until it expires', () => {
    const parts = partsOf(mediaLinkPath(link, key));
    expect(mediaLinkPath(link, key)).toMatch(/^\/v1\/accounts\/acc-1\/media\/med_abc\/link\?expires=2000000000&signature=/);
    expect(checkMediaLink({ accountId: 'acc-1', mediaId: 'med_abc', ...parts }, key, 1_999_999_999_000)).toBe('valid');
    expect(checkMediaLink({ accountId: 'acc-1', mediaId: 'med_abc', ...parts }, key, 2_000_000_000_000)).toBe('expired');
  });

  it('another file, account, expiry or key does not open', () => {
    const parts = partsOf(mediaLinkPath(link, key));
    expect(checkMediaLink({ accountId: 'acc-1', mediaId: 'med_abd', ...parts }, key, 0)).toBe('invalid');
    expect(checkMediaLink({ accountId: 'acc-2', mediaId: 'med_abc', ...parts }, key, 0)).toBe('invalid');
    expect(checkMediaLink({ accountId: 'acc-1', mediaId: 'med_abc', ...parts, expires: '2000000001' }, key, 0)).toBe('invalid');
    expect(checkMediaLink({ accountId: 'acc-1', mediaId: 'med_abc', ...parts }, randomBytes(32), 0)).toBe('invalid');
    expect(checkMediaLink({ accountId: 'acc-1', mediaId: 'med_abc', expires: undefined, signature: undefined }, key, 0)).toBe('invalid');
  });

  it("the webhook provider's body carries the file's fields and the link", () => {
    const body = webhookDeliveryBody(mediaMessage({ caption: 'hi' }), { url: '/v1/x', expiresAt: '2033-05-18T03:33:20.000Z' }) as any;
    expect(body).toMatchObject({ type: 'message', kind: 'media', text: null, template: null, replyTo: null });
    expect(body.media).toEqual({ id: 'med_abc', mediaType: 'image', mimeType: 'image/png', caption: 'hi', url: '/v1/x', urlExpiresAt: '2033-05-18T03:33:20.000Z' });
  });
});
