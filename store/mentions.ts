import type { Collection, Filter } from 'mongodb';
import type { MessageRecord } from '../workflows/conversation/core/model';
import { mentionDocId } from './ids';

/**
 * Mentions (SPEC 10): one document per user a note mentions, written by the conversation's `persist`
 * with the note itself (insert-once by `_id`, so a retried batch writes nothing twice), read by
 * `GET /v1/accounts/{accountId}/mentions` as the caller's, newest first.
 *
 * Why the `_id` carries the order: FerretDB 1.24 (with the top-N pushdown, dev/ferretdb-pushdown) serves a
 * sorted, limited find from an index whose keys are the filter's string equalities followed by the sort
 * keys, the last `_id`, and treats numbers and dates in a sort key as "odd" rows it reads apart. So the
 * list's one sort key is `_id` itself, `{accountId}/{userId}/{ISO time}/{conversationId}/{messageId}`:
 * within one user's mentions, string order is time order (ISO-8601 in UTC, fixed width), ties broken by
 * the note. The page is `find({ accountId, userId, _id: { $lt: cursor } }).sort({ _id: -1 })` over the
 * index `account_user_newest` `{ accountId, userId, _id: -1 }` (store/collections.ts).
 */
export interface MentionDoc {
  _id: string;
  accountId: string;
  /** The mentioned user. */
  userId: string;
  conversationId: string;
  /** The note's message id on the conversation's timeline. */
  messageId: string;
  /** Who wrote the note. */
  by: string;
  /** When the note was written, epoch ms (the workflow's clock, as the message's `at`). */
  at: number;
  /** The note's text. */
  text: string;
}

/** The mention documents the notes among a batch's messages ask for: one per mentioned user. */
export function mentionDocsOf(accountId: string, conversationId: string, messages: readonly MessageRecord[]): MentionDoc[] {
  return messages.flatMap((m) =>
    m.kind === 'note' && m.mentions && m.authorId
      ? m.mentions.map((userId) => ({
          _id: mentionDocId(accountId, userId, m.at, conversationId, m.messageId),
          accountId,
          userId,
          conversationId,
          messageId: m.messageId,
          by: m.authorId!,
          at: m.at,
          text: m.text ?? '',
        }))
      : [],
  );
}

/** One page of a user's mentions, newest first, after `before` (the last `_id` of the previous page); `limit + 1` to tell whether more follow. */
export function mentionsPage(mentions: Collection<MentionDoc>, accountId: string, userId: string, before: string | undefined, limit: number): Promise<MentionDoc[]> {
  const filter: Filter<MentionDoc> = { accountId, userId, ...(before === undefined ? {} : { _id: { $lt: before } }) };
  return mentions.find(filter).sort({ _id: -1 }).limit(limit + 1).toArray();
}
