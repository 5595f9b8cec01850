import type { Collections, OutboundDoc } from '../store/collections';
import { isDuplicateKeyError } from '../store/collections';

/**
 * Where outbound messages go. The default provider records each send in MongoDB (`outbound`), keyed
 * so that a retried send is recorded once; a WhatsApp Cloud API provider implements the same interface.
 */
export interface ChannelProvider {
  send(message: Omit<OutboundDoc, 'createdAt'>): Promise<void>;
}

export function createRecordingChannelProvider(c: Pick<Collections, 'outbound'>, clock: () => Date = () => new Date()): ChannelProvider {
  return {
    async send(message) {
      try {
        await c.outbound.updateOne({ _id: message._id }, { $setOnInsert: { ...message, createdAt: clock() } }, { upsert: true });
      } catch (error) {
        // A concurrent attempt recorded it first: recorded once, as intended.
        if (!isDuplicateKeyError(error)) throw error;
      }
    },
  };
}
