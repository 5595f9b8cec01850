import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Collection, Document } from 'mongodb';
import { MongoClient } from 'mongodb';
import { episodeDoc } from '../../store/episodes';
import { episodeDocId } from '../../store/ids';
import { chunkEntries, packEntryOf, parseChunk } from '../../workflows/conversation/core/episode-packs';
import { seededRow } from '../support/episode-seed';
import { testServers } from '../support/test-servers';

/**
 * A measure, not a test (run by hand:
 * `ROWS=5000 npx jest --testMatch '**\/episodes-shape.manual.ts' test/store/episodes-shape.manual.ts`):
 * what reading an episode row costs on the embedded FerretDB in three shapes, each read the way the
 * API reads it (sorted, limited pages of 1,000 from `{ accountId, startedAt, _id }`, or chunks by `_id`):
 * (a) the row's fields as fields (the shape before store/episodes.ts went compact),
 * (b) compact: the filtered fields as fields, the row and the fold state as two JSON strings,
 * (c) packs: the summary's entries of many rows in a few strings (store/episode-packs.ts).
 * Prints microseconds per row of three reads of each, and the load average.
 */
const rows = Number(process.env.ROWS ?? 5_000);
type AnyDoc = Document & { _id: string };

test(`episode row shapes, ${rows} rows`, async () => {
  const client = await MongoClient.connect(testServers().mongoUri);
  const db = client.db(`episode_shapes_${randomUUID().slice(0, 8)}`);
  try {
    const accountId = 'acct-shape';
    const seeded = Array.from({ length: rows }, (_, i) => seededRow(accountId, i));
    const legacy = db.collection<AnyDoc>('legacy');
    const compact = db.collection<AnyDoc>('compact');
    const packs = db.collection<AnyDoc>('packs');
    for (const c of [legacy, compact]) await c.createIndex({ accountId: 1, startedAt: 1, _id: 1 }, { name: 'account_started' });
    for (let start = 0; start < rows; start += 1_000) {
      const part = seeded.slice(start, start + 1_000);
      await legacy.insertMany(part.map((r) => ({ ...r, _id: episodeDocId(r.conversationId, r.episode), version: 1, updatedAt: new Date(), assigneeIds: [...new Set(r.assignees.map((s) => s.userId))] })));
      await compact.insertMany(part.map((r) => episodeDoc(r, 1)));
    }
    const chunks = chunkEntries(
      seeded.map((r) => packEntryOf(`${r.channel}:${r.customer}/${r.episode}`, r)),
      4_000_000,
    );
    await packs.insertMany(chunks.map((entries, n) => ({ _id: `p/${n}`, entries })));

    const readPages = async (c: Collection<AnyDoc>, projection?: Document) => {
      let after = '';
      let n = 0;
      for (;;) {
        const page = await c
          .find({ accountId, startedAt: { $gte: after === '' ? '0' : after } }, projection ? { projection } : {})
          .sort({ startedAt: 1, _id: 1 })
          .limit(1_001)
          .toArray();
        n += Math.min(page.length, 1_000);
        if (page.length <= 1_000) return n;
        after = page[1_000]!.startedAt as string;
      }
    };
    const readPacks = async () => {
      const docs = await Promise.all(chunks.map((_, n) => packs.findOne({ _id: `p/${n}` })));
      return docs.reduce((sum, d) => sum + parseChunk(d!.entries as string).length, 0);
    };
    const measure = async (what: string, read: () => Promise<number>) => {
      const perRow: string[] = [];
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        const n = await read();
        expect(n).toBe(rows);
        perRow.push((((performance.now() - t) * 1000) / rows).toFixed(1));
      }
      return { what, microsecondsPerRow: perRow };
    };
    const load = os.loadavg().map((x) => x.toFixed(2));
    const results = [
      await measure('(a) fields', () => readPages(legacy)),
      await measure('(b) compact, without the fold state', () => readPages(compact, { state: 0 })),
      await measure('(b) compact, whole document', () => readPages(compact)),
      await measure('(c) packs', readPacks),
    ];
    console.log(JSON.stringify({ rows, chunks: chunks.length, chunkChars: chunks.map((c) => c.length), loadBefore: load, loadAfter: os.loadavg().map((x) => x.toFixed(2)), results }, null, 1));
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}, 900_000);
