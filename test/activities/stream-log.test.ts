import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { StreamAppender, pruneStream, readHead, streamCollections, streamEntryId } from '../../store/stream-log';
import type { StreamEntry } from '../../store/stream-log';
import { testServers } from '../support/test-servers';

/**
 * The stream's log against FerretDB: numbers claimed by insert-once stay dense under writers of
 * several processes at once, so readers can read `seq + 1` by `_id`; pruning removes only old entries.
 */
describe('the stream log', () => {
  let mongo: MongoClient;
  let db: Db;
  beforeAll(async () => {
    mongo = await MongoClient.connect(testServers().mongoUri);
    db = mongo.db(`stream_${randomUUID().slice(0, 8)}`);
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await mongo?.close();
  });

  const entry = (conversationId: string, at = new Date()): StreamEntry => ({
    conversationId,
    at,
    conversation: { id: conversationId } as StreamEntry['conversation'],
    messages: [],
    deliveries: [],
    events: [],
  });

  test('three processes appending at once claim 1..N with no hole and no number twice', async () => {
    const c = streamCollections(db);
    const processes = [new StreamAppender(c), new StreamAppender(c), new StreamAppender(c)];
    // Bursts from each process, so groups of several entries collide with other processes' groups.
    const seqs: number[] = [];
    for (let round = 0; round < 5; round++) {
      seqs.push(...(await Promise.all(Array.from({ length: 60 }, (_, i) => processes[i % 3]!.append('dense', entry(`conv-${round}-${i}`))))));
    }
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const docs = await c.entries.find({ accountId: 'dense' }).toArray();
    expect(docs.map((d) => d._id).sort()).toEqual(Array.from({ length: 300 }, (_, i) => streamEntryId('dense', i + 1)).sort());
    // Within one process, entries keep the order they were appended in.
    const byConversation = new Map(docs.map((d) => ['conversationId' in d ? d.conversationId : d._id, d.seq]));
    for (let round = 0; round < 5; round++) {
      const mine = Array.from({ length: 20 }, (_, k) => byConversation.get(`conv-${round}-${k * 3}`)!);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    // The head is written after the entries are answered; once every append has settled it is there.
    await Promise.all(processes.map((p) => p.settled()));
    expect(await readHead(c, 'dense')).toBeGreaterThan(0);
  });

  test('an append given an old head hint still claims the next free number, past every collision', async () => {
    const c = streamCollections(db);
    const other = new StreamAppender(c);
    for (let i = 0; i < 40; i++) await other.append('hinted', entry(`other-${i}`));
    await other.settled();
    // A process that read the head before the other one wrote all of that, and never appended here.
    const late = new StreamAppender(c);
    const seqs = await Promise.all([late.append('hinted', entry('late-1'), 0), late.append('hinted', entry('late-2'), 3)]);
    expect(seqs).toEqual([41, 42]);
    expect(await late.append('hinted', entry('late-3'), await late.readHint('hinted'))).toBe(43);
    await late.settled();
    expect(await readHead(c, 'hinted')).toBe(43);
    expect(await c.entries.countDocuments({ accountId: 'hinted' })).toBe(43);
  });

  test('pruning deletes entries older than the cut-off, oldest first, and keeps the newest', async () => {
    const c = streamCollections(db);
    const appender = new StreamAppender(c);
    const old = new Date(Date.now() - 72 * 3600_000);
    for (let i = 0; i < 5; i++) await appender.append('pruned', entry(`old-${i}`, old));
    for (let i = 0; i < 3; i++) await appender.append('pruned', entry(`new-${i}`));
    expect(await pruneStream(c, 'pruned', new Date(Date.now() - 48 * 3600_000))).toBe(5);
    const left = await c.entries.find({ accountId: 'pruned' }).toArray();
    expect(left.map((d) => d.seq).sort()).toEqual([6, 7, 8]);
    // A writer that knew only an old number still appends after the newest, never into a pruned one.
    expect(await new StreamAppender(c).append('pruned', entry('later'))).toBe(9);
    expect(await pruneStream(c, 'pruned', new Date(Date.now() - 48 * 3600_000))).toBe(0);
  });

  test("an entry the database refuses fails alone: the other conversations' entries claimed with it are written, with no hole", async () => {
    const c = streamCollections(db);
    const appender = new StreamAppender(c);
    // A key the store refuses (issue 24 item 5), as a batch carried it before the field limits.
    const refused: StreamEntry = { ...entry('refused'), messages: [{ attributes: { 'utm.source': 'ad' } } as unknown as StreamEntry['messages'][number]] };
    const first = appender.append('isolated', entry('first'));
    // Appended while the first is written: these three are one group, one insert.
    const group = [appender.append('isolated', entry('before')), appender.append('isolated', refused), appender.append('isolated', entry('after'))];
    const outcomes = await Promise.allSettled([first, ...group]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))).toEqual([1, 2, 3]);
    // The refused entry's number went to the next one: the log stays dense.
    expect(await appender.append('isolated', entry('later'))).toBe(4);
    const docs = await c.entries.find({ accountId: 'isolated' }).sort({ seq: 1 }).toArray();
    expect(docs.map((d) => ('conversationId' in d ? d.conversationId : ''))).toEqual(['first', 'before', 'after', 'later']);
  });
});
