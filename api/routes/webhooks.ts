import type { RequestHandler } from 'express';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { receiveWhatsAppWebhook, verifyWhatsAppHandshake } from '../whatsapp-webhook';
import { defineRoute } from '../route';
import * as r from '../conversation-responses';
import * as s from '../schemas';

const signatureHeader = 'x-hub-signature-256';
const unsigned = () => new ApiError({ code: 'invalid_signature', message: 'X-Hub-Signature-256 is missing or does not match the app secret' });

/**
 * Mounted on /webhooks before the body parser (SPEC section 12): a POST without X-Hub-Signature-256 is
 * answered 401 before a byte of its body is read, charged to its client address, and its connection is
 * closed, so a client announcing megabytes and sending a few bytes holds nothing open.
 */
export function refuseUnsignedWebhooks(deps: ApiDeps): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'POST' || req.headers[signatureHeader] !== undefined) return next();
    deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'invalid_signature' });
    res.setHeader('connection', 'close');
    res.on('finish', () => {
      // The unread body is not waited for: once the answer is out, the socket goes.
      if (!req.complete) req.socket.destroySoon();
    });
    deps.rateLimits.chargeAddress(req, res).then(() => next(unsigned()), next);
  };
}

/** SPEC section 7, "WhatsApp Cloud API in": Meta's verification handshake and its signed deliveries. */
export const webhookRoutes = [
  defineRoute({
    method: 'get',
    path: '/webhooks/whatsapp/{accountId}',
    summary: "Meta's webhook verification: answers hub.challenge when hub.verify_token is one of the account's WhatsApp channels'",
    query: s.whatsappHandshake,
    plainText: true,
    handler: async ({ deps, params, query, res }) => {
      res.status(200).type('text/plain').send(await verifyWhatsAppHandshake(deps, params.accountId!, query));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/webhooks/whatsapp/{accountId}',
    summary:
      "Meta's webhook: customer messages and delivery receipts, signed with the app secret (X-Hub-Signature-256). A POST without the header is refused before its body is read; a validly signed one is never rate-limited, a badly signed one counts against its client address",
    rawBody: true,
    response: r.webhookAck,
    handler: async ({ deps, params, req, res }) => {
      try {
        return await receiveWhatsAppWebhook(deps, params.accountId!, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.header(signatureHeader));
      } catch (error) {
        if (error instanceof ApiError && error.code === 'invalid_signature') await deps.rateLimits.chargeAddress(req, res);
        throw error;
      }
    },
  }),
];
