import type { Actor, TemplateRef } from '../conversation/core/model';

/**
 * The names the API starts broadcasts by and the shapes the broadcast workflow and its activities
 * exchange (the workflow lives beside this file). A broadcast sends one template to many
 * conversations as durable work: one `broadcast` Workflow Update per conversation, in chunks.
 */
export const broadcastWorkflowType = 'broadcastWorkflow';

/** One workflow per account and broadcast id: a retried request with the same id starts nothing new. */
export function broadcastWorkflowId(accountId: string, broadcastId: string): string {
  return `broadcast/${accountId}/${broadcastId}`;
}

/**
 * The update id on each conversation: one per (broadcast, conversation) (the workflow id is the
 * conversation), so a retried chunk never sends twice within a conversation's run.
 */
export function broadcastUpdateId(broadcastId: string): string {
  return `broadcast:${broadcastId}`;
}

/** At most this many recipients per broadcast. */
export const maxBroadcastRecipients = 10_000;
/** Recipients per activity: one outcome document each, well under the payload and document limits. */
export const broadcastChunkSize = 250;
/** Chunks in flight at once, and updates in flight within one chunk: 32 conversations at a time. */
export const broadcastChunkLanes = 2;
export const broadcastUpdatesPerChunk = 16;

export interface BroadcastInput {
  accountId: string;
  broadcastId: string;
  actor: Actor;
  template: TemplateRef;
  priority: boolean;
  conversationIds: string[];
}

export interface BroadcastChunk extends Omit<BroadcastInput, 'conversationIds'> {
  index: number;
  conversationIds: string[];
}

/** One conversation's outcome: sent (with the message id), or skipped with the rejection's code and message. */
export type RecipientOutcome =
  | { conversationId: string; outcome: 'sent'; messageId: string | null }
  | { conversationId: string; outcome: 'skipped'; reason: string; message: string };

export interface BroadcastCounts {
  sent: number;
  skipped: number;
}
