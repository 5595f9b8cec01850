/**
 * WhatsApp Cloud API webhooks in: the signature check, and every message type Meta documents read into
 * customer messages and receipts (bodies shaped after Meta's examples and the shared fixtures).
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseWhatsAppWebhook, verifyMetaSignature, WebhookPayloadError } from '../../channels/whatsapp/webhook';

const fixturesDir = path.join(__dirname, '../fixtures/whatsapp');
const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(fixturesDir, name), 'utf8'));

const phoneNumberId = '114002873001456';
const customer = '15550100123';

/** One change of field `messages` with the given value parts, in the envelope Meta sends. */
function body(value: Record<string, unknown>): any {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '108374629150482',
        changes: [
          {
            value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550100001', phone_number_id: phoneNumberId }, ...value },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

/** One message from `customer`, with a matching contact, the type-specific part given. */
function messageBody(type: string, typed: Record<string, unknown>): any {
  return body({
    contacts: [{ profile: { name: 'Priya Sharma' }, wa_id: customer }],
    messages: [{ from: customer, id: `wamid.${type}`, timestamp: '1781523737', type, ...typed }],
  });
}

function onlyMessage(parsedBody: unknown) {
  const parsed = parseWhatsAppWebhook(parsedBody);
  expect(parsed.messages).toHaveLength(1);
  return parsed.messages[0]!.message;
}

describe('verifyMetaSignature', () => {
  const secret = 'app-secret-for-tests';
  const raw = Buffer.from(JSON.stringify(fixture('wa-text.json')));
  const good = `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

  it('accepts the HMAC-SHA256 of the raw body with the app secret', () => {
    expect(verifyMetaSignature(raw, good, secret)).toBe(true);
  });

  it('accepts the hex digest in upper case too', () => {
    expect(verifyMetaSignature(raw, `sha256=${good.slice(7).toUpperCase()}`, secret)).toBe(true);
  });

  it('rejects a signature made with another secret', () => {
    const forged = `sha256=${createHmac('sha256', 'guessed').update(raw).digest('hex')}`;
    expect(verifyMetaSignature(raw, forged, secret)).toBe(false);
  });

  it('rejects a good signature over a body changed by one byte', () => {
    const changed = Buffer.from(raw);
    changed[10] = changed[10]! ^ 1;
    expect(verifyMetaSignature(changed, good, secret)).toBe(false);
  });

  it('rejects a body that was re-serialized with other spacing', () => {
    const respaced = Buffer.from(JSON.stringify(fixture('wa-text.json'), null, 2));
    expect(verifyMetaSignature(respaced, good, secret)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without the sha256= prefix', good.slice(7)],
    ['with another algorithm', `sha1=${good.slice(7)}`],
    ['one hex digit short', good.slice(0, -1)],
    ['one hex digit long', `${good}0`],
    ['twice as long', `${good}${good.slice(7)}`],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['just the prefix', 'sha256='],
  ])('rejects a header that is %s, without throwing', (_case, header) => {
    expect(() => verifyMetaSignature(raw, header, secret)).not.toThrow();
    expect(verifyMetaSignature(raw, header, secret)).toBe(false);
  });

  it('rejects everything when the app secret is empty, even a signature made with the empty secret', () => {
    const withEmpty = `sha256=${createHmac('sha256', '').update(raw).digest('hex')}`;
    expect(verifyMetaSignature(raw, withEmpty, '')).toBe(false);
  });
});

describe('parseWhatsAppWebhook on the shared fixtures', () => {
  it('reads wa-text.json as a text message from the sender, with the contact name and the send time', () => {
    expect(parseWhatsAppWebhook(fixture('wa-text.json'))).toEqual({
      messages: [
        {
          phoneNumberId,
          customer: '15550100456',
          message: {
            messageId: 'wamid.HBgLMTU1NTAxMDA0NTYVAgASGBQzRUIwQzRFODhGMUEyQjdEOUU1MQA=',
            type: 'text',
            text: "Hi, my order #4821 hasn't arrived yet. Can you check?",
            sentAt: new Date(1781687575 * 1000).toISOString(),
            customerName: 'Arjun Mehta',
          },
        },
      ],
      receipts: [],
      ignored: 0,
    });
  });

  it('reads wa-reply-with-context.json with the replied-to message id', () => {
    const message = onlyMessage(fixture('wa-reply-with-context.json'));
    expect(message).toMatchObject({
      type: 'text',
      text: 'Is the linen shirt from this offer available in size M?',
      replyTo: { messageId: 'wamid.HBgLMTU1NTAxMDAxMjMVAgARGBI3QzIxRTBCOTREM0Y1OEEyMUIA' },
      customerName: 'Priya Sharma',
    });
  });

  it('reads wa-button-reply.json as a button with its title as text and its payload as the choice', () => {
    const message = onlyMessage(fixture('wa-button-reply.json'));
    expect(message).toEqual({
      messageId: 'wamid.HBgLMTU1NTAxMDAxMjMVAgASGBQzRUIwQTFGMjdDOUQ0RTU4QjZDMgA=',
      type: 'button',
      text: 'Show offers',
      content: { choice: { id: 'SHOW_OFFERS', title: 'Show offers', type: 'button' } },
      sentAt: new Date(1781523737 * 1000).toISOString(),
      customerName: 'Priya Sharma',
      replyTo: { messageId: 'wamid.HBgLMTU1NTAxMDAxMjMVAgARGBI3QzIxRTBCOTREM0Y1OEEyMUIA' },
    });
  });

  it('reads wa-status-delivered.json as a delivered receipt', () => {
    expect(parseWhatsAppWebhook(fixture('wa-status-delivered.json'))).toEqual({
      messages: [],
      receipts: [
        {
          phoneNumberId,
          recipient: customer,
          providerMessageId: 'wamid.HBgLMTU1NTAxMDAxMjMVAgARGBI3QzIxRTBCOTREM0Y1OEEyMUIA',
          status: 'delivered',
          at: new Date(1781517606 * 1000).toISOString(),
        },
      ],
      ignored: 0,
    });
  });

  it('reads wa-status-failed-131047.json as a failed receipt with the integer code and the detailed reason', () => {
    const { receipts } = parseWhatsAppWebhook(fixture('wa-status-failed-131047.json'));
    expect(receipts).toEqual([
      {
        phoneNumberId,
        recipient: customer,
        providerMessageId: 'wamid.HBgLMTU1NTAxMDAxMjMVAgARGBJBOTNGMEMxRDdFMkI0NDY4RjAA',
        status: 'failed',
        at: new Date(1781618741 * 1000).toISOString(),
        error: {
          code: 131047,
          message: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        },
      },
    ]);
  });

  it('reads every fixture in the folder without throwing', () => {
    const names = fs.readdirSync(fixturesDir).filter((name) => name.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) {
      const parsed = parseWhatsAppWebhook(fixture(name));
      expect(parsed.messages.length + parsed.receipts.length).toBeGreaterThan(0);
    }
  });
});

describe('parseWhatsAppWebhook on every message type', () => {
  it('reads an interactive button reply as its title, with the button id as the choice', () => {
    const message = onlyMessage(messageBody('interactive', { interactive: { type: 'button_reply', button_reply: { id: 'yes-confirm', title: 'Yes' } } }));
    expect(message).toMatchObject({ type: 'interactive', text: 'Yes', content: { choice: { id: 'yes-confirm', title: 'Yes', type: 'button_reply' } } });
  });

  it('reads a list reply with its description', () => {
    const message = onlyMessage(
      messageBody('interactive', {
        interactive: { type: 'list_reply', list_reply: { id: 'priority_express', title: 'Express', description: 'Next day delivery' } },
      }),
    );
    expect(message.content).toEqual({ choice: { id: 'priority_express', title: 'Express', description: 'Next day delivery', type: 'list_reply' } });
    expect(message.text).toBe('Express');
  });

  it("reads a Flow's answer (nfm_reply) with the whole reply kept, since the answer is in response_json", () => {
    const nfm = { name: 'flow', body: 'Sent', response_json: '{"flow_token":"t-1","size":"M"}' };
    const message = onlyMessage(messageBody('interactive', { interactive: { type: 'nfm_reply', nfm_reply: nfm } }));
    expect(message).toMatchObject({ type: 'interactive', text: 'Sent', content: { choice: { id: 'flow', title: 'Sent', type: 'nfm_reply' }, details: nfm } });
  });

  it('reads an image with its caption as text and its media id and description', () => {
    const message = onlyMessage(
      messageBody('image', { image: { caption: 'the torn parcel', mime_type: 'image/jpeg', sha256: 'c2hh', id: '1003383421387256' } }),
    );
    expect(message).toMatchObject({
      type: 'image',
      text: 'the torn parcel',
      content: { media: { id: '1003383421387256', mimeType: 'image/jpeg', sha256: 'c2hh', caption: 'the torn parcel' } },
    });
  });

  it('reads an image without caption as an image without text', () => {
    const message = onlyMessage(messageBody('image', { image: { mime_type: 'image/jpeg', sha256: 'c2hh', id: '1003383421387256' } }));
    expect(message.type).toBe('image');
    expect(message).not.toHaveProperty('text');
    expect(message.content).toEqual({ media: { id: '1003383421387256', mimeType: 'image/jpeg', sha256: 'c2hh' } });
  });

  it('reads a voice note as audio with voice set', () => {
    const message = onlyMessage(messageBody('audio', { audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'YXVk', id: '1208', voice: true } }));
    expect(message).toEqual(expect.objectContaining({ type: 'audio', content: { media: { id: '1208', mimeType: 'audio/ogg; codecs=opus', sha256: 'YXVk', voice: true } } }));
    expect(message).not.toHaveProperty('text');
  });

  it('reads a video with its caption', () => {
    const message = onlyMessage(messageBody('video', { video: { caption: 'it rattles', mime_type: 'video/mp4', sha256: 'dmlk', id: '1301' } }));
    expect(message).toMatchObject({ type: 'video', text: 'it rattles', content: { media: { id: '1301', mimeType: 'video/mp4' } } });
  });

  it('reads a document with its file name', () => {
    const message = onlyMessage(
      messageBody('document', { document: { caption: 'my invoice', filename: 'invoice-4821.pdf', mime_type: 'application/pdf', sha256: 'ZG9j', id: '1402' } }),
    );
    expect(message).toMatchObject({ type: 'document', text: 'my invoice', content: { media: { id: '1402', filename: 'invoice-4821.pdf', mimeType: 'application/pdf' } } });
  });

  it('reads an animated sticker without text', () => {
    const message = onlyMessage(messageBody('sticker', { sticker: { mime_type: 'image/webp', sha256: 'c3Rp', id: '1503', animated: true } }));
    expect(message).toMatchObject({ type: 'sticker', content: { media: { id: '1503', mimeType: 'image/webp', animated: true } } });
    expect(message).not.toHaveProperty('text');
  });

  it('reads a named location with its name and address as text', () => {
    const location = { latitude: 19.076, longitude: 72.8777, name: 'Linen House', address: 'Hill Road, Bandra', url: 'https://example.com/store' };
    const message = onlyMessage(messageBody('location', { location }));
    expect(message).toMatchObject({ type: 'location', text: 'Linen House, Hill Road, Bandra', content: { location } });
  });

  it('reads a bare pin location without text', () => {
    const message = onlyMessage(messageBody('location', { location: { latitude: -33.8688, longitude: 151.2093 } }));
    expect(message).toMatchObject({ type: 'location', content: { location: { latitude: -33.8688, longitude: 151.2093 } } });
    expect(message).not.toHaveProperty('text');
  });

  it('reads shared contact cards as given', () => {
    const cards = [
      {
        name: { formatted_name: 'Ravi Kumar', first_name: 'Ravi', last_name: 'Kumar' },
        phones: [{ phone: '+91 98200 00000', wa_id: '919820000000', type: 'CELL' }],
      },
    ];
    const message = onlyMessage(messageBody('contacts', { contacts: cards }));
    expect(message).toMatchObject({ type: 'contacts', content: { contacts: cards } });
    expect(message).not.toHaveProperty('text');
  });

  it('reads a reaction with the message it is on and the emoji', () => {
    const message = onlyMessage(messageBody('reaction', { reaction: { message_id: 'wamid.business-1', emoji: '\u{1F44D}' } }));
    expect(message).toMatchObject({ type: 'reaction', content: { reaction: { messageId: 'wamid.business-1', emoji: '\u{1F44D}' } } });
    expect(message).not.toHaveProperty('text');
  });

  it('reads a reaction taken off (no emoji) as an empty emoji', () => {
    const message = onlyMessage(messageBody('reaction', { reaction: { message_id: 'wamid.business-1' } }));
    expect(message.content).toEqual({ reaction: { messageId: 'wamid.business-1', emoji: '' } });
  });

  it('reads an order with the whole order as details and its note as text', () => {
    const order = { catalog_id: '9921', text: 'gift wrap please', product_items: [{ product_retailer_id: 'shirt-m', quantity: '1', item_price: '49', currency: 'USD' }] };
    const message = onlyMessage(messageBody('order', { order }));
    expect(message).toMatchObject({ type: 'order', text: 'gift wrap please', content: { details: order } });
  });

  it('reads a system notice (the customer changed number) with the notice as details', () => {
    const system = { body: 'Priya changed from 15550100123 to 15550100999', wa_id: '15550100999', type: 'user_changed_number' };
    const message = onlyMessage(messageBody('system', { system }));
    expect(message).toMatchObject({ type: 'system', text: system.body, content: { details: system } });
  });

  it("reads Meta's unsupported message with its errors, and the original type when Meta names it", () => {
    const message = onlyMessage(
      messageBody('unsupported', {
        unsupported: { type: 'edit' },
        errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }],
      }),
    );
    expect(message).toEqual(
      expect.objectContaining({
        type: 'unsupported',
        content: { details: { type: 'edit' }, errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type is currently not supported.' }] },
      }),
    );
  });

  it('reads a type it does not know as unsupported, naming the type', () => {
    const message = onlyMessage(messageBody('hologram', { hologram: { id: 'x' } }));
    expect(message).toEqual(expect.objectContaining({ type: 'unsupported', content: { details: { type: 'hologram' } } }));
  });

  it('keeps a known type whose part cannot be read as unsupported rather than dropping the message', () => {
    const message = onlyMessage(messageBody('image', { image: { mime_type: 'image/jpeg' } }));
    expect(message).toEqual(expect.objectContaining({ messageId: 'wamid.image', type: 'unsupported', content: { details: { type: 'image' } } }));
  });

  it('does not take a type name from the object prototype for a reader', () => {
    expect(onlyMessage(messageBody('constructor', {})).type).toBe('unsupported');
    expect(onlyMessage(messageBody('interactive', { interactive: { type: 'toString' } })).type).toBe('unsupported');
  });

  it('keeps the ad referral a customer came from', () => {
    const referral = { source_url: 'https://fb.me/ad', source_id: '120', source_type: 'ad', headline: 'Summer sale', ctwa_clid: 'clid-1' };
    const message = onlyMessage(messageBody('text', { text: { body: 'Is this still on?' }, referral }));
    expect(message).toMatchObject({ type: 'text', text: 'Is this still on?', content: { referral } });
  });
});

describe('parseWhatsAppWebhook on names, times and batches', () => {
  it("names each sender from their own contact entry in a batch from several customers, and nobody from someone else's", () => {
    const parsed = parseWhatsAppWebhook(
      body({
        contacts: [
          { profile: { name: 'Ana' }, wa_id: '15550000001' },
          { profile: { name: 'Bo' }, wa_id: '15550000002' },
        ],
        messages: [
          { from: '15550000002', id: 'wamid.b', timestamp: '1781523737', type: 'text', text: { body: 'from Bo' } },
          { from: '15550000001', id: 'wamid.a', timestamp: '1781523738', type: 'text', text: { body: 'from Ana' } },
          { from: '15550000003', id: 'wamid.c', timestamp: '1781523739', type: 'text', text: { body: 'from someone unlisted' } },
        ],
      }),
    );
    expect(parsed.messages.map((m) => [m.customer, m.message.customerName])).toEqual([
      ['15550000002', 'Bo'],
      ['15550000001', 'Ana'],
      ['15550000003', undefined],
    ]);
  });

  it('takes the name from a contact entry without wa_id when none matches', () => {
    const message = onlyMessage(
      body({ contacts: [{ profile: { name: 'Priya' } }], messages: [{ from: customer, id: 'wamid.1', timestamp: '1', type: 'text', text: { body: 'hi' } }] }),
    );
    expect(message.customerName).toBe('Priya');
  });

  it('leaves out sentAt when the timestamp is missing or not a number of seconds', () => {
    for (const timestamp of [undefined, 'yesterday', '', '99999999999999999']) {
      const message = onlyMessage(body({ messages: [{ from: customer, id: 'wamid.1', timestamp, type: 'text', text: { body: 'hi' } }] }));
      expect(message).not.toHaveProperty('sentAt');
    }
  });

  it('reads a batch of 1,000 messages in order', () => {
    const messages = Array.from({ length: 1_000 }, (_, i) => ({
      from: String(15550000000 + (i % 37)),
      id: `wamid.batch-${i}`,
      timestamp: String(1781523737 + i),
      type: 'text',
      text: { body: `message ${i}` },
    }));
    const parsed = parseWhatsAppWebhook(body({ messages }));
    expect(parsed.messages).toHaveLength(1_000);
    expect(parsed.messages.map((m) => m.message.messageId)).toEqual(messages.map((m) => m.id));
    expect(parsed.messages[999]).toEqual({
      phoneNumberId,
      customer: String(15550000000 + (999 % 37)),
      message: { messageId: 'wamid.batch-999', type: 'text', text: 'message 999', sentAt: new Date((1781523737 + 999) * 1000).toISOString() },
    });
  });

  it('reads messages and statuses from several entries and changes, each with its own phone number id', () => {
    const one = body({ messages: [{ from: customer, id: 'wamid.1', timestamp: '1', type: 'text', text: { body: 'hi' } }] });
    const two = body({ statuses: [{ id: 'wamid.out', status: 'read', timestamp: '2', recipient_id: customer }] });
    two.entry[0].changes[0].value.metadata.phone_number_id = '999000';
    const parsed = parseWhatsAppWebhook({ object: 'whatsapp_business_account', entry: [one.entry[0], two.entry[0]] });
    expect(parsed.messages.map((m) => m.phoneNumberId)).toEqual([phoneNumberId]);
    expect(parsed.receipts).toEqual([{ phoneNumberId: '999000', recipient: customer, providerMessageId: 'wamid.out', status: 'read', at: new Date(2000).toISOString() }]);
  });
});

describe('parseWhatsAppWebhook on statuses', () => {
  it.each(['sent', 'delivered', 'read', 'failed'] as const)('reads a %s status', (status) => {
    const parsed = parseWhatsAppWebhook(body({ statuses: [{ id: 'wamid.out', status, timestamp: '1781517606', recipient_id: customer }] }));
    expect(parsed.receipts).toEqual([expect.objectContaining({ providerMessageId: 'wamid.out', status })]);
  });

  it('skips statuses it does not track, and counts them as ignored', () => {
    const parsed = parseWhatsAppWebhook(
      body({
        statuses: [
          { id: 'wamid.1', status: 'deleted', timestamp: '1', recipient_id: customer },
          { id: 'wamid.2', status: 'warning', timestamp: '1', recipient_id: customer },
          { id: 'wamid.3', status: 'sent', timestamp: '1', recipient_id: customer },
        ],
      }),
    );
    expect(parsed.receipts.map((r) => r.providerMessageId)).toEqual(['wamid.3']);
    expect(parsed.ignored).toBe(2);
  });

  it('takes the message, then the title, when an error has no details', () => {
    const errors = (e: Record<string, unknown>) => body({ statuses: [{ id: 'wamid.1', status: 'failed', timestamp: '1', recipient_id: customer, errors: [e] }] });
    expect(parseWhatsAppWebhook(errors({ code: 131026, title: 'Message undeliverable', message: 'Receiver is incapable' })).receipts[0]!.error).toEqual({
      code: 131026,
      message: 'Receiver is incapable',
    });
    expect(parseWhatsAppWebhook(errors({ code: 131026, title: 'Message undeliverable' })).receipts[0]!.error).toEqual({ code: 131026, message: 'Message undeliverable' });
  });
});

describe('parseWhatsAppWebhook on other changes and malformed bodies', () => {
  it('counts changes of other fields as ignored', () => {
    const parsed = parseWhatsAppWebhook({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            { field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1 } },
            { field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } },
          ],
        },
      ],
    });
    expect(parsed).toEqual({ messages: [], receipts: [], ignored: 2 });
  });

  it('counts a messages change that carries neither messages nor statuses as ignored', () => {
    expect(parseWhatsAppWebhook(body({ errors: [{ code: 131000, title: 'Something went wrong' }] }))).toEqual({ messages: [], receipts: [], ignored: 1 });
  });

  it('reads an entry with no changes as nothing', () => {
    expect(parseWhatsAppWebhook({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [] }] })).toEqual({ messages: [], receipts: [], ignored: 0 });
  });

  const text = { id: 'wamid.1', timestamp: '1', type: 'text', text: { body: 'hi' } };
  it.each([
    ['not an object', 'hello', /^body /],
    ['null', null, /^body /],
    ['for another product', { object: 'page', entry: [] }, /^object /],
    ['without entry', { object: 'whatsapp_business_account' }, /^entry must be an array/],
    ['with entry not an array', { object: 'whatsapp_business_account', entry: {} }, /^entry must be an array/],
    ['with an entry without changes', { object: 'whatsapp_business_account', entry: [{ id: '1' }] }, /^entry\[0\]\.changes /],
    ['without metadata', { object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { messages: [] } }] }] }, /value\.metadata /],
    [
      'without phone_number_id',
      { object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { metadata: { display_phone_number: '1555' }, messages: [] } }] }] },
      /metadata\.phone_number_id /,
    ],
    ['with messages not an array', body({ messages: {} }), /value\.messages must be an array/],
    ['with a message without id', body({ messages: [{ ...text, id: undefined, from: customer }] }), /messages\[0\]\.id /],
    ['with a message without from', body({ messages: [{ ...text }] }), /messages\[0\]\.from must be 4 to 20 digits/],
    ['with a sender that is not digits', body({ messages: [{ ...text, from: '+15550100123' }] }), /messages\[0\]\.from /],
    ['with a sender of 3 digits', body({ messages: [{ ...text, from: '123' }] }), /messages\[0\]\.from /],
    ['with a sender of 21 digits', body({ messages: [{ ...text, from: '1'.repeat(21) }] }), /messages\[0\]\.from /],
    ['with a message without type', body({ messages: [{ ...text, type: undefined, from: customer }] }), /messages\[0\]\.type /],
    ['with a status without id', body({ statuses: [{ status: 'sent', timestamp: '1', recipient_id: customer }] }), /statuses\[0\]\.id /],
    ['with a status without status', body({ statuses: [{ id: 'wamid.1', timestamp: '1', recipient_id: customer }] }), /statuses\[0\]\.status /],
  ])('rejects a body %s with a WebhookPayloadError naming where', (_case, input, where) => {
    let thrown: unknown;
    try {
      parseWhatsAppWebhook(input);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WebhookPayloadError);
    expect((thrown as Error).message).toMatch(where);
  });

  it('rejects the whole body when one message in a batch is malformed, naming which', () => {
    const messages = [
      { from: customer, ...text },
      { from: 'abc', ...text, id: 'wamid.2' },
    ];
    expect(() => parseWhatsAppWebhook(body({ messages }))).toThrow(/messages\[1\]\.from/);
  });

  it('does not echo customer data in its error messages', () => {
    expect(() => parseWhatsAppWebhook(body({ messages: [{ ...text, from: 'secret-customer-words' }] }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret-customer-words') }),
    );
  });
});

describe('field limits (SPEC section 12): a signed item is kept within them, the body is bounded', () => {
  const text = (id: string, words: string) => ({ from: customer, id, timestamp: '1733500000', type: 'text', text: { body: words } });

  it('cuts a 5,000-character text to 4,096 with truncated: true, escapes keys the store refuses, and counts both', () => {
    const parsed = parseWhatsAppWebhook(
      body({
        messages: [text('wamid.long', 'x'.repeat(5000)), { from: customer, id: 'wamid.card', timestamp: '1733500000', type: 'contacts', contacts: [{ 'a.b': [[1]] }] }, text('wamid.ok', 'hi')],
      }),
    );
    expect(parsed.messages.map((m) => m.message.truncated)).toEqual([true, undefined, undefined]);
    expect(parsed.messages[0]!.message.text).toHaveLength(4096);
    expect(parsed.messages[1]!.message.content).toEqual({ contacts: [{ 'a\uff0eb': [{ items: [1] }] }] });
    expect(parsed.adjusted).toEqual({ truncated: 1, escaped: 1 });
  });

  it('refuses more than 1,000 items and more than 32 levels, naming where', () => {
    const many = Array.from({ length: 1001 }, (_, i) => text(`wamid.${i}`, 'hi'));
    expect(() => parseWhatsAppWebhook(body({ messages: many }))).toThrow(/value\.messages makes more than 1000 items/);
    expect(() => parseWhatsAppWebhook(body({ messages: Array.from({ length: 1000 }, (_, i) => text(`wamid.${i}`, 'hi')) }))).not.toThrow();
    let deep: unknown = [];
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(() => parseWhatsAppWebhook(body({ messages: [{ ...text('wamid.deep', 'hi'), extra: deep }] }))).toThrow(/body must not nest more than 32 levels/);
  });
});
