import { createHash, randomUUID } from 'node:crypto';
import type { InboundBodyCollections, InboundBodyDoc } from '../../store/inbound-bodies';
import { keepDoneBodiesMs, markInboundBodyDone, markInboundBodyFailed, purgeDoneBodies } from '../../store/inbound-bodies';
import { useStoreDatabase } from '../support/store-database';

/**
 * WhatsApp webhook bodies are kept a week after their fan-out, then purged a few at a time (our FerretDB
 * has no TTL index): only `done` ones of that account, oldest day first, found by their day rows.
 */
describe('purging done webhook bodies', () => {
  const env = useStoreDatabase('inbound_purge');
  const DAY = 24 * 60 * 60 * 1_000;
  const now = new Date('2026-12-20T12:00:00Z');
  const store = (): InboundBodyCollections => ({ bodies: env.c.inboundBodies, days: env.c.inboundBodyDays });

  async function body(accountId: string, n: number): Promise<string> {
    const _id = `${accountId}/${createHash('sha256').update(`body ${n}`).digest('hex')}`;
    const doc: InboundBodyDoc = { _id, accountId, provider: 'whatsapp_cloud', raw: '{}', routes: [], receivedAt: new Date(now.getTime() - 30 * DAY), state: 'pending' };
    await env.c.inboundBodies.insertOne(doc);
    return _id;
  }
  const done = (id: string, daysAgo: number) => markInboundBodyDone(store(), id, { messages: 1, receipts: 0, unmatchedReceipts: 0 }, new Date(now.getTime() - daysAgo * DAY));
  const left = async (accountId: string) => (await env.c.inboundBodies.find({ accountId }).toArray()).map((b) => b._id).sort();

  test('bodies done more than a week ago go; newer, pending and failed ones stay, and other accounts are untouched', async () => {
    const account = `acct-${randomUUID().slice(0, 8)}`;
    const other = `acct-${randomUUID().slice(0, 8)}`;
    const old = [await body(account, 1), await body(account, 2)];
    await done(old[0]!, 30);
    await done(old[1]!, 8);
    const recent = await body(account, 3);
    await done(recent, 6);
    const pending = await body(account, 4);
    const failed = await body(account, 5);
    await markInboundBodyFailed(env.c.inboundBodies, failed, 'Error: the store was down');
    const elsewhere = await body(other, 6);
    await done(elsewhere, 30);

    expect(await purgeDoneBodies(store(), account, now)).toBe(2);
    expect(await left(account)).toEqual([recent, pending, failed].sort());
    expect(await left(other)).toEqual([elsewhere]);
    // The purged bodies' day rows went with them; the recent one's stays for a later purge.
    expect((await env.c.inboundBodyDays.find({ accountId: account }).toArray()).map((r) => r.bodyId)).toEqual([recent]);
    // A week after the recent one was done, it goes too.
    expect(await purgeDoneBodies(store(), account, new Date(now.getTime() + 2 * DAY))).toBe(1);
    expect(await left(account)).toEqual([pending, failed].sort());
  });

  test('a purge deletes at most `max` bodies, oldest day first, and the next one goes on', async () => {
    const account = `acct-${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      const id = await body(account, 100 + n);
      await done(id, 20 - n); // 20, 19, ... 16 days ago
      ids.push(id);
    }
    expect(await purgeDoneBodies(store(), account, now, 2)).toBe(2);
    expect(await left(account)).toEqual(ids.slice(2).sort());
    expect(await purgeDoneBodies(store(), account, now, 10)).toBe(3);
    expect(await left(account)).toEqual([]);
  });

  test('a body done again later (a replay) keeps until a week after that; its older day row only goes', async () => {
    const account = `acct-${randomUUID().slice(0, 8)}`;
    const id = await body(account, 200);
    await done(id, 20);
    await done(id, 2);
    expect(await purgeDoneBodies(store(), account, now)).toBe(0);
    expect(await left(account)).toEqual([id]);
    expect(await env.c.inboundBodyDays.countDocuments({ accountId: account })).toBe(1);
  });

  test('the week kept is Meta\'s redelivery window', () => {
    expect(keepDoneBodiesMs).toBe(7 * DAY);
  });
});
