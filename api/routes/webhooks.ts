import { receiveWhatsAppWebhook, verifyWhatsAppHandshake } from '../whatsapp-webhook';
import { defineRoute } from '../route';
import * as r from '../conversation-responses';
import * as s from '../schemas';

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
    summary: "Meta's webhook: customer messages and delivery receipts, signed with the app secret (X-Hub-Signature-256)",
    rawBody: true,
    response: r.webhookAck,
    handler: async ({ deps, params, req }) =>
      receiveWhatsAppWebhook(deps, params.accountId!, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.header('x-hub-signature-256')),
  }),
];
