/**
 * A campaign message (SPEC section 2: outbound, not a reply, never in the inbox) sent durably: the API
 * answers once this workflow is started, and the send then survives worker and server restarts with
 * the same retries and outcomes as a conversation's messages. The outcome is the workflow's result.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { OutboundMessage } from '../../channels/types';
import type { DeliveryActivities } from '../../activities/delivery-activities';
import { deliveryActivityOptions, undeliverable } from '../conversation/delivery-options';
import type { SendOutcome } from '../conversation/core/lifecycle';

const { deliver } = proxyActivities<DeliveryActivities>(deliveryActivityOptions);

export async function campaignSendWorkflow(message: OutboundMessage): Promise<SendOutcome> {
  try {
    return await deliver(message);
  } catch (error) {
    return undeliverable(error);
  }
}
