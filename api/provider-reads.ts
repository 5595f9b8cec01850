import { z } from 'zod';
import type { ConversationDoc } from '../store/collections';
import { findView } from '../store/conversation-views';
import { timelineNewest } from '../store/timeline';
import { findChannel } from '../store/channels';
import { effective } from '../workflows/conversation/core/policy';
import type { MarkRead } from '../workflows/conversation/core/policy-codecs';
import { loadAccount } from './accounts';
import type { Principal } from './auth';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';

/**
 * SPEC 10, "Read and typing": what the customer sees of the business reading and typing. Three ways in:
 * the assignee's reply (`markRead: "on_reply"`, the default), the assignee's read mark while the
 * conversation is open in the inbox (`"on_open"`), and `POST .../typing`. Each ends in a provider-read
 * workflow (workflows/provider-read), which calls WhatsApp with a few short retries; a read or typing
 * request that fails is dropped and logged, and never touches the conversation, its reply or its read
 * mark (api/DESIGN.md, "Read and typing").
 */

/** The provider's id of the customer's latest message, or null before the customer wrote. */
async function latestCustomerMessageId(deps: ApiDeps, conversationId: string): Promise<string | null> {
  const [latest] = await timelineNewest(deps.collections.messages, conversationId, 1, { filter: { direction: 'inbound' }, projection: { messageId: 1 } });
  return latest?.messageId ?? null;
}

async function markReadPolicy(deps: ApiDeps, accountId: string): Promise<MarkRead> {
  return effective((await loadAccount(deps, accountId)).policy).markRead;
}

/** Starts the provider read of the customer's latest message; false when there is none or it was marked before. */
async function readLatest(deps: ApiDeps, conversation: Pick<ConversationDoc, '_id' | 'accountId' | 'channel'>, typing: boolean): Promise<boolean> {
  const providerMessageId = await latestCustomerMessageId(deps, conversation._id);
  if (providerMessageId === null) return false;
  return deps.conversations.startProviderRead({ accountId: conversation.accountId, channel: conversation.channel, conversationId: conversation._id, providerMessageId, typing });
}

/**
 * After the assignee's reply or read mark: marks the customer's latest message read when the policy says
 * so for this moment. Never awaited by the request that caused it, and never throws: a reply is answered
 * whatever becomes of this.
 */
export function markReadAfter(deps: ApiDeps, moment: Exclude<MarkRead, 'never'>, conversationId: string): void {
  const work = async (): Promise<void> => {
    const conversation = await findView(deps.collections, conversationId);
    if (!conversation) return;
    const policy = await markReadPolicy(deps, conversation.accountId);
    // `on_open` marks on opening and on replying both: a reply is read too.
    if (policy === 'never' || (policy === 'on_reply' && moment === 'on_open')) return;
    // Only WhatsApp is told (webhook and recording channels are not): no workflow per reply for the others.
    const channel = await findChannel(deps.collections, conversation.accountId, conversation.channel);
    if (channel?.config.provider !== 'whatsapp_cloud') return;
    await readLatest(deps, conversation, false);
  };
  work().catch((error: unknown) => deps.log.warn({ conversationId, moment, err: error }, 'marking the customer message read failed'));
}

export const typingAnswer = z.object({
  conversationId: z.string(),
  /** False when an indicator went out less than 20 s ago, or the customer has not written yet. */
  sent: z.boolean(),
});
export type TypingAnswer = z.output<typeof typingAnswer>;

/**
 * `POST .../typing`: the assignee shows WhatsApp's typing indicator, at most once every 20 s per
 * conversation (a call within that answers `sent: false`, not an error: the inbox calls while the agent
 * types). WhatsApp's indicator also marks the customer's message read; there is no indicator without it.
 */
export async function typing(deps: ApiDeps, principal: Principal, conversationId: string): Promise<TypingAnswer> {
  if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'typing is shown for users' });
  const conversation = await findView(deps.collections, conversationId);
  if (!conversation) throw notFound('conversation');
  if (conversation.assigneeId !== principal.userId) throw new ApiError({ code: 'not_assignee', message: 'only the assignee shows typing to the customer' });
  return { conversationId, sent: await readLatest(deps, conversation, true) };
}
