import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import { mapLimit } from '../infra/map-limit';
import { broadcastDocId, broadcastOutcomesDocId, collections, insertOnce } from '../store/collections';
import type { BroadcastChunk, BroadcastCounts, BroadcastInput, RecipientOutcome } from '../workflows/broadcast/messages';
import { broadcastUpdateId, broadcastUpdatesPerChunk } from '../workflows/broadcast/messages';
import { broadcastUpdate, parseConversationId } from '../workflows/conversation/messages';
import type { TemporalFailure } from './temporal-failures';
import { classifyTemporalFailure } from './temporal-failures';

export interface BroadcastActivities {
  /** Inserts the broadcast's summary as running (once: a retry finds it there). */
  recordBroadcast(summary: Omit<BroadcastInput, 'conversationIds'> & { total: number; chunkCount: number }): Promise<void>;
  /**
   * Sends the template to one chunk of conversations, at most 16 at a time, and inserts the chunk's
   * outcomes once. A chunk whose outcomes exist answers from them; a retried attempt skips the
   * conversations its previous attempt reported in heartbeats, and the deterministic update id makes the
   * rest land once per conversation run. An unreachable Temporal throws (retried); every other
   * rejection is that conversation's outcome, never the broadcast's.
   */
  broadcastChunk(chunk: BroadcastChunk): Promise<BroadcastCounts>;
  /** Marks the summary done with its counts. */
  finishBroadcast(result: { accountId: string; broadcastId: string } & BroadcastCounts): Promise<void>;
}

export interface BroadcastActivityDeps {
  db: Db;
  /** A client on the worker's connection, for the conversations' updates. */
  client: Client;
  /** How long one conversation's update may take before the chunk is retried. */
  updateTimeoutMs?: number;
}

const countsOf = (outcomes: RecipientOutcome[]): BroadcastCounts => ({
  sent: outcomes.filter((o) => o.outcome === 'sent').length,
  skipped: outcomes.filter((o) => o.outcome === 'skipped').length,
});

/**
 * A conversation's refusal as its outcome (the reason is the code the API would answer), or undefined
 * when the failure is Temporal's and the chunk must be retried.
 */
function skippedBecause(failure: TemporalFailure | undefined): { reason: string; message: string } | undefined {
  if (failure === undefined) return { reason: 'internal', message: 'internal error' };
  switch (failure.kind) {
    case 'rejected':
      return { reason: failure.type, message: failure.message };
    case 'not_found':
      return { reason: 'not_found', message: 'conversation not found' };
    case 'misconfigured':
    case 'unavailable':
    case 'update_in_doubt':
      return undefined;
    default:
      return failure satisfies never;
  }
}

export function createBroadcastActivities({ db, client, updateTimeoutMs = 30_000 }: BroadcastActivityDeps): BroadcastActivities {
  const c = collections(db);

  const sendTo = async (chunk: BroadcastChunk, conversationId: string): Promise<RecipientOutcome> => {
    // Another account's conversation does not exist here, as in the API.
    if (parseConversationId(conversationId)?.accountId !== chunk.accountId) {
      return { conversationId, outcome: 'skipped', reason: 'not_found', message: 'conversation not found' };
    }
    try {
      const handle = client.workflow.getHandle(conversationId);
      const result = await client.connection.withDeadline(Date.now() + updateTimeoutMs, () =>
        handle.executeUpdate(broadcastUpdate, {
          args: [{ actor: chunk.actor, template: chunk.template, priority: chunk.priority }],
          updateId: broadcastUpdateId(chunk.broadcastId),
        }),
      );
      return { conversationId, outcome: 'sent', messageId: result.messageId };
    } catch (error) {
      const skipped = skippedBecause(classifyTemporalFailure(error));
      // Temporal away, or the conversation did not answer in time: retry the chunk, sending nothing twice.
      if (!skipped) throw error;
      return { conversationId, outcome: 'skipped', ...skipped };
    }
  };

  return {
    async recordBroadcast(summary) {
      await insertOnce(c.broadcasts, [
        {
          _id: broadcastDocId(summary.accountId, summary.broadcastId),
          accountId: summary.accountId,
          broadcastId: summary.broadcastId,
          template: summary.template,
          priority: summary.priority,
          actor: summary.actor,
          total: summary.total,
          chunkCount: summary.chunkCount,
          status: 'running',
          sent: null,
          skipped: null,
          createdAt: new Date(),
          finishedAt: null,
        },
      ]);
    },

    async broadcastChunk(chunk) {
      const _id = broadcastOutcomesDocId(chunk.accountId, chunk.broadcastId, chunk.index);
      const done = await c.broadcastOutcomes.findOne({ _id });
      if (done) return countsOf(done.outcomes);

      const ctx = Context.current();
      const earlier = new Map<string, RecipientOutcome>();
      for (const o of (ctx.info.heartbeatDetails as RecipientOutcome[] | undefined) ?? []) earlier.set(o.conversationId, o);
      const reported: RecipientOutcome[] = [...earlier.values()];
      const outcomes = await mapLimit(chunk.conversationIds, broadcastUpdatesPerChunk, async (conversationId) => {
        const known = earlier.get(conversationId);
        if (known) return known;
        const outcome = await sendTo(chunk, conversationId);
        reported.push(outcome);
        ctx.heartbeat(reported);
        return outcome;
      });
      await insertOnce(c.broadcastOutcomes, [{ _id, accountId: chunk.accountId, broadcastId: chunk.broadcastId, index: chunk.index, outcomes, createdAt: new Date() }]);
      return countsOf(outcomes);
    },

    async finishBroadcast(result) {
      await c.broadcasts.updateOne(
        { _id: broadcastDocId(result.accountId, result.broadcastId) },
        { $set: { status: 'done', sent: result.sent, skipped: result.skipped, finishedAt: new Date() } },
      );
    },
  };
}
