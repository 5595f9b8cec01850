/**
 * One flush of decided effects as the `persist` activity writes it: the view derived from the state,
 * and every record the effects ask for, in decision order. Pure, so the activity tests persist the
 * batches the workflow really builds.
 */
import type { PersistBatch } from '../../../activities/conversation-activities';
import type { ConversationState, Effect } from './model';
import type { Policy } from './policy';
import { toView } from './view';

export function toBatch(state: ConversationState, policy: Policy, effects: Effect[]): PersistBatch {
  const batch: Required<Omit<PersistBatch, 'light'>> = { view: toView(state, policy), messages: [], events: [], deliveries: [], routing: [] };
  const conversationId = state.conversationId;
  for (const effect of effects) {
    switch (effect.type) {
      case 'recordMessage':
        batch.messages.push(effect.message);
        break;
      case 'recordEvent':
        batch.events.push(effect.event);
        break;
      case 'send':
        // Sent by the delivery loop from the outbox, once this batch is written.
        break;
      case 'recordDelivery':
        batch.deliveries.push({ messageId: effect.messageId, delivery: effect.delivery });
        break;
      case 'requestRouting':
        batch.routing.push({ type: 'request', request: { conversationId, ...effect.request } });
        break;
      case 'reportAssignment':
        batch.routing.push({ type: 'report', report: { conversationId, assigneeId: effect.assigneeId } });
        break;
      default: {
        // A new effect type must say here how it is written; until it does, this does not compile.
        const unknown: never = effect;
        throw new Error(`no way to persist effect ${JSON.stringify(unknown)}`);
      }
    }
  }
  return batch;
}
