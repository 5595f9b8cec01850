import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startFerretDB } from '../dev/local-servers';
import { ensureTool } from '../dev/tools';
import { ensureIndexes } from '../store/collections';
import { summarize } from './load';
import { seededConversation } from './phases/inbox';

/**
 * What the top-N pushdown costs writes (dev/ferretdb-pushdown/README.md: each write evaluates the odd-rows
 * condition of its table's one partial index). Two FerretDBs side by side on fresh data with the project's
 * indexes: ours and an earlier build (`--old=<binary>`, e.g. the `ferretdb-1.24.2-idx` cache folder's).
 * In alternating rounds, each writes conversation views the way the persist activity does on FerretDB
 * (read the version by `_id`, then update by `_id`, or insert a new one), one at a time.
 *
 *   flock /tmp/convoflow-bench.lock npx tsx bench/ferretdb-writes.ts --old=$HOME/.cache/convoflow/tools/ferretdb-1.24.2-idx/ferretdb
 */
async function main(): Promise<void> {
  const old = process.argv.find((a) => a.startsWith('--old='))?.slice('--old='.length);
  if (!old) throw new Error('usage: tsx bench/ferretdb-writes.ts --old=<path to the FerretDB binary to compare with>');
  const builds = { ours: await ensureTool('ferretdb'), old };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convoflow-writes-'));
  const servers = await Promise.all(Object.entries(builds).map(([name, binary]) => startFerretDB({ binary, dataDir: path.join(dir, name) })));
  const clients = await Promise.all(servers.map((s) => MongoClient.connect(s.uri)));
  try {
    const quick = process.argv.includes('--quick'); // a smoke run
    const seeded = quick ? 1_000 : 5_000;
    const rounds = quick ? 1 : 10;
    const perRound = quick ? 10 : 200;
    const collections = await Promise.all(
      clients.map(async (client) => {
        const db = client.db('writes');
        await ensureIndexes(db);
        const c = db.collection<{ _id: string } & Record<string, unknown>>('conversations');
        for (let i = 0; i < seeded; i += 1_000) await c.insertMany(Array.from({ length: 1_000 }, (_, j) => seededConversation('acc', i + j)));
        return c;
      }),
    );
    const times: number[][] = collections.map(() => []);
    for (let round = 0; round < rounds; round++) {
      // Each build goes first in every other round, so neither gains from its place in the round.
      const order = round % 2 === 0 ? [...collections.entries()] : [...collections.entries()].reverse();
      for (const [k, c] of order) {
        for (let w = 0; w < perRound; w++) {
          const i = round * perRound + w;
          // Every other write is a new conversation, the others move an existing one on.
          const fresh = w % 2 === 0;
          const { _id, ...fields } = seededConversation('acc', fresh ? seeded + i : (i * 7919) % seeded);
          const t = performance.now();
          const stored = await c.findOne({ _id }, { projection: { version: 1 } });
          if (stored) await c.updateOne({ _id }, { $set: { ...fields, version: Number(stored.version ?? 0) + 1 } });
          else await c.insertOne({ _id, ...fields });
          times[k]!.push(performance.now() - t);
        }
      }
    }
    const [ours, before] = times.map(summarize);
    console.log(JSON.stringify({ loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100), ours, old: before, ratioP50: ours!.p50 / before!.p50, ratioP99: ours!.p99 / before!.p99 }, null, 2));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
