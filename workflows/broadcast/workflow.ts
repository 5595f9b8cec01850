/**
 * A broadcast (issue 11, item 6) as durable work: the API answers once this workflow has started (or,
 * for a small one, once it finished), and the sends then survive API, worker and server restarts.
 *
 * The recipients go out in chunks, each an activity that runs the `broadcast` Workflow Update on its
 * conversations with a deterministic update id per (broadcast, conversation) and writes the chunk's
 * outcomes once. This workflow is the one writer of the broadcast's summary document: it records it
 * before the first chunk and marks it done after the last, so there is never a second writer to race on
 * FerretDB. Progress is the chunks' outcome documents that exist.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BroadcastActivities } from '../../activities/broadcast-activities';
import type { BroadcastCounts, BroadcastInput } from './messages';
import { broadcastChunkLanes, broadcastChunkSize } from './messages';

const { recordBroadcast, finishBroadcast } = proxyActivities<BroadcastActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// A chunk of 250 updates takes seconds; it heartbeats after each conversation so a dead worker is noticed
// within a minute, and a retry skips the conversations the heartbeats already reported. An unreachable
// Temporal or MongoDB is retried until it comes back: the broadcast finishes late, never half-reported.
const { broadcastChunk } = proxyActivities<BroadcastActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export async function broadcastWorkflow(input: BroadcastInput): Promise<BroadcastCounts> {
  const { conversationIds, ...common } = input;
  const chunks: string[][] = [];
  for (let i = 0; i < conversationIds.length; i += broadcastChunkSize) chunks.push(conversationIds.slice(i, i + broadcastChunkSize));

  await recordBroadcast({ ...common, total: conversationIds.length, chunkCount: chunks.length });
  const counts: BroadcastCounts = { sent: 0, skipped: 0 };
  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const index = next++;
      const result = await broadcastChunk({ ...common, index, conversationIds: chunks[index]! });
      counts.sent += result.sent;
      counts.skipped += result.skipped;
    }
  };
  await Promise.all(Array.from({ length: Math.min(broadcastChunkLanes, chunks.length) }, lane));
  await finishBroadcast({ accountId: input.accountId, broadcastId: input.broadcastId, ...counts });
  return counts;
}
