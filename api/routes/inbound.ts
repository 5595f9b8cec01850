import type { CustomerMessagePayload } from '../../workflows/conversation/messages';
import { broadcastUpdate, conversationWorkflowId, conversationWorkflowType, customerEventSignal, customerMessageSignal } from '../../workflows/conversation/messages';
import type { conversationWorkflow } from '../../workflows/conversation/workflow';
import { accountIdKey } from '../../workflows/conversation/search-attributes';
import { supervisors } from '../auth';
import { toApiError } from '../errors';
import type { RouteContext } from '../route';
import { act, actorOf } from './conversations';
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
        deps.temporal.workflow.signalWithStart<typeof conversationWorkflow, [CustomerMessagePayload]>(conversationWorkflowType, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [{ accountId, channel, customer }],
          signal: customerMessageSignal,
          signalArgs: [message],
          typedSearchAttributes: [{ key: accountIdKey, value: accountId }],
          // Shown in the Temporal UI's list and header; the live state is in the workflow's current details.
          staticSummary: `Conversation with ${customer} on ${channel} (account ${accountId})`,
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
      // A campaign makes the customer known to the account: "not contacted" until they write (seed 002).
      await deps.collections.contacts.updateOne(
        { _id: `${accountId}/${body.channel}/${body.customer}` },
        { $setOnInsert: { accountId, channel: body.channel, customer: body.customer, contacted: false, createdAt: new Date() } },
        { upsert: true },
      );
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
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/customer-events',
    summary: 'The customer left (seed 004) or answered the satisfaction survey (seed 002)',
    allow: ['service'],
    body: s.customerEvent,
    status: 202,
    handler: async ({ deps, params, body }) => {
      const conversationId = conversationWorkflowId({ accountId: params.accountId!, channel: body.channel, customer: body.customer });
      const event = body.type === 'csat' ? { type: 'csat' as const, score: body.score } : { type: 'left' as const };
      await deps.temporalCall('customerEvent', () => deps.temporal.workflow.getHandle(conversationId).signal(customerEventSignal, event));
      return { conversationId };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/broadcasts',
    summary: 'Send a template to many conversations; only closed ones unless priority (seed 002). Answers sent and skipped, with reasons',
    allow: ['service', ...supervisors],
    body: s.broadcast,
    handler: async (ctx) => {
      const { body } = ctx;
      const actor = actorOf(ctx.principal);
      const sent: { conversationId: string; messageId: string | null }[] = [];
      const skipped: { conversationId: string; reason: string; message: string }[] = [];
      const ids = [...new Set(body.conversationIds)];
      // Bounded fan-out: each send is one update on its own conversation.
      for (let i = 0; i < ids.length; i += 16) {
        await Promise.all(
          ids.slice(i, i + 16).map(async (conversationId) => {
            try {
              const result = await act(
                { ...ctx, params: { ...ctx.params, conversationId } } as RouteContext<unknown, unknown>,
                'broadcast',
                broadcastUpdate,
                { actor, template: body.template, priority: body.priority },
              );
              sent.push({ conversationId, messageId: result.messageId });
            } catch (error) {
              const apiError = toApiError(error);
              if (apiError.code === 'internal' || apiError.code === 'unavailable') throw error;
              skipped.push({ conversationId, reason: apiError.code, message: apiError.message });
            }
          }),
        );
      }
      return { sent, skipped };
    },
  }),
];
