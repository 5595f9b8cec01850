import { isDuplicateKeyError } from '../../store/collections';
import { testServers } from '../support/test-servers';
import type { RacingClients } from './racing-clients';
import { race, racingClients } from './racing-clients';

/**
 * What convoflow relies on from the embedded FerretDB 1.24 (store/DESIGN.md, "Writes on the embedded
 * store"), checked with racing clients on separate connections over many trials. Only guarantees are
 * asserted here; what FerretDB does *not* guarantee (a filtered update or `$inc` as one atomic step, a
 * `$set` that leaves other fields alone under a concurrent update) is measured by
 * `npx tsx test/store/ferretdb-races.manual.ts`, because a race that may or may not happen cannot be
 * asserted.
 */
describe('FerretDB under racing clients: what holds', () => {
  const trials = 100;
  const racers = 4;
  let clients: RacingClients;
  beforeAll(async () => {
    clients = await racingClients(testServers().mongoUri, racers, 'facts');
  });
  afterAll(async () => {
    await clients?.close();
  });

  const col = (i: number, name: string) => clients.dbs[i]!.collection<{ _id: string; [k: string]: unknown }>(name);

  test('an insert of an existing `_id` fails with 11000 for all but one of the racing clients', async () => {
    for (let t = 0; t < trials; t++) {
      const results = await race(Array.from({ length: racers }, (_, i) => () => col(i, 'claims').insertOne({ _id: `claim-${t}`, by: i })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(isDuplicateKeyError(r.reason)).toBe(true);
      const stored = await col(0, 'claims').findOne({ _id: `claim-${t}` });
      expect(stored?.by).toBe(results.findIndex((r) => r.status === 'fulfilled'));
    }
  });

  test('an ordered insertMany stops at the first taken `_id`, and what it wrote is the prefix its error index names (the stream log relies on it)', async () => {
    for (let t = 0; t < 50; t++) {
      const docs = (by: number, from: number) => Array.from({ length: 5 }, (_, k) => ({ _id: `run-${t}-${from + k}`, by }));
      const lists = [docs(0, 0), docs(1, 2), docs(2, 1), docs(3, 3)];
      const results = await race(lists.map((list, i) => () => col(i, 'runs').insertMany(list, { ordered: true })));
      const stored = await col(0, 'runs').find({ _id: { $regex: `^run-${t}-` } }).toArray();
      results.forEach((r, i) => {
        const raw = r.status === 'rejected' ? (r.reason as { writeErrors?: { index: number; code: number } | { index: number; code: number }[] }).writeErrors : undefined;
        const first = Array.isArray(raw) ? raw[0] : raw;
        if (r.status === 'rejected') expect(first?.code).toBe(11000);
        const written = r.status === 'fulfilled' ? 5 : first!.index;
        expect(stored.filter((d) => d.by === i).map((d) => d._id).sort()).toEqual(lists[i]!.slice(0, written).map((d) => d._id).sort());
      });
    }
  });

  test('a deleteOne by `_id` reports deletedCount 1 to exactly one of the racing clients (single-use tickets)', async () => {
    for (let t = 0; t < trials; t++) {
      await col(0, 'tickets').insertOne({ _id: `ticket-${t}` });
      const results = await race(Array.from({ length: racers }, (_, i) => () => col(i, 'tickets').deleteOne({ _id: `ticket-${t}` })));
      const counts = results.map((r) => (r.status === 'fulfilled' ? r.value.deletedCount : -1));
      expect(counts.filter((n) => n === 1)).toHaveLength(1);
      expect(counts.filter((n) => n === 0)).toHaveLength(racers - 1);
    }
  });

  test('an update by `_id` racing a delete never brings the document back (a revoked key stays revoked)', async () => {
    for (let t = 0; t < trials; t++) {
      const _id = `key-${t}`;
      await col(0, 'keys').insertOne({ _id, expiresAt: null });
      await race<unknown>([
        () => col(0, 'keys').deleteOne({ _id }),
        ...Array.from({ length: racers - 1 }, (_, i) => () => col(i + 1, 'keys').updateOne({ _id }, { $set: { expiresAt: new Date() } })),
      ]);
      expect(await col(0, 'keys').findOne({ _id })).toBeNull();
    }
  });

  test('a $setOnInsert-only upsert of an existing document writes nothing: a concurrent $set of another field survives', async () => {
    for (let t = 0; t < trials; t++) {
      const _id = `contact-${t}`;
      await col(0, 'contacts').insertOne({ _id, contacted: false });
      await race<unknown>([
        () => col(0, 'contacts').updateOne({ _id }, { $set: { contacted: true } }),
        ...Array.from({ length: racers - 1 }, (_, i) => () => col(i + 1, 'contacts').updateOne({ _id }, { $setOnInsert: { contacted: false } }, { upsert: true })),
      ]);
      expect((await col(0, 'contacts').findOne({ _id }))?.contacted).toBe(true);
    }
  });
});
