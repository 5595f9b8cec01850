import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { mapLimit } from '../../infra/map-limit';
import type { BroadcastDoc, ConversationDoc } from '../../store/collections';
import { broadcastDocId, broadcastOutcomesDocId } from '../../store/collections';
import type { broadcastWorkflow } from '../../workflows/broadcast/workflow';
import type { BroadcastInput, RecipientOutcome } from '../../workflows/broadcast/messages';
import { broadcastWorkflowId, broadcastWorkflowType, maxBroadcastRecipients } from '../../workflows/broadcast/messages';
import { supervisors } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import { Answer, defineRoute } from '../route';
import * as s from '../schemas';
import { actorOf } from './conversations';

/**
 * Broadcasts (seed 002; issue 11, item 6). Every broadcast is a `broadcastWorkflow` (workflows/broadcast)
 * named by the account and its `broadcastId`: the request starts it, and a retry with the same id finds
 * it (or its summary) and starts nothing. A broadcast of up to `answerInlineUpTo` recipients is answered
 * when it is done, as before: 200 with `sent` and `skipped`. A larger one, or one that takes longer than
 * `inlineWaitMs`, is answered 202 with what is known so far; `GET .../broadcasts/{broadcastId}` follows it.
 */
const answerInlineUpTo = 1_000;
const inlineWaitMs = 10_000;

const base = '/v1/accounts/{accountId}/broadcasts';

export interface BroadcastView {
  broadcastId: string;
  status: 'running' | 'done';
  total: number | null;
  /** Recipients without an outcome yet. */
  pending: number | null;
  sent: { conversationId: string; messageId: string | null }[];
  skipped: { conversationId: string; reason: string; message: string }[];
  createdAt: string | null;
  finishedAt: string | null;
}

/** The summary and every chunk's outcomes written so far, each read by `_id` (what FerretDB looks up by index). */
async function broadcastView(deps: ApiDeps, accountId: string, broadcastId: string): Promise<BroadcastView | null> {
  const summary = await deps.collections.broadcasts.findOne({ _id: broadcastDocId(accountId, broadcastId) });
  if (!summary) return null;
  const chunks = await mapLimit(Array.from({ length: summary.chunkCount }, (_, i) => i), 8, (i) =>
    deps.collections.broadcastOutcomes.findOne({ _id: broadcastOutcomesDocId(accountId, broadcastId, i) }),
  );
  const outcomes: RecipientOutcome[] = chunks.flatMap((c) => c?.outcomes ?? []);
  return viewOf(summary, outcomes);
}

function viewOf(summary: BroadcastDoc, outcomes: RecipientOutcome[]): BroadcastView {
  const sent: BroadcastView['sent'] = [];
  const skipped: BroadcastView['skipped'] = [];
  for (const o of outcomes) {
    if (o.outcome === 'sent') sent.push({ conversationId: o.conversationId, messageId: o.messageId });
    else skipped.push({ conversationId: o.conversationId, reason: o.reason, message: o.message });
  }
  return {
    broadcastId: summary.broadcastId,
    status: summary.status,
    total: summary.total,
    pending: summary.total - outcomes.length,
    sent,
    skipped,
    createdAt: summary.createdAt.toISOString(),
    finishedAt: summary.finishedAt ? summary.finishedAt.toISOString() : null,
  };
}

/** Started, but its workflow has not written the summary yet. */
const justStarted = (broadcastId: string, total: number | null): BroadcastView => ({
  broadcastId,
  status: 'running',
  total,
  pending: total,
  sent: [],
  skipped: [],
  createdAt: null,
  finishedAt: null,
});

/** Every conversation of the account with this status, up to the limit (more is a 400: narrow the filter). */
async function recipientsWithStatus(deps: ApiDeps, accountId: string, status: ConversationDoc['status']): Promise<string[]> {
  const docs = await deps.collections.conversations
    .find({ accountId, status }, { projection: { _id: 1 } })
    .limit(maxBroadcastRecipients + 1)
    .toArray();
  if (docs.length > maxBroadcastRecipients) {
    throw new ApiError({ code: 'validation_failed', message: `status: more than ${maxBroadcastRecipients} conversations are ${status}; send conversationIds in parts` });
  }
  return docs.map((d) => d._id);
}

async function waitUntilDone(deps: ApiDeps, accountId: string, broadcastId: string): Promise<void> {
  const until = Date.now() + inlineWaitMs;
  while (Date.now() < until) {
    const summary = await deps.collections.broadcasts.findOne({ _id: broadcastDocId(accountId, broadcastId) }, { projection: { status: 1 } });
    if (summary?.status === 'done') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const broadcastRoutes = [
  defineRoute({
    method: 'post',
    path: base,
    summary:
      'Send a template to many conversations (by id, or every one with a status; up to 10,000); only closed ones unless priority (seed 002). ' +
      'Answers 200 with sent and skipped (with reasons) when done, or 202 while it runs; the same broadcastId again sends nothing more',
    allow: ['service', ...supervisors],
    body: s.broadcast,
    handler: async (ctx) => {
      const { deps, body } = ctx;
      const accountId = ctx.params.accountId!;
      const actor = actorOf(ctx.principal);
      const broadcastId = body.broadcastId ?? randomUUID();

      // A broadcast whose summary exists was started before (its workflow may be gone past retention):
      // never start it again.
      let total = (await deps.collections.broadcasts.findOne({ _id: broadcastDocId(accountId, broadcastId) }, { projection: { total: 1 } }))?.total;
      if (total === undefined) {
        const conversationIds = body.conversationIds ? [...new Set(body.conversationIds)] : await recipientsWithStatus(deps, accountId, body.status!);
        total = conversationIds.length;
        const input: BroadcastInput = { accountId, broadcastId, actor, template: body.template, priority: body.priority, conversationIds };
        await deps.temporalCall('broadcast', async () => {
          try {
            await deps.temporal.workflow.start<typeof broadcastWorkflow>(broadcastWorkflowType, {
              workflowId: broadcastWorkflowId(accountId, broadcastId),
              taskQueue: deps.taskQueue,
              args: [input],
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
            });
          } catch (error) {
            // The same broadcastId again: that broadcast answers, whatever this request's body says.
            if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          }
        });
      }
      if (total <= answerInlineUpTo) await waitUntilDone(deps, accountId, broadcastId);
      const view = (await broadcastView(deps, accountId, broadcastId)) ?? justStarted(broadcastId, total);
      return new Answer(view.status === 'done' ? 200 : 202, view);
    },
  }),
  defineRoute({
    method: 'get',
    path: `${base}/{broadcastId}`,
    summary: "A broadcast's progress and each conversation's outcome so far: sent (with the message id) or skipped (with the reason)",
    allow: ['service', ...supervisors],
    handler: async ({ deps, params }) => {
      const accountId = params.accountId!;
      const broadcastId = params.broadcastId!;
      const view = await broadcastView(deps, accountId, broadcastId);
      if (view) return view;
      try {
        await deps.temporalCall('broadcastDescribe', () => deps.temporal.workflow.getHandle(broadcastWorkflowId(accountId, broadcastId)).describe());
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw notFound('broadcast');
        throw error;
      }
      return justStarted(broadcastId, null);
    },
  }),
];
