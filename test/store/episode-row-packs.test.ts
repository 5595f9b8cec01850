import { randomUUID } from 'node:crypto';
import { episodeView } from '../../api/reports';
import type { Collections } from '../../store/collections';
import { PackBuilder } from '../../store/episode-pack-builder';
import type { MonthExport } from '../../store/episode-row-packs';
import { rangeRowEntries, writeRowPack } from '../../store/episode-row-packs';
import type { EpisodeFilter } from '../../store/episodes';
import { allEpisodes, episodeDoc, readProjection, writeEpisodeRow } from '../../store/episodes';
import { episodePackChunkDocId } from '../../store/ids';
import type { EpisodeRow } from '../../workflows/conversation/core/episode-fold';
import { csvLine } from '../../workflows/conversation/core/episode-csv';
import { seededRow } from '../support/episode-seed';
import { useStoreDatabase } from '../support/store-database';

/**
 * SPEC 11's CSV from row packs (store/episode-row-packs.ts) on the embedded FerretDB: an export read from a
 * month's row pack and the rows written since is byte for byte the export read from the rows, with rows
 * rewritten and added after the pack, every filter and range edges, and when a chunk is deleted mid-read;
 * the background builder (store/episode-pack-builder.ts) packs a month with a long tail, not one with a
 * short tail, and of two builders racing for one month one builds.
 */
describe('row packs and the pack builder', () => {
  const store = useStoreDatabase('episode_row_packs');
  let c: Collections;
  beforeAll(() => (c = store.c));

  const account = () => `acct-${randomUUID().slice(0, 8)}`;
  const write = (row: EpisodeRow, version: number) => writeEpisodeRow(c, episodeDoc(row, version), undefined, 'filter');
  /** Row i of the seed, 10 hours apart from 2026-01-01: 70 rows span January and February. */
  const row = (accountId: string, i: number) => seededRow(accountId, i * 600);
  /** A row whose customer holds CSV's special characters, or sorts differently by UTF-16 and by UTF-8, started at row i's time. */
  const oddRow = (accountId: string, i: number, customer: string): EpisodeRow => {
    const base = row(accountId, i);
    return { ...base, customer, conversationId: `conv:${accountId}:${base.channel}:${customer}` };
  };
  /** The CSV lines read from the rows, as the export read them before row packs. */
  const fromRows = async (f: EpisodeFilter): Promise<string> => {
    let text = '';
    for await (const doc of allEpisodes(c.episodes, f, 1000, readProjection)) text += csvLine(episodeView(doc));
    return text;
  };
  const fromPacks = async (f: EpisodeFilter, reads?: MonthExport[]): Promise<string> => {
    let text = '';
    for await (const batch of rangeRowEntries(c, f, reads)) for (const e of batch) text += e[5];
    return text;
  };
  const options = { marginMs: 0, rowChunkChars: 3_000 };

  test('an export from row packs and the rows written since equals the export from the rows, with every filter and range edge', async () => {
    const accountId = account();
    for (let i = 0; i < 60; i++) await write(row(accountId, i), 1);
    // Two rows at one start whose customers order differently as UTF-16 and as UTF-8, and one that needs CSV quoting.
    await write(oddRow(accountId, 7, '\u{1F600}'), 1);
    await write(oddRow(accountId, 7, '\uE000'), 1);
    await write(oddRow(accountId, 8, 'Ana "A", \nSouza'), 1);
    for (const month of ['2026-01', '2026-02']) expect((await writeRowPack(c, accountId, month, options)).from).toBeNull();
    expect((await c.episodePacks.rowHeaders.findOne({ accountId, month: '2026-01' }))!.chunks).toBeGreaterThan(3);

    // After the packs: rows rewritten (a CSAT answer, a reassignment), rows added between and after the packed ones.
    for (const i of [0, 5, 31, 59]) await write({ ...row(accountId, i), csat: 1 + (i % 5), assignees: [...row(accountId, i).assignees, { userId: 'agent-9', from: '2026-03-01T00:00:00.000Z', to: null, firstReplySeconds: null }] }, 2);
    // seededRow places row i at `start + i` minutes: these start 15 minutes, about 2 days, 28 days and 58 days into January.
    for (const minute of [15, 3_015, 40_000, 84_000]) await write(seededRow(accountId, 90_000 + minute, Date.UTC(2026, 0, 1) - 90_000 * 60_000), 1);
    await write(oddRow(accountId, 7, '\u{1F601}'), 1);

    const whole: EpisodeFilter = { accountId, from: '2026-01-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' };
    const at = (i: number) => row(accountId, i).startedAt;
    const filters: EpisodeFilter[] = [
      whole,
      { ...whole, channel: 'wa-report-b' },
      { ...whole, assignee: 'agent-9' },
      { ...whole, assignee: 'agent-2' },
      { ...whole, team: { team: 'nobody', members: ['agent-1', 'agent-9'] } },
      // Range edges: from a row's exact start (inclusive) to another's (exclusive), inside one month and across two.
      { ...whole, from: at(7), to: at(12) },
      { ...whole, from: at(20), to: at(70) },
      { ...whole, from: at(59), to: at(59) },
      { ...whole, from: '2026-01-31T23:59:59.999Z', to: '2026-02-01T00:00:00.001Z' },
    ];
    for (const f of filters) {
      const reads: MonthExport[] = [];
      const packed = await fromPacks(f, reads);
      expect(packed).toBe(await fromRows(f));
      expect(reads.every((r) => r.pack !== null && !r.fellBack)).toBe(true);
    }
    const reads: MonthExport[] = [];
    expect((await fromPacks(whole, reads)).split('\r\n').length).toBeGreaterThan(60);
    expect(reads.reduce((n, r) => n + r.tailRows, 0)).toBeGreaterThanOrEqual(9); // 4 rewritten, 4 added, 1 odd

    // Built again from the packs and their tails (a merge): the same export, with an empty tail.
    for (const month of ['2026-01', '2026-02']) expect((await writeRowPack(c, accountId, month, options)).from).not.toBeNull();
    expect(await fromPacks(whole)).toBe(await fromRows(whole));
  });

  test('a chunk deleted mid-read: the rest of the month comes from the rows, nothing twice, nothing left out', async () => {
    const accountId = account();
    for (let i = 0; i < 70; i++) await write(row(accountId, i), 1);
    const { packed } = await writeRowPack(c, accountId, '2026-01', options);
    for (const i of [1, 40]) await write({ ...row(accountId, i), csat: 5 }, 2);
    const whole: EpisodeFilter = { accountId, from: '2026-01-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' };
    const reads: MonthExport[] = [];
    const batches = rangeRowEntries(c, whole, reads);
    let text = '';
    const first = await batches.next();
    for (const e of first.value!) text += e[5];
    // The reader holds chunk 0 and may have asked for chunk 1: chunks 2 and on go (a pruner racing it).
    const header = (await c.episodePacks.rowHeaders.findOne({ _id: packed }))!;
    for (let n = 2; n < header.chunks; n++) await c.episodePacks.rowChunks.deleteOne({ _id: episodePackChunkDocId(packed, n) });
    for await (const batch of batches) for (const e of batch) text += e[5];
    expect(text).toBe(await fromRows(whole));
    expect(reads[0]).toMatchObject({ month: '2026-01', pack: packed, fellBack: true });

    // A build from a pack that lost a chunk starts again from the rows.
    const again = await writeRowPack(c, accountId, '2026-01', options);
    expect(again.from).toBeNull();
    expect(await fromPacks(whole)).toBe(await fromRows(whole));
  });

  test('the builder packs a month with a long tail, not one with a short tail; of two builders racing, one builds', async () => {
    const accountId = account();
    const mine = (tick: Awaited<ReturnType<PackBuilder['tick']>>) => tick.built.filter((b) => b.accountId === accountId);
    const builderOptions = { ...options, repackAfter: 10, monthsPerTick: 10_000, buildsPerTick: 10_000, claimMs: 1 };
    const builder = new PackBuilder(c, builderOptions);
    for (let i = 0; i < 30; i++) await write(row(accountId, i), 1);
    // 30 rows of January, none packed: due (at least `repackAfter`).
    const first = mine(await builder.tick());
    expect(first.map((b) => [b.month, b.summary?.packed != null, b.rows?.rows])).toEqual([['2026-01', true, 30]]);
    // Nothing written since: nothing due.
    expect(mine(await builder.tick())).toEqual([]);
    // A short tail (3 rows written again, under 10): nothing due.
    for (let i = 0; i < 3; i++) await write({ ...row(accountId, i), csat: 2 }, 2);
    expect(mine(await builder.tick())).toEqual([]);
    // A long tail: both packs rebuilt, from the packs before (merges), and the export is the rows'.
    for (let i = 3; i < 13; i++) await write({ ...row(accountId, i), csat: 3 }, 2);
    const long = mine(await builder.tick());
    expect(long.map((b) => [b.month, b.summary?.pack != null, b.rows?.from != null, b.rows?.tailRows])).toEqual([['2026-01', true, true, 13]]);
    const whole: EpisodeFilter = { accountId, from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' };
    expect(await fromPacks(whole)).toBe(await fromRows(whole));

    // Two processes' builders find the month due at once: one claims it for the slot and builds.
    for (let i = 0; i < 12; i++) await write({ ...row(accountId, i), csat: 4 }, 3);
    const racing = { ...builderOptions, claimMs: 3_600_000 };
    const ticks = await Promise.all([new PackBuilder(c, racing).tick(), new PackBuilder(c, racing).tick()]);
    expect(ticks.flatMap(mine)).toHaveLength(1);
  });
});
