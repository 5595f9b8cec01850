import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type { TemporalCall } from '../activities/router-client';
import type { OutboundMessage } from '../channels/types';
import type { BroadcastInput } from '../workflows/broadcast/messages';
import { broadcastWorkflowId, broadcastWorkflowType } from '../workflows/broadcast/messages';
import type { broadcastWorkflow } from '../workflows/broadcast/workflow';
import { campaignSendWorkflowType } from '../workflows/campaign/ids';
import type { ProviderReadInput } from '../workflows/provider-read/ids';
import { providerReadWorkflowId, providerReadWorkflowType, typingWorkflowId } from '../workflows/provider-read/ids';
import type { providerReadWorkflow } from '../workflows/provider-read/workflow';
import type { campaignSendWorkflow } from '../workflows/campaign/workflow';
import type { ActionBase, ActionResult, ConversationRef, CustomerMessagePayload, DeliveryStatusPayload } from '../workflows/conversation/messages';
import {
  agentPresenceSignal,
  conversationWorkflowId,
  conversationWorkflowType,
  customerEventSignal,
  customerMessageSignal,
  deliveryStatusSignal,
  parseConversationId,
  releaseSignal,
} from '../workflows/conversation/messages';
import { accountIdKey } from '../workflows/conversation/search-attributes';
import { policyPropagationWorkflowId, policyPropagationWorkflowType, policyStoredSignal } from '../workflows/policy/messages';
import type { policyPropagationWorkflow } from '../workflows/policy/workflow';
import { bodyReceivedSignal, webhookInboxWorkflowId, webhookInboxWorkflowType } from '../workflows/webhook-inbox/messages';
import type { webhookInboxWorkflow } from '../workflows/webhook-inbox/workflow';
import type { conversationWorkflow } from '../workflows/conversation/workflow';
import { isWorkflowNotFound } from '../activities/temporal-failures';
import { toApiError } from './errors';
import type { Metrics } from './metrics';

/**
 * The API's one way to Temporal (api/DESIGN.md). Every signal, update and signal-with-start the API
 * sends a conversation goes through `ConversationGateway`, and so does every other workflow the API
 * starts (campaign sends, broadcasts): one place sets the deadline and records the latency
 * (`temporalCall`), and one place stamps the account's policy version on every input to a conversation.
 * Route files and use cases never hold a workflow handle.
 */

/** Runs a Temporal call with a deadline, timing it by outcome: a stuck cluster answers 503, not a hung request. */
export function createTemporalCall(temporal: Client, metrics: Metrics, timeoutMs: number): TemporalCall {
  return async (operation, fn) => {
    const stop = metrics.temporalDuration.startTimer({ operation });
    try {
      const result = await temporal.connection.withDeadline(Date.now() + timeoutMs, fn);
      stop({ outcome: 'ok' });
      return result;
    } catch (error) {
      stop({ outcome: toApiError(error).code });
      throw error;
    }
  };
}

/** A customer's leaving or satisfaction answer, as `customerEventSignal` carries it. */
export type CustomerEvent = { type: 'left' } | { type: 'csat'; score: number };

export interface ConversationGateway {
  /** Delivers a customer message, starting the conversation if needed (signal-with-start); answers its id. */
  customerMessage(ref: ConversationRef, message: CustomerMessagePayload): Promise<string>;
  /** Tells a conversation about a delivery receipt; false when no conversation runs with this id. */
  deliveryStatus(conversationId: string, receipt: DeliveryStatusPayload): Promise<boolean>;
  customerEvent(conversationId: string, event: CustomerEvent): Promise<void>;
  /** An agent disconnected or came back (seed 004's reconnect timeout). */
  agentPresence(conversationId: string, presence: { userId: string; online: boolean }): Promise<void>;
  /** The agent became unavailable: the conversation goes back if it is still theirs. */
  release(conversationId: string, release: { userId: string; reason: string }): Promise<void>;
  /**
   * A new policy version was stored: starts the account's propagation workflow, or tells the running
   * one (signal-with-start), and answers its workflow id without waiting for it.
   */
  policyStored(accountId: string, version: number): Promise<string>;
  /**
   * A WhatsApp webhook body was kept (`inbound_bodies/{bodyId}`): starts the account's inbox workflow,
   * or tells the running one (signal-with-start), which fans it out after the answer.
   */
  webhookBodyReceived(accountId: string, bodyId: string): Promise<void>;
  /** An agent action as a Workflow Update; `updateId` makes a retry land once. */
  act<A extends ActionBase>(conversationId: string, operation: string, update: UpdateDefinition<ActionResult, [A]>, args: A, updateId: string): Promise<ActionResult>;
  /** Starts a campaign send once (`sendId`: campaignSendWorkflowId): the same id again starts nothing. */
  startCampaignSend(sendId: string, message: OutboundMessage): Promise<void>;
  /** Starts a broadcast once: the same id again starts nothing, whatever its input says. */
  startBroadcast(input: BroadcastInput): Promise<void>;
  /** Whether the broadcast's workflow exists (it may not have written its summary yet). */
  broadcastExists(accountId: string, broadcastId: string): Promise<boolean>;
  /**
   * SPEC 10: marks a customer's message read at the provider, or shows "typing…" there. False when
   * nothing was started: the message was marked read before, or an indicator went out less than 20 s ago.
   */
  startProviderRead(input: ProviderReadInput): Promise<boolean>;
}

export interface GatewayOptions {
  temporal: Client;
  taskQueue: string;
  call: TemporalCall;
  /** The account's stored policy version (api/policy-version-cache.ts), stamped on every input. */
  policyVersionOf: (accountId: string) => Promise<number | undefined>;
}

/** An input with the policy version the sender knows: a newer one than the conversation's makes it reload. */
type Stamped<T> = T & { policyVersion?: number };

export function createConversationGateway({ temporal, taskQueue, call, policyVersionOf }: GatewayOptions): ConversationGateway {
  // Conversation ids name their account (`conv:{accountId}:...`), so every input can be stamped from its id alone.
  const stamp = async <T extends object>(conversationId: string, input: T): Promise<Stamped<T>> => {
    const accountId = parseConversationId(conversationId)?.accountId;
    return { ...input, policyVersion: accountId === undefined ? undefined : await policyVersionOf(accountId) };
  };
  const signal = async <A extends object>(operation: string, conversationId: string, def: SignalDefinition<[A]>, arg: A): Promise<void> => {
    const stamped: A = await stamp(conversationId, arg);
    await call(operation, () => temporal.workflow.getHandle(conversationId).signal(def, stamped));
  };
  const startOnce = async (start: () => Promise<unknown>): Promise<void> => {
    try {
      await start();
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  };

  return {
    async customerMessage(ref, unstamped) {
      const workflowId = conversationWorkflowId(ref);
      const message = await stamp(workflowId, unstamped);
      await call('signalWithStart', () =>
        temporal.workflow.signalWithStart<typeof conversationWorkflow, [CustomerMessagePayload]>(conversationWorkflowType, {
          workflowId,
          taskQueue,
          args: [ref],
          signal: customerMessageSignal,
          signalArgs: [message],
          typedSearchAttributes: [{ key: accountIdKey, value: ref.accountId }],
          // Shown in the Temporal UI's list and header; the live state is in the workflow's current details.
          staticSummary: `Conversation with ${ref.customer} on ${ref.channel} (account ${ref.accountId})`,
        }),
      );
      return workflowId;
    },
    async deliveryStatus(conversationId, receipt) {
      try {
        await signal('deliveryStatus', conversationId, deliveryStatusSignal, receipt);
        return true;
      } catch (error) {
        if (isWorkflowNotFound(error)) return false;
        throw error;
      }
    },
    customerEvent: (conversationId, event) => signal('customerEvent', conversationId, customerEventSignal, event),
    agentPresence: (conversationId, presence) => signal('agentPresence', conversationId, agentPresenceSignal, presence),
    release: (conversationId, release) => signal('release', conversationId, releaseSignal, release),
    async policyStored(accountId, version) {
      const workflowId = policyPropagationWorkflowId(accountId);
      await call('policyStored', () =>
        temporal.workflow.signalWithStart<typeof policyPropagationWorkflow, [{ version: number }]>(policyPropagationWorkflowType, {
          workflowId,
          taskQueue,
          args: [{ accountId, version }],
          signal: policyStoredSignal,
          signalArgs: [{ version }],
          staticSummary: `Policy propagation for account ${accountId}: tells its conversations that are not closed`,
        }),
      );
      return workflowId;
    },
    async webhookBodyReceived(accountId, bodyId) {
      await call('webhookBody', () =>
        temporal.workflow.signalWithStart<typeof webhookInboxWorkflow, [{ bodyId: string }]>(webhookInboxWorkflowType, {
          workflowId: webhookInboxWorkflowId(accountId),
          taskQueue,
          args: [{ accountId }],
          signal: bodyReceivedSignal,
          signalArgs: [{ bodyId }],
          staticSummary: `WhatsApp webhook bodies of account ${accountId}, fanned out to their conversations in the order received`,
        }),
      );
    },
    async act(conversationId, operation, update, unstamped, updateId) {
      const args = await stamp(conversationId, unstamped);
      return call(operation, () => temporal.workflow.getHandle(conversationId).executeUpdate(update, { args: [args], updateId }));
    },
    startCampaignSend: (sendId, message) =>
      call('campaignSend', () =>
        startOnce(() =>
          temporal.workflow.start<typeof campaignSendWorkflow>(campaignSendWorkflowType, { workflowId: sendId, taskQueue, args: [message], workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
        ),
      ),
    startBroadcast: (input) =>
      call('broadcast', () =>
        startOnce(() =>
          temporal.workflow.start<typeof broadcastWorkflow>(broadcastWorkflowType, {
            workflowId: broadcastWorkflowId(input.accountId, input.broadcastId),
            taskQueue,
            args: [input],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          }),
        ),
      ),
    async startProviderRead(input) {
      const workflowId = input.typing ? typingWorkflowId(input.conversationId) : providerReadWorkflowId(input.conversationId, input.providerMessageId);
      try {
        await call(input.typing ? 'typing' : 'providerRead', () =>
          temporal.workflow.start<typeof providerReadWorkflow>(providerReadWorkflowType, {
            workflowId,
            taskQueue,
            args: [input],
            // Typing: a new indicator once the last one's workflow is over (ids.ts); a read: once per message.
            workflowIdReusePolicy: input.typing ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
        throw error;
      }
    },
    async broadcastExists(accountId, broadcastId) {
      try {
        await call('broadcastDescribe', () => temporal.workflow.getHandle(broadcastWorkflowId(accountId, broadcastId)).describe());
        return true;
      } catch (error) {
        if (isWorkflowNotFound(error)) return false;
        throw error;
      }
    },
  };
}
