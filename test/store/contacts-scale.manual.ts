import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { MongoClient } from 'mongodb';
import { listContacts } from '../../api/contacts';
import type { ApiDeps } from '../../api/deps';
import { collections, ensureIndexes } from '../../store/collections';
import { recordContactMessages } from '../../store/contact-profiles';
import { testServers } from '../support/test-servers';

/**
 * A measure, not a test (run by hand: `npx jest --testMatch '**\/contacts-scale.manual.ts' test/store/contacts-scale.manual.ts`):
 * `GET .../contacts?q=` as the API runs it (api/contacts.ts) on the embedded FerretDB, with CONTACTS contacts
 * of one account (default 20,000; seeded through `recordContactMessages`, as `persist` writes them), for a phone prefix, a common name prefix, two name words and a rare name.
 * Prints p50 and p99 of 100 pages each (limit 25).
 */
const count = Number(process.env.CONTACTS ?? 20_000);
const first = ['Ana', 'Bruno', 'Carla', 'Daniel', 'Eduarda', 'Felipe', 'Gabriela', 'Hugo', 'Isabel', 'João', 'Larissa', 'Marcos', 'Natália', 'Otávio', 'Paula', 'Rafael'];
const last = ['Silva', 'Souza', 'Oliveira', 'Santos', 'Pereira', 'Lima', 'Carvalho', 'Ferreira', 'Rodrigues', 'Almeida', 'Costa', 'Gomes', 'Martins', 'Araújo', 'Melo', 'Barbosa', 'Ribeiro'];

test(`contact search pages over ${count} contacts`, async () => {
  const client = await MongoClient.connect(testServers().mongoUri);
  const db = client.db(`contacts_scale_${randomUUID().slice(0, 8)}`);
  try {
    await ensureIndexes(db);
    const c = collections(db).contactProfiles;
    // Through the function `persist` calls (a claimed revision, its copy and name words), 16 at a time.
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) {
          const i = next++;
          const customer = `55${String(11_900_000_000 + i * 7919)}`;
          const name = i === 4242 ? 'Zuleika Quintanilha' : `${first[i % first.length]} ${last[(i * 7) % last.length]}`;
          await recordContactMessages(c, { accountId: 'acc', channel: 'wa', customer }, name, [{ at: 1_000 + i, attributes: { plan: i % 3 === 0 ? 'gold' : 'basic' } }]);
        }
      }),
    );
    const seedSeconds = (performance.now() - started) / 1000;
    const deps = { collections: collections(db) } as unknown as ApiDeps;
    const measure = async (q: string) => {
      const times: number[] = [];
      let items = 0;
      for (let i = 0; i < 100; i++) {
        const started = performance.now();
        const page = await listContacts(deps, 'acc', { q, limit: 25 });
        times.push(performance.now() - started);
        items = page.items.length;
      }
      times.sort((a, b) => a - b);
      return { q, items, p50: times[49]!.toFixed(1), p99: times[98]!.toFixed(1) };
    };
    const results = [await measure('5511'), await measure('an'), await measure('silva ana'), await measure('zuleika')];
    console.log(JSON.stringify({ contacts: count, seedSeconds: Math.round(seedSeconds), load: os.loadavg(), results }, null, 1));
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}, 1_800_000);
