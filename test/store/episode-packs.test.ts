import { randomUUID } from 'node:crypto';
import type { Collections } from '../../store/collections';
import { PackCache, monthEntries } from '../../store/episode-packs';
import type { EpisodeDoc, LegacyEpisodeDoc } from '../../store/episodes';
import { episodeDoc, readEpisodeRows, reportRow, storedEpisode, writeEpisodeRow } from '../../store/episodes';
import { episodeDocId, episodePackChunkDocId } from '../../store/ids';
import type { EpisodeRow } from '../../workflows/conversation/core/episode-fold';
import type { PackEntry } from '../../workflows/conversation/core/episode-packs';
import { monthRange, packEntryOf } from '../../workflows/conversation/core/episode-packs';
import { seededRow } from '../support/episode-seed';
import { useStoreDatabase } from '../support/store-database';

/**
 * SPEC 11's rows and the summary's packs on the embedded FerretDB (store/episodes.ts,
 * store/episode-packs.ts): rows of the older shape are read as they are and rewritten compact; a month's
 * entries, read cold, from a pack and its tail, or after a pack lost a chunk, always equal the entries of
 * the rows as they are; a pack whose header was never written is never read; old packs are pruned.
 */
describe('episode rows and packs', () => {
  const store = useStoreDatabase('episode_packs');
  let c: Collections;
  beforeAll(() => (c = store.c));

  const account = () => `acct-${randomUUID().slice(0, 8)}`;
  const month = '2026-01';
  const legacyDoc = (row: EpisodeRow, version: number): LegacyEpisodeDoc => ({
    ...row,
    _id: episodeDocId(row.conversationId, row.episode),
    version,
    updatedAt: new Date(),
    assigneeIds: [...new Set(row.assignees.map((s) => s.userId))],
  });
  /** The entries of every row of the month, read one by one: what a pack and its tail must equal. */
  const truth = async (accountId: string): Promise<Map<string, PackEntry>> => {
    const docs = await c.episodes.find({ accountId }).toArray();
    const out = new Map<string, PackEntry>();
    const range = monthRange(month);
    for (const doc of docs) {
      const r = reportRow(doc as EpisodeDoc);
      if (r.startedAt < range.from || r.startedAt >= range.to) continue;
      const key = doc._id.slice(`conv:${accountId}:`.length);
      out.set(key, packEntryOf(key, r));
    }
    return out;
  };
  const sorted = (m: Map<string, PackEntry>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
  // As persist writes on MongoDB (an upsert forwards along the version): one call for a new row and an old one.
  const write = (row: EpisodeRow, version: number) => writeEpisodeRow(c, episodeDoc(row, version), undefined, 'filter');

  test('a row of the older shape reads as the row it was, and its next write makes it compact', async () => {
    const accountId = account();
    const row = seededRow(accountId, 1);
    await c.episodes.insertOne(legacyDoc(row, 3));
    const [stored] = [...(await readEpisodeRows(c.episodes, row.conversationId, [1])).values()];
    const { _id, version, assigneeIds, ...asRow } = stored!;
    expect(asRow).toEqual(row);
    expect([version, assigneeIds]).toEqual([3, ['agent-1']]);
    await writeEpisodeRow(c, episodeDoc({ ...row, tags: ['vip'] }, 4), stored, 'read-then-write');
    const raw = await c.episodes.findOne({ _id });
    expect(typeof (raw! as { row?: unknown }).row).toBe('string');
    expect(storedEpisode(raw!)).toMatchObject({ tags: ['vip'], version: 4, fold: row.fold });
  });

  test('a month read cold, then from its pack and the rows written since, equals the rows as they are', async () => {
    const accountId = account();
    // Half the month in the older shape (before compact rows), half compact.
    for (let i = 0; i < 40; i++) {
      const row = seededRow(accountId, i * 600);
      if (i % 2 === 0) await c.episodes.insertOne(legacyDoc(row, 1));
      else await write(row, 1);
    }
    const options = { repackAfter: 10, marginMs: 0 };
    const cold = await monthEntries(c, accountId, month, options);
    expect(cold.read).toMatchObject({ pack: null, tailRows: 40 });
    expect(cold.read.packed).not.toBeNull();
    expect(sorted(cold.entries)).toEqual(sorted(await truth(accountId)));

    // Rows written after the pack (old ones again, new ones) are its tail.
    for (let i = 0; i < 5; i++) await write({ ...seededRow(accountId, i * 600), csat: 5 }, 2);
    for (let i = 40; i < 43; i++) await write(seededRow(accountId, i * 600), 1);
    const warm = await monthEntries(c, accountId, month, options);
    // Eight rows were written since the pack (a row written in the very millisecond of its mark may be read again: harmless).
    expect(warm.read).toMatchObject({ pack: cold.read.packed, packRows: 40, packed: null });
    expect(warm.read.tailRows).toBeGreaterThanOrEqual(8);
    expect(sorted(warm.entries)).toEqual(sorted(await truth(accountId)));
    expect(warm.entries.size).toBe(43);
  });

  test('a pack whose header was never written is not read; a pack that lost a chunk gives way to the one before, or to the rows', async () => {
    const accountId = account();
    for (let i = 0; i < 30; i++) await write(seededRow(accountId, i * 600), 1);
    // No process cache: what is read is the store's (a cached pack would be read whatever its chunks).
    const options = { repackAfter: 5, marginMs: 0, chunkChars: 2_000, cache: null };
    const first = await monthEntries(c, accountId, month, options);
    for (let i = 0; i < 6; i++) await write({ ...seededRow(accountId, i * 600), csat: 3 }, 2);
    const second = await monthEntries(c, accountId, month, options);
    expect(second.read.pack).toBe(first.read.packed);
    const newest = second.read.packed!;
    const header = (await c.episodePacks.headers.findOne({ _id: newest }))!;
    expect(header.chunks).toBeGreaterThan(1);

    // Chunks of a pack whose writer died before its header: nobody reads them.
    await c.episodePacks.chunks.insertOne({ _id: episodePackChunkDocId(`${accountId}/${month}/9999-12-31T00:00:00.000Z/dead`, 0), entries: '[["bogus"]]' });
    const third = await monthEntries(c, accountId, month, { ...options, repackAfter: 1_000 });
    expect(third.read.pack).toBe(newest);
    expect(sorted(third.entries)).toEqual(sorted(await truth(accountId)));

    // The newest pack loses a chunk (a pruner racing this reader): the one before it is read, then its tail.
    await c.episodePacks.chunks.deleteOne({ _id: episodePackChunkDocId(newest, 1) });
    const fourth = await monthEntries(c, accountId, month, { ...options, repackAfter: 1_000 });
    expect(fourth.read.pack).toBe(first.read.packed);
    expect(fourth.read.tailRows).toBeGreaterThanOrEqual(6);
    expect(sorted(fourth.entries)).toEqual(sorted(await truth(accountId)));

    // Both lost a chunk: the month's rows.
    await c.episodePacks.chunks.deleteOne({ _id: episodePackChunkDocId(first.read.packed!, 0) });
    const fifth = await monthEntries(c, accountId, month, { ...options, repackAfter: 1_000 });
    expect(fifth.read).toMatchObject({ pack: null, tailRows: 30 });
    expect(sorted(fifth.entries)).toEqual(sorted(await truth(accountId)));
  });

  test('a new pack prunes all but the newest two, headers and chunks', async () => {
    const accountId = account();
    for (let i = 0; i < 12; i++) await write(seededRow(accountId, i * 600), 1);
    const options = { repackAfter: 1, marginMs: 0, chunkChars: 1_000, keep: 2 };
    const packs: string[] = [];
    for (let round = 0; round < 4; round++) {
      await write({ ...seededRow(accountId, 0), csat: round + 1 }, round + 2);
      packs.push((await monthEntries(c, accountId, month, options)).read.packed!);
    }
    const headers = await c.episodePacks.headers.find({ accountId }).toArray();
    expect(headers.map((h) => h._id).sort()).toEqual(packs.slice(-2).sort());
    const chunks = await c.episodePacks.chunks.find({}).toArray();
    expect(chunks.filter((ch) => packs.slice(0, 2).some((p) => ch._id.startsWith(`${p}/`)))).toEqual([]);
    const last = await monthEntries(c, accountId, month, { ...options, repackAfter: 1_000 });
    expect(sorted(last.entries)).toEqual(sorted(await truth(accountId)));
    expect(last.entries.get(`${seededRow(accountId, 0).channel}:400000000/1`)?.[6]).toBe(4);
  });

  test('a pack kept in the process cache is read from it, and with the rows written since equals the rows even after its chunks are gone', async () => {
    const accountId = account();
    for (let i = 0; i < 20; i++) await write(seededRow(accountId, i * 600), 1);
    const cache = new PackCache(1_000);
    const options = { repackAfter: 5, marginMs: 0, cache };
    const built = await monthEntries(c, accountId, month, options);
    const header = (await c.episodePacks.headers.findOne({ _id: built.read.packed! }))!;
    for (let n = 0; n < header.chunks; n++) await c.episodePacks.chunks.deleteOne({ _id: episodePackChunkDocId(header._id, n) });
    await write({ ...seededRow(accountId, 0), csat: 2 }, 2);
    const read = await monthEntries(c, accountId, month, { ...options, repackAfter: 1_000 });
    expect(read.read).toMatchObject({ pack: header._id, packRows: 20 });
    expect(sorted(read.entries)).toEqual(sorted(await truth(accountId)));
    // The cached copy is the pack, not the pack with a tail merged into it.
    expect(cache.get(header._id)!.get(`${seededRow(accountId, 0).channel}:400000000/1`)?.[6]).toBeNull();
  });

  test('the process cache drops the least recently used packs past its size', () => {
    const cache = new PackCache(5);
    const pack = (n: number) => new Map(Array.from({ length: n }, (_, i) => [`k${i}`, [`k${i}`] as unknown as PackEntry]));
    cache.set('a', pack(2));
    cache.set('b', pack(2));
    expect(cache.get('a')?.size).toBe(2);
    cache.set('c', pack(2));
    expect([cache.get('a')?.size, cache.get('b'), cache.get('c')?.size]).toEqual([2, undefined, 2]);
    cache.set('big', pack(6));
    expect(cache.get('big')).toBeUndefined();
  });
});
