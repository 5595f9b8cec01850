import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { collections } from '../store/collections';
import { newestAccountPolicy } from '../store/policy-versions';
import { notClosedConversationIds } from '../store/conversation-views';
import { mapLimit } from '../infra/map-limit';
import { policyChangedSignal } from '../workflows/conversation/messages';
import { defaultPolicy } from '../workflows/conversation/core/policy';
import type { PolicyPropagationInput, PolicyPropagationResult } from '../workflows/policy/messages';
import { propagationConcurrency, propagationPageSize } from '../workflows/policy/messages';
import { isWorkflowNotFound } from './temporal-failures';

export interface PolicyActivities {
  /**
   * Signals the account's newest stored policy to every conversation whose view is not closed, page by
   * page in `_id` order. Heartbeats the last `_id` done after each page: a retry resumes after it.
   */
  propagatePolicy(input: PolicyPropagationInput): Promise<PolicyPropagationResult>;
}

/** Heartbeat details: where a retried pass resumes, and how many it had told. */
interface Progress {
  version: number;
  after: string | null;
  signalled: number;
}

export function createPolicyActivities({ db, client, log }: { db: Db; client: Client; log: Logger }): PolicyActivities {
  const c = collections(db);
  return {
    async propagatePolicy({ accountId, version }) {
      const ctx = Context.current();
      const policy = (await newestAccountPolicy(c.accounts, c.policyVersions, accountId)) ?? defaultPolicy;
      const resumed = ctx.info.heartbeatDetails as Progress | undefined;
      const progress: Progress = resumed && resumed.version === policy.version ? resumed : { version: policy.version, after: null, signalled: 0 };
      if (policy.version < version) log.warn({ accountId, version, stored: policy.version }, 'policy propagation asked for a version the store does not have yet; telling the stored one');
      for (;;) {
        const page = await notClosedConversationIds(c, accountId, progress.after, propagationPageSize);
        if (page.length === 0) break;
        await mapLimit(page, propagationConcurrency, async (conversationId) => {
          if (ctx.cancellationSignal.aborted) return;
          try {
            await client.workflow.getHandle(conversationId).signal(policyChangedSignal, policy);
            progress.signalled++;
            ctx.heartbeat(progress); // throttled by the SDK; resumes at the page's start
          } catch (error) {
            // A view whose run has ended (terminated): its next run loads the stored policy.
            if (!isWorkflowNotFound(error)) throw error;
          }
        });
        progress.after = page.at(-1)!;
        ctx.heartbeat(progress);
        // A newer version superseded this pass (the workflow cancelled it; heartbeats deliver that).
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
        if (page.length < propagationPageSize) break;
      }
      return { version: policy.version, signalled: progress.signalled };
    },
  };
}
