/**
 * What the Temporal Web UI lists and shows about a run: the search attributes (upserted only when they
 * change) and the live description (`describe`, pure, in core/operator-view.ts).
 */
import type { SearchAttributePair } from '@temporalio/common';
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { ConversationState } from './core/model';
import { describe } from './core/operator-view';
import type { Policy } from './core/policy';
import { accountIdKey, assigneeIdKey, conversationStatusKey } from './search-attributes';

type Indexed = { status: string; assigneeId: string | null };

export function searchAttributePairs(state: ConversationState): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: accountIdKey, value: state.accountId },
    { key: conversationStatusKey, value: state.status },
  ];
  if (state.assigneeId !== null) pairs.push({ key: assigneeIdKey, value: state.assigneeId });
  return pairs;
}

export class WebUi {
  /** A carried run inherits its search attributes; a new one sets all three with its first flush. */
  private indexed: Indexed | undefined;

  constructor(carried: ConversationState | undefined) {
    this.indexed = carried ? { status: carried.status, assigneeId: carried.assigneeId } : undefined;
  }

  /** Search attributes when they change, and the description, at every flush. */
  publish(state: ConversationState, policy: Policy, wakeUp: number | null): void {
    const now: Indexed = { status: state.status, assigneeId: state.assigneeId };
    if (this.indexed === undefined) {
      upsertSearchAttributes(searchAttributePairs(state));
    } else if (this.indexed.status !== now.status || this.indexed.assigneeId !== now.assigneeId) {
      upsertSearchAttributes([
        { key: conversationStatusKey, value: now.status },
        { key: assigneeIdKey, value: now.assigneeId },
      ]);
    }
    this.describe(state, policy, wakeUp);
    this.indexed = now;
  }

  describe(state: ConversationState, policy: Policy | undefined, wakeUp?: number | null): void {
    setCurrentDetails(describe(state, policy, wakeUp));
  }
}
