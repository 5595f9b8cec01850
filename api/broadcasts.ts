import { randomUUID } from 'node:crypto';
import { mapLimit } from '../infra/map-limit';
import type { BroadcastDoc, ConversationDoc } from '../store/collections';
import { broadcastDocId, broadcastOutcomesDocId } from '../store/collections';
import { conversationIdsWithStatus } from '../store/conversation-views';
import type { Actor } from '../workflows/conversation/core/lifecycle';
import type { TemplateRef } from '../workflows/conversation/core/model';
import type { BroadcastInput, RecipientOutcome } from '../workflows/broadcast/messages';
import { maxBroadcastRecipients } from '../workflows/broadcast/messages';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';

/**
 * Broadcasts (seed 002; issue 11, item 6). Every broadcast is a `broadcastWorkflow` (workflows/broadcast)
 * named by the account and its `broadcastId`: the request starts it, and a retry with the same id finds
 * it (or its summary) and starts nothing. A broadcast of up to `answerInlineUpTo` recipients is answered
 * when it is done, as before: 200 with `sent` and `skipped`. A larger one, or one that takes longer than
 * `inlineWaitMs`, is answered 202 with what is known so far; `GET .../broadcasts/{broadcastId}` follows it.
 */
const answerInlineUpTo = 1_000;
const inlineWaitMs = 10_000;

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
export async function broadcastView(deps: ApiDeps, accountId: string, broadcastId: string): Promise<BroadcastView | null> {
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
  const ids = await conversationIdsWithStatus(deps.collections, accountId, status, maxBroadcastRecipients + 1);
  if (ids.length > maxBroadcastRecipients) {
    throw new ApiError({ code: 'validation_failed', message: `status: more than ${maxBroadcastRecipients} conversations are ${status}; send conversationIds in parts` });
  }
  return ids;
}

async function waitUntilDone(deps: ApiDeps, accountId: string, broadcastId: string): Promise<void> {
  const until = Date.now() + inlineWaitMs;
  while (Date.now() < until) {
    const summary = await deps.collections.broadcasts.findOne({ _id: broadcastDocId(accountId, broadcastId) }, { projection: { status: 1 } });
    if (summary?.status === 'done') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface BroadcastRequest {
  broadcastId?: string | undefined;
  conversationIds?: string[] | undefined;
  status?: ConversationDoc['status'] | undefined;
  template: TemplateRef;
  priority: boolean;
}

/**
 * Starts the broadcast unless it was started before, then waits for it while it is small: answers what
 * is known when it is done or the wait is over.
 */
export async function sendBroadcast(deps: ApiDeps, accountId: string, actor: Actor, body: BroadcastRequest): Promise<BroadcastView> {
  const broadcastId = body.broadcastId ?? randomUUID();
  // A broadcast whose summary exists was started before (its workflow may be gone past retention):
  // never start it again.
  let total = (await deps.collections.broadcasts.findOne({ _id: broadcastDocId(accountId, broadcastId) }, { projection: { total: 1 } }))?.total;
  if (total === undefined) {
    const conversationIds = body.conversationIds ? [...new Set(body.conversationIds)] : await recipientsWithStatus(deps, accountId, body.status!);
    total = conversationIds.length;
    const input: BroadcastInput = { accountId, broadcastId, actor, template: body.template, priority: body.priority, conversationIds };
    // The same broadcastId again: that broadcast answers, whatever this request's body says.
    await deps.conversations.startBroadcast(input);
  }
  if (total <= answerInlineUpTo) await waitUntilDone(deps, accountId, broadcastId);
  return (await broadcastView(deps, accountId, broadcastId)) ?? justStarted(broadcastId, total);
}

/** A broadcast's progress: its summary and outcomes, or "just started" while its workflow has written none. */
export async function broadcastProgress(deps: ApiDeps, accountId: string, broadcastId: string): Promise<BroadcastView> {
  const view = await broadcastView(deps, accountId, broadcastId);
  if (view) return view;
  if (!(await deps.conversations.broadcastExists(accountId, broadcastId))) throw notFound('broadcast');
  return justStarted(broadcastId, null);
}
