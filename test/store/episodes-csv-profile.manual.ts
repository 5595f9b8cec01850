import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { MongoClient } from 'mongodb';
import { collections, ensureIndexes } from '../../store/collections';
import { allEpisodes, episodeDoc, readProjection } from '../../store/episodes';
import { episodeView } from '../../api/reports';
import { csvLine } from '../../workflows/conversation/core/episode-csv';
import { seededRow } from '../support/episode-seed';
import { testServers } from '../support/test-servers';

/**
 * A measure, not a test (`ROWS=20000 npx jest --testMatch '**\/episodes-csv-profile.manual.ts' test/store/episodes-csv-profile.manual.ts`):
 * where the CSV export's time goes, per row: reading the compact rows in sorted pages (as `allEpisodes`),
 * with page sizes 1,000 and 5,000 and a projection of `row` only; then `JSON.parse` + `episodeView` +
 * `csvLine` over the rows read. Prints microseconds per row and the load average.
 */
const rows = Number(process.env.ROWS ?? 20_000);

test(`CSV path profile, ${rows} rows`, async () => {
  const client = await MongoClient.connect(testServers().mongoUri);
  const db = client.db(`episode_csv_${randomUUID().slice(0, 8)}`);
  try {
    await ensureIndexes(db);
    const c = collections(db);
    const accountId = 'acct-csv';
    for (let start = 0; start < rows; start += 1_000) {
      await c.episodes.insertMany(Array.from({ length: Math.min(1_000, rows - start) }, (_, k) => episodeDoc(seededRow(accountId, start + k), 1)));
    }
    const filter = { accountId, from: '2020-01-01T00:00:00.000Z', to: '2030-01-01T00:00:00.000Z' };
    const loadBefore = os.loadavg().map((x) => x.toFixed(2));
    const per = (ms: number) => ((ms * 1000) / rows).toFixed(1);
    const read = async (pageSize: number, projection: Record<string, 0 | 1>) => {
      const t = performance.now();
      const docs = [];
      for await (const d of allEpisodes(c.episodes, filter, pageSize, projection)) docs.push(d);
      expect(docs.length).toBe(rows);
      return { ms: performance.now() - t, docs };
    };
    const out: Record<string, string[]> = {};
    let docs: Awaited<ReturnType<typeof read>>['docs'] = [];
    for (const [name, size, proj] of [
      ['read, pages of 1000, readProjection', 1000, readProjection],
      ['read, pages of 5000, readProjection', 5000, readProjection],
      ['read, pages of 1000, row only', 1000, { _id: 1, startedAt: 1, row: 1 }],
    ] as const) {
      out[name] = [];
      for (let k = 0; k < 2; k++) {
        const r = await read(size, proj);
        out[name]!.push(per(r.ms));
        docs = r.docs;
      }
    }
    out['parse + episodeView + csvLine'] = [];
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      let bytes = 0;
      for (const d of docs) bytes += csvLine(episodeView(d)).length;
      out['parse + episodeView + csvLine']!.push(per(performance.now() - t));
      expect(bytes).toBeGreaterThan(0);
    }
    console.log(JSON.stringify({ rows, loadBefore, loadAfter: os.loadavg().map((x) => x.toFixed(2)), microsecondsPerRow: out }, null, 1));
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}, 600_000);
