import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { MongoClient } from 'mongodb';
import { collections, ensureIndexes } from '../../store/collections';
import { readCounts, recordCountMove, startCounts } from '../../store/conversation-counts';
import { testServers } from '../support/test-servers';

/**
 * A measure, not a test (by hand: `npx jest --testMatch '**\/conversation-counts-tail.manual.ts' test/store/conversation-counts-tail.manual.ts`):
 * what a `conversation-counts` read costs on the embedded FerretDB as the last minute's moves grow (every
 * read reads them: store/DESIGN.md "Conversation counts"): 0, 60, 600 and 3,000 moves in its tail (an
 * account moving 0, 1, 10 and 50 conversations a second).
 */
test('conversation counts with a tail of recent moves', async () => {
  const client = await MongoClient.connect(testServers().mongoUri);
  const db = client.db(`counts_tail_${randomUUID().slice(0, 8)}`);
  try {
    await ensureIndexes(db);
    const c = collections(db).counts;
    const lines: string[] = [];
    for (const moves of [0, 60, 600, 3_000]) {
      const accountId = `tail-${moves}`;
      await startCounts(c, accountId);
      const now = Date.now();
      for (let i = 0; i < moves; i++) {
        await recordCountMove(c, { accountId, conversationId: `conv:${accountId}:wa:${i}` }, { from: null, to: i % 2 ? 'open/' : 'assigned/agent-1', fromVersion: 0, toVersion: 1 }, { notAfter: Number.MAX_SAFE_INTEGER, now: () => new Date(now - 30_000 + i) });
      }
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t = performance.now();
        await readCounts(c, accountId);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      lines.push(`${moves} moves in the tail: p50 ${times[15]!.toFixed(1)} ms, max ${times[29]!.toFixed(1)} ms`);
    }
    console.log(`load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}\n${lines.join('\n')}`);
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}, 600_000);
