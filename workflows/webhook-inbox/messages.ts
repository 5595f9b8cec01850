import { defineSignal } from '@temporalio/workflow';

/**
 * The names the WhatsApp webhook hands its bodies over by (api/whatsapp-webhook.ts, SPEC section 7):
 * the API keeps a body (`inbound_bodies`), then signal-with-starts the account's inbox workflow with
 * its id and answers Meta; the workflow fans the bodies out one after the other, in the order they
 * arrived, so one customer's messages reach their conversation in order across bodies too.
 */
export const webhookInboxWorkflowType = 'webhookInboxWorkflow';

/** One per account: every body of the account goes through the same queue. */
export function webhookInboxWorkflowId(accountId: string): string {
  return `webhook-inbox/${accountId}`;
}

export interface WebhookInboxInput {
  accountId: string;
  /** Bodies received but not yet fanned out, carried across continue-as-new (the first is the one under way). */
  queue?: string[];
  /** Bodies per run before continue-as-new (`bodiesPerRun` unless given: tests and recordings drive it with fewer). */
  bodiesPerRun?: number;
}

/** A body was kept (`inbound_bodies/{bodyId}`): sent by every webhook request that answers 200, redeliveries included. */
export const bodyReceivedSignal = defineSignal<[{ bodyId: string }]>('bodyReceived');

/** How a body's fan-out ended, as its activity answers it (and `inbound_bodies` records it). */
export interface WebhookBodyOutcome {
  /** `skipped`: already done (a redelivery) or not found. */
  state: 'done' | 'skipped';
  messages: number;
  receipts: number;
  unmatchedReceipts: number;
}

/** The bodies one run fans out before it continues as new, so its history stays small. */
export const bodiesPerRun = 200;
