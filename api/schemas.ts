import { z } from 'zod';
import { parseDuration } from '../workflows/conversation/core/durations';
import { inboundKinds } from '../workflows/conversation/core/model';
import { interactiveProblems } from '../workflows/conversation/core/interactive';
import { parseSnoozeUntil } from '../workflows/conversation/core/rules-snooze';
import { maxMentions } from '../workflows/conversation/core/rules-notes';
import type { PolicyPatch } from '../workflows/conversation/core/policy';
import { policyFieldNames, policyFields } from '../workflows/conversation/core/policy';
import type { AnyField, PolicySchemaKit } from '../workflows/conversation/core/policy-codecs';
import { maxTitleLength, shortCodePattern } from './canned-text';
import { attributeKeyPattern, maxAttributeValueLength, maxAttributes, maxTags, maxTextLength, describeUnstorable, isUnsafeKey, unstorableParts } from '../workflows/conversation/core/limits';

/**
 * Input schemas of the HTTP API. Identifiers are restricted so they can be embedded in a workflow id
 * (`conv:{accountId}:{channel}:{customer}`) without escaping: no colons, no slashes, no spaces.
 */
export const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." or "-", up to 64');
export const customerId = z.string().regex(/^\d{4,20}$/, "the customer's WhatsApp id: digits, no +");
export const role = z.enum(['owner', 'admin', 'manager', 'agent']);
export const duration = z.string().refine((s) => parseDuration(s) !== undefined, 'a duration like "48h", "30m" or "5s"');
export const statuses = ['open', 'assigned', 'closed', 'in_flow', 'resolved', 'waiting', 'wrap_up', 'snoozed'] as const;
const tag = z.string().regex(/^[\p{L}\p{N}_ .:-]{1,64}$/u, 'a tag: letters, digits, spaces, "_", ".", ":" or "-", up to 64');
const text = z.string().min(1).max(maxTextLength);

/**
 * Field limits (SPEC section 12, workflows/conversation/core/limits.ts). Attribute keys, and the keys of
 * routing rules that match them: no "." and no "$", which the store refuses as keys.
 */
const attributeKey = z.string().regex(attributeKeyPattern);
const attributeKeyError = { error: (issue: { code?: string }) => (issue.code === 'invalid_key' ? 'a key: letters, digits, "_" or "-", 1 to 64 (no "." nor "$")' : undefined) };
export const attributes = z
  .record(attributeKey, z.string().max(maxAttributeValueLength), attributeKeyError)
  .refine((a) => Object.keys(a).length <= maxAttributes, `at most ${maxAttributes} attributes`)
  .meta({ maxProperties: maxAttributes });
/** Attributes to change: a value sets the key, `null` removes it (`PATCH .../contacts`). */
export const attributeChanges = z
  .record(attributeKey, z.string().max(maxAttributeValueLength).nullable(), attributeKeyError)
  .refine((a) => Object.keys(a).length <= maxAttributes, `at most ${maxAttributes} attributes`)
  .meta({ maxProperties: maxAttributes });
const templateName = z.string().regex(/^[a-z0-9_]{1,512}$/, 'a template name: lowercase letters, digits and "_"');

export const routingRule = z.strictObject({
  match: z.record(attributeKey, z.string().max(256), attributeKeyError),
  team: id,
  skills: z.array(z.string().min(1).max(64)).max(20).optional(),
});

export const routingPatch = z.strictObject({
  mode: z.enum(['manual', 'round_robin', 'least_loaded']).optional(),
  rules: z.array(routingRule).max(100).optional(),
  sticky: z.boolean().optional(),
  fallbackTeam: id.nullable().optional(),
  releaseOnOffline: z.boolean().optional(),
});

/**
 * The policy patch: derived from the one declaration of each policy field (`policyFields`,
 * workflows/conversation/core/policy.ts), each field's schema built by its codec from this kit.
 */
const policySchemaKit: PolicySchemaKit = { z, duration, templateName, routingPatch };
export const policyPatch: z.ZodType<PolicyPatch> = z.strictObject({
  preset: z.enum(['default', 'status_inbox', 'work_items']).optional(),
  ...Object.fromEntries(policyFieldNames.map((name) => [policyFields[name].wire, (policyFields[name] as AnyField).codec.schema(policySchemaKit).optional()])),
});

export const createAccount = z.strictObject({
  id,
  name: z.string().min(1).max(200),
  policy: policyPatch.optional(),
});

/** A user's e-mail, for single sign-on (api/oidc.ts): compared lower-cased, so stored lower-cased. */
const email = z.email().max(254).transform((v) => v.toLowerCase());

export const createUser = z.strictObject({
  id,
  name: z.string().min(1).max(200),
  role,
  email: email.optional(),
  teams: z.array(id).max(50).optional(),
  languages: z.array(z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'a language tag like "en" or "pt-BR"')).max(50).optional(),
  maxConcurrent: z.number().int().min(0).max(1000).optional(),
});

export const patchUser = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  email: email.nullable().optional(),
  teams: z.array(id).max(50).optional(),
  languages: createUser.shape.languages,
  maxConcurrent: z.number().int().min(0).max(1000).nullable().optional(),
  active: z.boolean().optional(),
});

export const presence = z.strictObject({ status: z.enum(['online', 'away', 'offline']) });

export const createServiceKey = z.strictObject({ name: z.string().min(1).max(200) });

const replyTo = z.strictObject({ messageId: z.string().min(1).max(256).optional(), campaignId: z.string().min(1).max(256).optional() });

const providerId = z.string().min(1).max(256);
/**
 * A part kept as the provider sent it (contacts, referral, details): any shape but what the store
 * refuses, at any depth: a key with ".", NUL or a leading "$", an array directly inside an array
 * (its nesting is bounded by the body's 32 levels).
 */
const loose = z
  .record(z.string().refine((key) => !isUnsafeKey(key), 'no ".", NUL or leading "$" in keys'), z.unknown())
  .superRefine((value, ctx) => {
    // Top-level keys are the record's own (above); deeper ones are named by their path.
    for (const [key, child] of Object.entries(value)) {
      for (const part of unstorableParts(child, key, 5)) ctx.addIssue({ code: 'custom', path: [key], message: describeUnstorable(part) });
    }
  });

/** The type-specific part of a customer message (SPEC section 7), as the WhatsApp webhook maps it. */
export const messageContent = z.strictObject({
  media: z
    .strictObject({
      id: providerId,
      mimeType: z.string().max(256).optional(),
      sha256: z.string().max(256).optional(),
      filename: z.string().max(1024).optional(),
      caption: z.string().max(maxTextLength).optional(),
      voice: z.boolean().optional(),
      animated: z.boolean().optional(),
    })
    .optional(),
  location: z
    .strictObject({
      latitude: z.number().min(-90).max(90),
      longitude: z.number().min(-180).max(180),
      name: z.string().max(1024).optional(),
      address: z.string().max(1024).optional(),
      url: z.string().max(2048).optional(),
    })
    .optional(),
  contacts: z.array(loose).max(100).optional(),
  reaction: z.strictObject({ messageId: providerId, emoji: z.string().max(64) }).optional(),
  choice: z.strictObject({ id: z.string().max(1024), title: z.string().max(1024), description: z.string().max(1024).optional(), type: z.string().max(64) }).optional(),
  referral: loose.optional(),
  details: loose.optional(),
  errors: z.array(z.strictObject({ code: z.number(), title: z.string().max(1024), message: z.string().max(4096).optional() })).max(20).optional(),
});

export const customerMessage = z
  .strictObject({
    channel: id,
    customer: customerId,
    messageId: providerId,
    /** `text` unless said otherwise; every type is a customer message (refreshes the window, reopens). */
    type: z.enum(inboundKinds).optional(),
    text: text.optional(),
    content: messageContent.optional(),
    sentAt: z.iso.datetime({ offset: true }).optional(),
    customerName: z.string().min(1).max(200).optional(),
    replyTo: replyTo.optional(),
    attributes: attributes.optional(),
  })
  .refine((m) => (m.type ?? 'text') !== 'text' || m.text !== undefined, { message: 'required for a text message', path: ['text'] });

/** A media header's file: Graph fetches it from this link, so it is https. */
const templateMediaLink = z.url({ protocol: /^https$/ }).max(2048);
/** A parameter of a template component, in the Cloud API's send format (SPEC section 10). */
const templateParameter = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string().min(1).max(1024), parameter_name: z.string().regex(/^[a-z0-9_]{1,64}$/).optional() }),
  z.strictObject({ type: z.literal('image'), image: z.strictObject({ link: templateMediaLink }) }),
  z.strictObject({ type: z.literal('video'), video: z.strictObject({ link: templateMediaLink }) }),
  z.strictObject({ type: z.literal('document'), document: z.strictObject({ link: templateMediaLink, filename: z.string().min(1).max(240).optional() }) }),
  z.strictObject({
    type: z.literal('location'),
    location: z.strictObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180), name: z.string().max(1000).optional(), address: z.string().max(1000).optional() }),
  }),
  z.strictObject({ type: z.literal('payload'), payload: z.string().min(1).max(256) }),
  z.strictObject({ type: z.literal('coupon_code'), coupon_code: z.string().min(1).max(15) }),
]);
/** `header`, `body`, or a button (`sub_type` and `index` required, and only there). */
const templateComponent = z
  .strictObject({
    type: z.enum(['header', 'body', 'button']),
    sub_type: z.enum(['quick_reply', 'url', 'copy_code', 'flow', 'voice_call']).optional(),
    index: z.number().int().min(0).max(9).optional(),
    parameters: z.array(templateParameter).max(20),
  })
  .superRefine((c, ctx) => {
    const button = c.type === 'button';
    if (button && c.sub_type === undefined) ctx.addIssue({ code: 'custom', path: ['sub_type'], message: 'required for a button' });
    if (button && c.index === undefined) ctx.addIssue({ code: 'custom', path: ['index'], message: 'required for a button' });
    if (!button && c.sub_type !== undefined) ctx.addIssue({ code: 'custom', path: ['sub_type'], message: `only a button has one, not a ${c.type}` });
    if (!button && c.index !== undefined) ctx.addIssue({ code: 'custom', path: ['index'], message: `only a button has one, not a ${c.type}` });
  });

export const template = z.strictObject({
  name: templateName,
  language: z.string().min(2).max(16).optional(),
  params: z.array(z.string().max(1024)).max(20).optional(),
  /** Header, body and button parameters; a template the registry knows is checked against its definition (api/templates.ts). */
  components: z.array(templateComponent).max(12).optional(),
});

export const campaignMessage = z.strictObject({
  channel: id,
  customer: customerId,
  campaignId: z.string().min(1).max(256),
  template,
});

/**
 * SPEC 10: reply buttons or a list. The shape here; Meta's limits (lengths, counts, unique ids) are the
 * pure rule's (core/interactive.ts), reported on the field they concern (`interactive.buttons.1.title`).
 * Lengths are also capped here, loosely, so an oversized body is refused before the rule walks it.
 */
const choiceText = z.string().max(4096);
export const interactive = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('button'),
      body: choiceText,
      buttons: z.array(z.strictObject({ id: choiceText, title: choiceText })).max(100),
    }),
    z.strictObject({
      type: z.literal('list'),
      body: choiceText,
      button: choiceText,
      sections: z
        .array(z.strictObject({ title: choiceText.optional(), rows: z.array(z.strictObject({ id: choiceText, title: choiceText, description: choiceText.optional() })).max(100) }))
        .max(100),
    }),
  ])
  .superRefine((message, ctx) => {
    for (const problem of interactiveProblems(message)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  });

/** A stored file (POST .../media) to send; `caption` or the reply's `text` is its caption (SPEC section 10). */
export const replyMedia = z.strictObject({
  id: z.string().regex(/^med_[A-Za-z0-9_-]{1,64}$/, 'a media id from POST .../media'),
  caption: text.optional(),
  filename: z.string().min(1).max(255).optional().describe("the name a document shows (the stored file's when absent)"),
});
export const reply = z
  .strictObject({
    text: text.optional(),
    /** SPEC 10: send a canned response instead of `text`, its variables filled in (api/canned-responses.ts). */
    cannedResponse: z.string().regex(shortCodePattern, 'a short code').optional().describe('The short code of a canned response the caller sees (personal first, then the account\'s), sent instead of `text` with its variables filled'),
    /** SPEC 10: buttons or a list instead of text. */
    interactive: interactive.optional(),
    media: replyMedia.optional().describe('a stored file; text with an image, video or document is its caption, with audio or a sticker 400'),
    /** The provider message id of the customer's message this answers: WhatsApp shows it quoted. */
    replyTo: providerId.optional(),
  })
  .superRefine((r, ctx) => {
    // One of cannedResponse, interactive and media, or text alone; text may go with media as its caption.
    const kinds = (['cannedResponse', 'interactive', 'media'] as const).filter((k) => r[k] !== undefined);
    if (kinds.length === 0 && r.text === undefined) ctx.addIssue({ code: 'custom', path: ['text'], message: 'required (or cannedResponse, interactive or media)' });
    if (kinds.length > 1) ctx.addIssue({ code: 'custom', path: [kinds[1]!], message: 'give one of cannedResponse, interactive and media' });
    else if (r.text !== undefined && (kinds[0] === 'cannedResponse' || kinds[0] === 'interactive')) ctx.addIssue({ code: 'custom', path: [kinds[0]], message: 'give one of text, cannedResponse and interactive (text goes with media only, as its caption)' });
  });
export const transfer = z.strictObject({ team: id });
export const priority = z.strictObject({ priority: z.enum(['urgent', 'high', 'normal', 'low']) });
/**
 * SPEC 9: checked here with the rule's own reader (core/rules-snooze.ts) so a bad `until` is a 400 before
 * the workflow is asked; the rule checks again against the workflow's clock.
 */
export const snooze = z.strictObject({
  until: z
    .string()
    .max(64)
    .superRefine((value, ctx) => {
      const read = parseSnoozeUntil(value, Date.now());
      if ('error' in read) ctx.addIssue({ code: 'custom', message: read.error });
    })
    .describe('An ISO-8601 time with a zone in the future, a duration from now ("2h", "1d"), or "window": `snoozeWakeBeforeWindow` before the 24-hour window closes'),
});
export const tags = z
  .strictObject({
    add: z.array(tag).max(maxTags).default([]).meta({ description: `a conversation holds at most ${maxTags} tags: an add that would make more answers 400` }),
    remove: z.array(tag).max(maxTags).default([]),
  })
  .refine((t) => t.add.length + t.remove.length > 0, 'add or remove at least one tag');
export const flow = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('start'), priority: z.boolean().default(false) }),
  z.strictObject({
    action: z.literal('end'),
    assignTo: z.union([z.strictObject({ userId: id }), z.strictObject({ team: id })]).optional(),
  }),
]);
export const customerEvent = z.discriminatedUnion('type', [
  z.strictObject({ channel: id, customer: customerId, type: z.literal('left') }),
  z.strictObject({ channel: id, customer: customerId, type: z.literal('csat'), score: z.number().min(0).max(10) }),
]);
/** Recipients by id, or every conversation of the account with a status; up to 10,000 either way. */
export const broadcast = z
  .strictObject({
    /** Names the broadcast: a retry with the same id sends nothing more. Generated when left out. */
    broadcastId: id.optional(),
    template,
    conversationIds: z.array(z.string().min(1).max(300)).min(1).max(10_000).optional(),
    status: z.enum(statuses).optional(),
    priority: z.boolean().default(false),
  })
  .refine((b) => (b.conversationIds === undefined) !== (b.status === undefined), { message: 'give either conversationIds or status', path: ['conversationIds'] });
export const assign = z.strictObject({ assigneeId: id });
export const noBody = z.strictObject({});

export const listConversations = z.strictObject({
  /** `not_contacted` lists contacts known to the account (a campaign reached them) who have no conversation yet. */
  status: z.enum([...statuses, 'not_contacted']).optional(),
  archived: z.enum(['true', 'false', 'any']).default('false'),
  tag: tag.optional(),
  assignee: z.union([z.literal('me'), id]).optional(),
  channel: id.optional(),
  /** Conversations the team holds (the view's `team`). */
  team: id.optional(),
  /** `newest`: newest activity first; `oldest_waiting`: only conversations where a customer waits, longest first. */
  sort: z.enum(['newest', 'oldest_waiting']).default('newest'),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(512).optional(),
});

/** SPEC 10: a note. `mentions`: user ids, each an active user of the account (the route checks; else 400 naming `mentions[i]`). */
export const note = z.strictObject({
  text: text.refine((t) => t.trim() !== '', 'a note needs some words'),
  mentions: z.array(id).max(maxMentions).optional(),
});
/** SPEC 10: `GET .../mentions`, the caller's, newest first. */
export const listMentions = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(512).optional(),
});

export const listTimeline = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: z.coerce.number().int().min(0).default(0),
  /** The newest `limit` records with seq below it (`end`: the newest of all), still in seq order; not with `after`. */
  before: z.union([z.literal('end'), z.coerce.number().int().min(1)]).optional(),
});

/** SPEC section 7: one channel's provider. Secrets are write-only; on a change they may be left out to keep the stored ones. */
const secret = z.string().min(8).max(2048);
export const channelConfig = z.discriminatedUnion('provider', [
  z.strictObject({
    provider: z.literal('whatsapp_cloud'),
    phoneNumberId: z.string().regex(/^\d{1,32}$/, "WhatsApp's phone number id: digits"),
    accessToken: secret.optional(),
    appSecret: secret.optional(),
    verifyToken: secret.optional(),
    apiVersion: z.string().regex(/^v\d{1,3}\.\d{1,2}$/, 'a Graph API version like "v21.0"').optional(),
    /** Left out: the stored one stays; null: none (templates are not synced). */
    wabaId: z.string().regex(/^\d{1,32}$/, 'the WhatsApp Business Account id: digits, up to 32').nullable().optional(),
  }),
  z.strictObject({
    provider: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }).max(2048),
    secret: secret.optional(),
  }),
  z.strictObject({ provider: z.literal('recording') }),
]);

export const deliveryStatus = z.strictObject({
  providerMessageId: providerId,
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  at: z.iso.datetime({ offset: true }).optional(),
  error: z.strictObject({ code: z.union([z.number().int(), z.string().min(1).max(64)]), message: z.string().max(1024) }).optional(),
});

export const whatsappHandshake = z.looseObject({
  'hub.mode': z.string().max(64).optional(),
  'hub.verify_token': z.string().max(2048).optional(),
  'hub.challenge': z.string().max(1024).optional(),
});

/** Keys (issue 11): a rotation may leave the old key working for a while, up to a week. */
export const rotateKey = z.strictObject({
  gracePeriod: duration
    .refine((s) => (parseDuration(s) ?? 0) <= 7 * 24 * 3_600_000, 'at most "168h" (a week)')
    .optional(),
});

/*
 * Response schemas (OpenAPI, issue 11 item 10): the document describes each success answer from these,
 * and test/api/openapi.test.ts checks real answers against the document. Strict objects, so a field the
 * code adds without documenting it fails that test.
 */
const isoTime = z.iso.datetime();
export const policyDocument = z.looseObject({
  preset: z.enum(['default', 'status_inbox', 'work_items']),
  autoCloseAfter: z.string().nullable(),
  serviceWindow: z.string(),
  routing: z.looseObject({ mode: z.enum(['manual', 'round_robin', 'least_loaded']) }),
  version: z.number().int(),
});
export const accountResponse = z.strictObject({ id, name: z.string(), policy: policyDocument, createdAt: isoTime });
export const policyChangedResponse = z.strictObject({
  policy: policyDocument,
  /** The account's policy-propagation workflow (Temporal), which tells the conversations that are not closed. */
  propagation: z.strictObject({ workflowId: z.string() }),
});
export const userResponse = z.strictObject({
  id,
  name: z.string(),
  role,
  email: z.string().nullable(),
  active: z.boolean(),
  presence: z.enum(['online', 'away', 'offline']),
  teams: z.array(z.string()),
  languages: z.array(z.string()),
  maxConcurrent: z.number().int().nullable(),
  createdAt: isoTime,
});
export const createdUserResponse = z.strictObject({ user: userResponse, apiKey: z.string() });
export const userListResponse = z.strictObject({ users: z.array(userResponse) });
export const userChangedResponse = z.strictObject({ user: userResponse, released: z.number().int() });
export const createdServiceKeyResponse = z.strictObject({ name: z.string(), apiKey: z.string() });
export const keyResponse = z.strictObject({
  id: z.string(),
  kind: z.enum(['user', 'service']),
  userId: z.string().optional(),
  name: z.string(),
  createdAt: isoTime,
  expiresAt: isoTime.nullable(),
});
export const keyListResponse = z.strictObject({ items: z.array(keyResponse), nextCursor: z.null() });
export const rotatedKeyResponse = z.strictObject({ name: z.string().optional(), apiKey: z.string(), key: keyResponse, previous: z.array(keyResponse) });
export const revokedKeyResponse = z.strictObject({ key: keyResponse });
export const healthResponse = z.strictObject({ status: z.literal('ok') });
export const readinessResponse = z.strictObject({
  ready: z.boolean(),
  checks: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), error: z.enum(['timeout', 'unavailable']).optional() })),
});

/** SPEC 10: a canned response as saved; its short code is the path's (api/canned-text.ts has the bounds). */
export const cannedResponse = z.strictObject({
  title: z.string().trim().min(1).max(maxTitleLength),
  text,
  scope: z.enum(['account', 'personal']),
});
const cannedScope = z.enum(['account', 'personal']).optional().describe("Only this owner's responses: the account's, or the caller's personal ones");
export const listCannedResponses = z.strictObject({
  q: z.string().max(100).optional().describe('A case- and accent-insensitive prefix of the short code or of any word of the title'),
  scope: cannedScope,
});
export const cannedResponseScope = z.strictObject({ scope: cannedScope });
