/**
 * The names the API starts provider reads by (SPEC 10, "Read and typing"; the workflow lives beside
 * this file). Ids decide the guarantees, so they are built here and nowhere else.
 */
export const providerReadWorkflowType = 'providerReadWorkflow';

/** How long after a typing indicator went out the next one for the conversation may go. */
export const typingIntervalMs = 20_000;

/** What to tell the provider about a customer's message: read, or read and "typing…". */
export interface ProviderReadInput {
  accountId: string;
  channel: string;
  conversationId: string;
  /** The provider's id of the customer's latest message (WhatsApp's wamid). */
  providerMessageId: string;
  typing: boolean;
}

/**
 * A message is marked read once: one workflow per conversation and message, started with
 * REJECT_DUPLICATE, so the assignee's every reply and every open of the conversation add nothing once it is.
 */
export function providerReadWorkflowId(conversationId: string, providerMessageId: string): string {
  return `read/${conversationId}/${providerMessageId}`;
}

/**
 * One typing workflow per conversation at a time: it sends the indicator, then stays open for
 * `typingIntervalMs`, and a start while it runs is refused (Temporal runs one workflow per id). That is
 * the throttle, shared by every API process with nothing stored of its own.
 */
export function typingWorkflowId(conversationId: string): string {
  return `typing/${conversationId}`;
}
