import { conversationWorkflowId, conversationWorkflowType, customerMessageSignal } from '../../workflows/conversation/messages';
import type { conversationWorkflow } from '../../workflows/conversation/workflow';
import { accountIdKey } from '../../workflows/conversation/search-attributes';
import { supervisors } from '../auth';
import { defineRoute } from '../route';
import * as s from '../schemas';

/** Routes backend services use: customer messages in, campaign sends out. */
export const inboundRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/messages',
    summary: "Deliver a customer's message; starts or wakes the conversation (signal-with-start)",
    allow: ['service'],
    body: s.customerMessage,
    status: 202,
    handler: async ({ deps, params, body }) => {
      const accountId = params.accountId!;
      const { channel, customer, ...message } = body;
      const workflowId = conversationWorkflowId({ accountId, channel, customer });
      await deps.temporalCall('signalWithStart', () =>
        deps.temporal.workflow.signalWithStart<typeof conversationWorkflow, [typeof message]>(conversationWorkflowType, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [{ accountId, channel, customer }],
          signal: customerMessageSignal,
          signalArgs: [message],
          typedSearchAttributes: [{ key: accountIdKey, value: accountId }],
        }),
      );
      return { conversationId: workflowId };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/campaign-messages',
    summary: 'Send a campaign template; it never appears in the inbox nor changes a conversation',
    allow: ['service', ...supervisors],
    body: s.campaignMessage,
    status: 202,
    handler: async ({ deps, params, body }) => {
      const accountId = params.accountId!;
      const sendId = `campaign/${accountId}/${body.campaignId}/${body.channel}/${body.customer}`;
      await deps.provider.send({
        _id: sendId,
        accountId,
        channel: body.channel,
        customer: body.customer,
        conversationId: null,
        campaignId: body.campaignId,
        kind: 'template',
        text: null,
        template: body.template,
      });
      return { campaignId: body.campaignId, sendId };
    },
  }),
];
