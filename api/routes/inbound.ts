import { supervisors } from '../auth';
import { ApiError } from '../errors';
import { deliverCustomerEvent, deliverCustomerMessage, deliverReceipt, sendCampaignMessage } from '../inbound';
import { defineRoute } from '../route';
import { checkTemplate } from '../templates';
import * as r from '../conversation-responses';
import * as s from '../schemas';

/** Routes backend services use: customer messages and delivery receipts in, campaign sends out. */
export const inboundRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/messages',
    summary: "Deliver a customer's message; starts or wakes the conversation (signal-with-start)",
    allow: ['service'],
    body: s.customerMessage,
    status: 202,
    response: r.accepted,
    handler: async ({ deps, params, body }) => {
      const { channel, customer, ...message } = body;
      return { conversationId: await deliverCustomerMessage(deps, { accountId: params.accountId!, channel, customer }, message) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/campaign-messages',
    summary: 'Send a campaign template; it never appears in the inbox nor changes a conversation',
    allow: ['service', ...supervisors],
    body: s.campaignMessage,
    status: 202,
    response: r.campaignAccepted,
    handler: async ({ deps, params, body }) => {
      await checkTemplate(deps, params.accountId!, body.template, 'template.');
      return sendCampaignMessage(deps, params.accountId!, body);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/delivery-statuses',
    summary: 'A delivery receipt from a webhook-provider backend: sent, delivered, read or failed, by providerMessageId',
    allow: ['service'],
    body: s.deliveryStatus,
    response: r.receiptAccepted,
    handler: async ({ deps, params, body }) => {
      const conversationId = await deliverReceipt(deps, params.accountId!, body, null);
      if (conversationId === null) throw new ApiError({ code: 'not_found', message: `no message of this account has providerMessageId ${body.providerMessageId}` });
      return { conversationId, providerMessageId: body.providerMessageId };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/customer-events',
    summary: 'The customer left (seed 004) or answered the satisfaction survey (seed 002)',
    allow: ['service'],
    body: s.customerEvent,
    status: 202,
    response: r.accepted,
    handler: async ({ deps, params, body }) => {
      const event = body.type === 'csat' ? { type: 'csat' as const, score: body.score } : { type: 'left' as const };
      return { conversationId: await deliverCustomerEvent(deps, { accountId: params.accountId!, channel: body.channel, customer: body.customer }, event) };
    },
  }),
];
