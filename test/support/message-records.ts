import type { MessageRecord } from '../../workflows/conversation/core/model';

/**
 * A customer's text message as the timeline records it (`wamid.{seq}`, no template, content, delivery or
 * attributes), for store tests that write messages and their postings as `persist` does; `more` changes
 * any field (an outbound reply, attributes).
 */
export function textRecord(seq: number, text: string, at: number, more: Partial<MessageRecord> = {}): MessageRecord {
  return {
    seq,
    messageId: `wamid.${seq}`,
    direction: 'inbound',
    kind: 'text',
    text,
    template: null,
    content: null,
    delivery: null,
    authorId: null,
    at,
    sentAt: null,
    episode: 1,
    replyTo: null,
    attributes: null,
    ...more,
  };
}
