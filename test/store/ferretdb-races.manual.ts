import { isDuplicateKeyError } from '../../store/collections';
import { testServers } from '../support/test-servers';
import type { RacingClients } from './racing-clients';
import { race, racingClients } from './racing-clients';

// By hand only (a race that may or may not happen cannot be asserted):
//   flock /tmp/convoflow-bench.lock npx jest --testMatch '**/ferretdb-races.manual.ts' test/store/ferretdb-races.manual.ts
// Counts, over TRIALS trials of RACERS clients on separate connections, how often FerretDB 1.24 breaks
// what MongoDB guarantees for one document. store/DESIGN.md quotes the figures.
const TRIALS = Number(process.env.TRIALS ?? 100);
const RACERS = Number(process.env.RACERS ?? 4);

describe('FerretDB under racing clients: what does not hold (measured by hand)', () => {
  let clients: RacingClients;
  beforeAll(async () => {
    clients = await racingClients(testServers().mongoUri, RACERS, 'races');
  });
  afterAll(async () => {
    await clients?.close();
  });
  const col = (i: number, name: string) => clients.dbs[i]!.collection<{ _id: string; [k: string]: unknown }>(name);
  const report = (line: string) => process.stdout.write(`${line}\n`);

  test('measure', async () => {
    let guardTrialsWithSeveralWinners = 0;
    let lostIncrements = 0;
    let lostSets = 0;
    let upsertCollisions = 0;
    for (let t = 0; t < TRIALS; t++) {
      // 1. The compare-and-set guard `{ _id, version: { $lt: n } }`: MongoDB lets exactly one through.
      await col(0, 'guard').insertOne({ _id: `g${t}`, version: 0 });
      const guarded = await race(Array.from({ length: RACERS }, (_, i) => () => col(i, 'guard').updateOne({ _id: `g${t}`, version: { $lt: 1 } }, { $set: { version: 1, by: i } })));
      if (guarded.filter((r) => r.status === 'fulfilled' && r.value.modifiedCount === 1).length > 1) guardTrialsWithSeveralWinners++;

      // 2. `$inc` by `_id`: MongoDB loses none.
      const counter = (i: number) => clients.dbs[i]!.collection<{ _id: string; n: number }>('counter');
      await counter(0).insertOne({ _id: `c${t}`, n: 0 });
      await race(Array.from({ length: RACERS }, (_, i) => () => counter(i).updateOne({ _id: `c${t}` }, { $inc: { n: 1 } })));
      lostIncrements += RACERS - (await counter(0).findOne({ _id: `c${t}` }))!.n;

      // 3. `$set` of *different* fields of one document by `_id`: MongoDB keeps both.
      await col(0, 'fields').insertOne({ _id: `f${t}` });
      await race(Array.from({ length: RACERS }, (_, i) => () => col(i, 'fields').updateOne({ _id: `f${t}` }, { $set: { [`field${i}`]: true } })));
      const doc = await col(0, 'fields').findOne({ _id: `f${t}` });
      lostSets += Array.from({ length: RACERS }, (_, i) => doc?.[`field${i}`] === true).filter((kept) => !kept).length;

      // 4. Upserts of a missing document: MongoDB retries the insert half; FerretDB answers 11000.
      const upserts = await race(Array.from({ length: RACERS }, (_, i) => () => col(i, 'upserts').updateOne({ _id: `u${t}` }, { $set: { by: i } }, { upsert: true })));
      upsertCollisions += upserts.filter((r) => r.status === 'rejected' && isDuplicateKeyError(r.reason)).length;
    }
    report(`FerretDB, ${RACERS} racing clients, ${TRIALS} trials:`);
    report(`  guard { _id, version: { $lt: n } }: more than one winner in ${guardTrialsWithSeveralWinners} of ${TRIALS} trials`);
    report(`  $inc by _id: ${lostIncrements} of ${RACERS * TRIALS} increments lost`);
    report(`  $set of different fields by _id: ${lostSets} of ${RACERS * TRIALS} fields lost`);
    report(`  upsert of a missing _id: ${upsertCollisions} of ${RACERS * TRIALS} upserts failed with 11000`);
  });
});
