import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { OutboundMessage } from '../../channels/types';
import type { campaignSendWorkflow } from '../../workflows/campaign/workflow';
import { campaignSendWorkflowId, campaignSendWorkflowType } from '../../workflows/campaign/ids';
import { conversationWorkflowId, customerEventSignal } from '../../workflows/conversation/messages';
import { isDuplicateKeyError } from '../../store/collections';
import { supervisors } from '../auth';
import { ApiError } from '../errors';
import { deliverCustomerMessage, deliverReceipt } from './webhooks';
import { defineRoute } from '../route';
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
      const accountId = params.accountId!;
      const sendId = campaignSendWorkflowId({ accountId, ...body });
      // A campaign makes the customer known to the account: "not contacted" until they write (seed 002).
      // Insert-only: an existing contact is left as it is. Two first upserts racing: FerretDB answers the
      // later one's insert with 11000, which means the contact is there, as this write wants.
      await deps.collections.contacts
        .updateOne(
          { _id: `${accountId}/${body.channel}/${body.customer}` },
          { $setOnInsert: { accountId, channel: body.channel, customer: body.customer, contacted: false, createdAt: new Date() } },
          { upsert: true },
        )
        .catch((error: unknown) => {
          if (!isDuplicateKeyError(error)) throw error;
        });
      const message: OutboundMessage = {
        deliveryId: sendId,
        accountId,
        channel: body.channel,
        customer: body.customer,
        conversationId: null,
        messageId: sendId,
        campaignId: body.campaignId,
        kind: 'template',
        text: null,
        template: body.template,
        replyTo: null,
      };
      // Sent durably by its own workflow; the same campaign, channel and customer again sends nothing more.
      await deps.temporalCall('campaignSend', async () => {
        try {
          await deps.temporal.workflow.start<typeof campaignSendWorkflow>(campaignSendWorkflowType, { workflowId: sendId, taskQueue: deps.taskQueue, args: [message], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      });
      return { campaignId: body.campaignId, sendId };
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
      const conversationId = conversationWorkflowId({ accountId: params.accountId!, channel: body.channel, customer: body.customer });
      const event = body.type === 'csat' ? { type: 'csat' as const, score: body.score } : { type: 'left' as const };
      await deps.temporalCall('customerEvent', () => deps.temporal.workflow.getHandle(conversationId).signal(customerEventSignal, event));
      return { conversationId };
    },
  }),
];
