import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { MongoClient } from 'mongodb';
import { collections, ensureIndexes } from '../../store/collections';
import { monthEntries } from '../../store/episode-packs';
import { episodeDoc } from '../../store/episodes';
import { episodePackChunkDocId } from '../../store/ids';
import { parseChunk, summaryRowOf } from '../../workflows/conversation/core/episode-packs';
import { EpisodeSummary } from '../../workflows/conversation/core/episode-summary';
import { seededRow } from '../support/episode-seed';
import { testServers } from '../support/test-servers';

/**
 * A measure, not a test (run by hand:
 * `ROWS=100000 npx jest --testMatch '**\/episode-summary-scale.manual.ts' test/store/episode-summary-scale.manual.ts`):
 * where a warm summary's time goes at ROWS rows (default 100,000) on the embedded FerretDB: the months'
 * pack chunks read from the store, their JSON parsed, the summary folded; and `monthEntries` whole.
 */
const rows = Number(process.env.ROWS ?? 100_000);

test(`a warm summary's parts, ${rows} rows`, async () => {
  const client = await MongoClient.connect(testServers().mongoUri);
  const db = client.db(`summary_scale_${randomUUID().slice(0, 8)}`);
  try {
    await ensureIndexes(db);
    const c = collections(db);
    const accountId = 'acct-scale';
    for (let start = 0; start < rows; start += 1_000) {
      await c.episodes.insertMany(Array.from({ length: Math.min(1_000, rows - start) }, (_, k) => episodeDoc(seededRow(accountId, start + k), 1)));
    }
    const months = [...new Set(Array.from({ length: 3 }, (_, m) => `2026-0${m + 1}`))];
    const options = { marginMs: 0 };
    for (const month of months) await monthEntries(c, accountId, month, options);
    const runs: Record<string, string>[] = [];
    for (let k = 0; k < 3; k++) {
      let t = performance.now();
      const texts: string[] = [];
      for (const month of months) {
        const [header] = await c.episodePacks.headers.find({ accountId, month }).sort({ _id: -1 }).limit(1).toArray();
        if (header === undefined) continue;
        const chunks = await Promise.all(Array.from({ length: header.chunks }, (_, n) => c.episodePacks.chunks.findOne({ _id: episodePackChunkDocId(header._id, n) })));
        texts.push(...chunks.map((ch) => ch!.entries));
      }
      const read = performance.now() - t;
      t = performance.now();
      const entries = texts.flatMap(parseChunk);
      const parse = performance.now() - t;
      t = performance.now();
      const summary = new EpisodeSummary('agent', null);
      for (const e of entries) summary.add(summaryRowOf(e));
      summary.items();
      const fold = performance.now() - t;
      t = performance.now();
      for (const month of months) await monthEntries(c, accountId, month, options);
      const whole = performance.now() - t;
      runs.push({ entries: String(entries.length), chars: String(texts.reduce((n, x) => n + x.length, 0)), readMs: read.toFixed(0), parseMs: parse.toFixed(0), foldMs: fold.toFixed(0), monthEntriesMs: whole.toFixed(0) });
    }
    console.log(JSON.stringify({ rows, load: os.loadavg().map((x) => x.toFixed(2)), runs }, null, 1));
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}, 1_800_000);
