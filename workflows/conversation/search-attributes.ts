import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * The search attributes every conversation workflow keeps current (SPEC section 5), so operators can
 * run `temporal workflow list --query "ConversationStatus='assigned'"`. The dev server must have them
 * registered before a workflow upserts them: infra registers exactly this list.
 */
export const conversationStatusKey = defineSearchAttributeKey('ConversationStatus', 'KEYWORD');
export const assigneeIdKey = defineSearchAttributeKey('AssigneeId', 'KEYWORD');
export const accountIdKey = defineSearchAttributeKey('AccountId', 'KEYWORD');

export const conversationSearchAttributes = [conversationStatusKey, assigneeIdKey, accountIdKey] as const;
