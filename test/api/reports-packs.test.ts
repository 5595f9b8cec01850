import { collections } from '../../store/collections';
import { PackBuilder } from '../../store/episode-pack-builder';
import { episodeDoc, writeEpisodeRow } from '../../store/episodes';
import type { GroupBy, SummaryRow } from '../../workflows/conversation/core/episode-summary';
import { groupBys, summarize } from '../../workflows/conversation/core/episode-summary';
import { seededRow } from '../support/episode-seed';
import type { Account } from '../support/scenario';
import { useStackWithAccount } from '../support/scenario';
import type { Stack } from '../support/stack';

/**
 * SPEC 11's summary through the API once it reads packs (store/episode-packs.ts): enough rows that the
 * first summary writes a pack, then rows changed and added after it; every summary, for every groupBy
 * and with filters, equals the one recomputed from the rows `GET .../reports/episodes` returns.
 */
describe('the summary over packs', () => {
  const env = useStackWithAccount();
  let stack: Stack;
  let account: Account;
  beforeAll(() => ({ stack, account } = env));

  const from = '2026-01-01T00:00:00.000Z';
  const to = '2026-03-01T00:00:00.000Z';
  const rowsOf = async (query = ''): Promise<Record<string, unknown>[]> => {
    const rows: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/accounts/${account.id}/reports/episodes?from=${from}&to=${to}&limit=1000${query}${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await stack.http.get(path, account.keys.owner);
      expect(res.status).toBe(200);
      rows.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    return rows;
  };
  const summaryOf = async (groupBy: GroupBy, query = '') => {
    const res = await stack.http.get(`/v1/accounts/${account.id}/reports/summary?from=${from}&to=${to}&groupBy=${groupBy}${query}`, account.keys.owner);
    expect(res.status).toBe(200);
    return res.body.items;
  };
  const checkAll = async () => {
    for (const query of ['', '&channel=wa-report-b', '&assignee=agent-2']) {
      const rows = await rowsOf(query);
      for (const groupBy of groupBys) expect(await summaryOf(groupBy, query)).toEqual(summarize(rows as unknown as SummaryRow[], groupBy, null));
    }
  };

  test('equals the recomputation from the rows before and after a pack, with rows changed and added since', async () => {
    const c = collections(stack.db);
    // 1,200 rows 70 minutes apart: January and February, each month over the 500 rows that make a pack
    // (seededRow places row i at `start + i` minutes).
    const start = Date.UTC(2026, 0, 1);
    const row = (i: number, minute = i * 70) => seededRow(account.id, i, start + (minute - i) * 60_000);
    for (let i = 0; i < 1_200; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => writeEpisodeRow(c, episodeDoc(row(i + k), 1), undefined, 'read-then-write')));

    await checkAll();
    const packs = await c.episodePacks.headers.find({ accountId: account.id }).toArray();
    expect([...new Set(packs.map((p) => p.month))].sort()).toEqual(['2026-01', '2026-02']);

    // Changed rows (a CSAT answer, written forwards) and new ones, after the packs.
    for (let i = 0; i < 1_200; i += 97) await writeEpisodeRow(c, episodeDoc({ ...row(i), csat: 1 + (i % 5) }, 2), { version: 1 }, 'read-then-write');
    for (let k = 0; k < 30; k++) await writeEpisodeRow(c, episodeDoc({ ...row(1_200 + k, k * 70 + 35), csat: 4 }, 1), undefined, 'read-then-write');
    await checkAll();
  }, 300_000);

  test('the CSV export read from row packs the background builder made is byte for byte the export read from the rows', async () => {
    // The rows of the test above (1,230 in January and February), read before any row pack, then after the builder's tick.
    const csvOf = async (query: string) => {
      const res = await stack.http.request('GET', `/v1/accounts/${account.id}/reports/episodes?${query}`, { key: account.keys.manager, headers: { accept: 'text/csv' } });
      expect(res.status).toBe(200);
      return res.body as string;
    };
    const whole = `from=${from}&to=${to}`;
    // The whole range, a channel, an assignee, and a range that starts and ends inside the months.
    const queries = [whole, `${whole}&channel=wa-report-b`, `${whole}&assignee=agent-2`, 'from=2026-01-20T10:00:00.000Z&to=2026-02-03T07:00:00.000Z'];
    const before = await Promise.all(queries.map((q) => csvOf(q)));
    expect(before[0]!.split('\r\n').length).toBe(1_230 + 2);
    const c = collections(stack.db);
    const tick = await new PackBuilder(c, { marginMs: 0, monthsPerTick: 10_000, buildsPerTick: 10 }).tick();
    expect(tick.built.filter((b) => b.accountId === account.id && b.rows !== null).map((b) => b.month).sort()).toEqual(['2026-01', '2026-02']);
    expect(await Promise.all(queries.map((q) => csvOf(q)))).toEqual(before);
  }, 300_000);
});
