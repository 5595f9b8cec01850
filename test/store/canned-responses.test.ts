import { searchKeysOf } from '../../api/canned-text';
import type { CannedResponseDoc } from '../../store/canned-responses';
import { cannedResponseId, cannedResponsesCollection, cannedResponsesOf, saveCannedResponse } from '../../store/canned-responses';
import { testServers } from '../support/test-servers';
import type { RacingClients } from './racing-clients';
import { race, racingClients } from './racing-clients';

/** SPEC 10: canned responses saved from racing clients (as several API processes) keep the per-owner cap. */
describe('canned responses under racing writers', () => {
  const racers = 4;
  let clients: RacingClients;
  beforeAll(async () => {
    clients = await racingClients(testServers().mongoUri, racers, 'canned');
  });
  afterAll(async () => {
    await clients?.close();
  });
  const store = (i: number) => ({ cannedResponses: cannedResponsesCollection(clients.dbs[i]!) });
  const doc = (userId: string, shortCode: string, text: string): Omit<CannedResponseDoc, 'createdAt'> => ({
    _id: cannedResponseId('acct', { scope: 'personal', userId }, shortCode),
    accountId: 'acct',
    scope: 'personal',
    ownerId: userId,
    shortCode,
    title: shortCode,
    text,
    search: searchKeysOf({ shortCode, title: shortCode }),
    updatedAt: new Date(),
    updatedBy: userId,
  });

  test('creations racing past the cap never leave the owner over it, and an answer of created means it is kept', async () => {
    const cap = 3;
    for (let trial = 0; trial < 10; trial++) {
      const userId = `u${trial}`;
      const results = await race(Array.from({ length: 6 }, (_, i) => () => saveCannedResponse(store(i % racers), doc(userId, `c${i}`, 'x'), new Date(), cap)));
      const kept = await cannedResponsesOf(store(0), 'acct', { scope: 'personal', userId });
      expect(kept.length).toBeLessThanOrEqual(cap);
      const created = results.flatMap((r, i) => (r.status === 'fulfilled' && r.value.outcome === 'created' ? [`c${i}`] : []));
      expect(kept.map((d) => d.shortCode).sort()).toEqual(created.sort());
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    }
  });

  test('saves of one response racing: one document, holding one of the saves, created when the first was', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const userId = `same${trial}`;
      const results = await race(Array.from({ length: racers }, (_, i) => () => saveCannedResponse(store(i), doc(userId, 'hi', `text ${i}`), new Date(), 100)));
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      const kept = await cannedResponsesOf(store(0), 'acct', { scope: 'personal', userId });
      expect(kept).toHaveLength(1);
      expect(['text 0', 'text 1', 'text 2', 'text 3']).toContain(kept[0]!.text);
    }
  });
});
