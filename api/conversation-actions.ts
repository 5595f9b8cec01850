import { randomUUID } from 'node:crypto';
import type { UpdateDefinition } from '@temporalio/client';
import { userDocId } from '../store/collections';
import type { Actor } from '../workflows/conversation/core/lifecycle';
import type { ActionBase, ActionResult } from '../workflows/conversation/messages';
import { parseConversationId } from '../workflows/conversation/messages';
import type { Principal } from './auth';
import type { ConversationViewAnswer } from './conversation-views';
import { toConversationView } from './conversation-views';
import type { ApiDeps } from './deps';
import { ApiError, notFound, toApiError } from './errors';
import { principalScope } from './idempotency';

/** Agent actions on a conversation (api/DESIGN.md): who acts, on which conversation, and the update that carries it. */

/** The conversation id must name a conversation of the account in the path, or it does not exist here. */
export function conversationOf(params: Record<string, string>): string {
  const id = params.conversationId!;
  if (parseConversationId(id)?.accountId !== params.accountId) throw notFound('conversation');
  return id;
}

export function actorOf(principal: Principal): Actor {
  if (principal.kind === 'service') return { kind: 'service', serviceId: principal.name };
  if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'only users and services act on conversations' });
  return { kind: 'user', userId: principal.userId, role: principal.role };
}

/** What a caller of an action is told: who, how, and with which Idempotency-Key (the update id). */
export interface ActionCaller {
  deps: ApiDeps;
  principal: Principal;
  /** The path's `accountId` and `conversationId`. */
  params: Record<string, string>;
  idempotencyKey: string | undefined;
}

/**
 * Runs an agent action as a Workflow Update through the gateway. The route's Idempotency-Key is kept
 * across runs by `withIdempotency` (mountRoutes); it also becomes the update id, scoped by principal, so
 * two attempts racing within one run (a retry after a lost claim) still act once.
 */
export async function act<A extends ActionBase>(
  caller: ActionCaller,
  operation: string,
  update: UpdateDefinition<ActionResult, [A]>,
  args: A,
): Promise<{ conversation: ConversationViewAnswer; messageId: string | null }> {
  const { deps, principal, idempotencyKey } = caller;
  const conversationId = conversationOf(caller.params);
  const updateId = idempotencyKey ? `${principalScope(principal)}:${idempotencyKey}`.slice(0, 400) : randomUUID();
  try {
    const result = await deps.conversations.act(conversationId, operation, update, args, updateId);
    return { ...result, conversation: toConversationView(result.conversation) };
  } catch (error) {
    // A refused action leaves no trace in the workflow's history (validators reject before it), so
    // the operator's trace is this line: which conversation, what, who, and the rule's code.
    const rejection = toApiError(error);
    if (rejection.status < 500) {
      const who = principal.kind === 'user' ? { userId: principal.userId, role: principal.role } : { principal: principal.kind };
      deps.log.info({ conversationId, action: operation, ...who, code: rejection.code, reason: rejection.message }, 'action rejected');
    }
    throw error;
  }
}

/** An assignee named by an action must be an active user of the account. */
export async function requireActiveUser(deps: ApiDeps, accountId: string, userId: string): Promise<void> {
  const user = await deps.collections.users.findOne({ _id: userDocId(accountId, userId) });
  if (!user || !user.active) throw new ApiError({ code: 'validation_failed', message: `assigneeId: ${userId} is not an active user of the account` });
}
