/**
 * Deduplication of customer messages by provider message id, for ever (SPEC section 12): a message whose
 * id was ever recorded changes nothing, however late it is replayed. Two layers:
 * - the fast path: the state's window of the newest `dedupeWindow` ids (rules-customer.ts), which also
 *   covers messages decided but not yet written;
 * - the durable one: the `messages` collection, whose `_id` (`{conversationId}/{messageId}`, a unique
 *   index) holds every message the conversation recorded. The workflow asks it (one read by `_id` per
 *   id) only for ids this function says the window cannot answer.
 * While the window holds every customer message the conversation ever recorded (fewer than the window's
 * size, counted from the start), an id outside it was never recorded: nothing is asked.
 */
import type { ConversationState } from './model';
import { dedupeWindow } from './model';

/** Whether the window alone cannot tell that `messageId` was never recorded: the store must be asked. */
export function needsStoreCheck(state: ConversationState, messageId: string): boolean {
  const ids = state.recentMessageIds;
  if (ids.includes(messageId)) return false;
  return !windowHoldsEveryId(state);
}

/** True while the window holds every customer message id the conversation recorded. */
export function windowHoldsEveryId(state: ConversationState): boolean {
  const ids = state.recentMessageIds;
  return ids.length < dedupeWindow && state.inboundCountFromStart && state.inboundCount <= ids.length;
}
