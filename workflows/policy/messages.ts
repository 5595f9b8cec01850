import { defineSignal } from '@temporalio/workflow';

/**
 * The names the API starts policy propagation by (SPEC section 12): a policy change is stored by the
 * request, then told to the account's conversations that are not closed by this durable background
 * workflow, one per account, so the request answers at once whatever the number of conversations.
 * Closed conversations follow at their next input, which carries the stored version.
 */
export const policyPropagationWorkflowType = 'policyPropagationWorkflow';

/** One per account: a newer version signalled to the running one supersedes the version it is telling. */
export function policyPropagationWorkflowId(accountId: string): string {
  return `policy-propagation/${accountId}`;
}

export interface PolicyPropagationInput {
  accountId: string;
  /** The stored version to propagate (at least); the activity tells the newest stored one. */
  version: number;
}

/** A newer version was stored: the signal that signal-with-start sends with every change. */
export const policyStoredSignal = defineSignal<[{ version: number }]>('policyStored');

/** What one pass told: the version and how many conversations got it. */
export interface PolicyPropagationResult {
  version: number;
  signalled: number;
}

/** Conversations signalled at once by the propagation activity, and views read per page. */
export const propagationConcurrency = 20;
export const propagationPageSize = 200;
