/**
 * SPEC 11's summary (core/episode-summary.ts): nearest-rank percentiles, SLA attainment without
 * pending and none, CSAT, groups (last assignee, team, channel, local day), and the same figures
 * whether rows are added one at a time or in any order.
 */
import fc from 'fast-check';
import type { SummaryRow } from '../../workflows/conversation/core/episode-summary';
import { EpisodeSummary, localDay, nearestRank, summarize } from '../../workflows/conversation/core/episode-summary';

const row = (over: Partial<SummaryRow> = {}): SummaryRow => ({
  startedAt: '2026-03-02T10:00:00.000Z',
  resolvedAt: null,
  firstResponseSeconds: null,
  resolutionSeconds: null,
  sla: { firstResponse: 'none', nextResponse: 'none', resolution: 'none' },
  csat: null,
  channel: 'wa-main',
  team: null,
  assignees: [],
  ...over,
});

describe('episode summary', () => {
  it('takes percentiles by nearest rank: the value at rank ceil(p/100 * n)', () => {
    expect(nearestRank([], 50)).toBeNull();
    expect(nearestRank([7], 90)).toBe(7);
    expect(nearestRank([1, 2, 3, 4], 50)).toBe(2);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
  });

  it('counts episodes started and closed, attainment as met / (met + breached), and CSAT count and average', () => {
    const items = summarize(
      [
        row({ resolvedAt: '2026-03-02T11:00:00.000Z', firstResponseSeconds: 30, resolutionSeconds: 3600, sla: { firstResponse: 'met', nextResponse: 'none', resolution: 'met' }, csat: 5 }),
        row({ firstResponseSeconds: 90, sla: { firstResponse: 'breached', nextResponse: 'pending', resolution: 'pending' }, csat: 2 }),
        row({ sla: { firstResponse: 'pending', nextResponse: 'none', resolution: 'pending' } }),
      ],
      'channel',
      null,
    );
    expect(items).toEqual([
      {
        group: 'wa-main',
        episodesStarted: 3,
        episodesClosed: 1,
        firstResponseSeconds: { p50: 30, p90: 90 },
        resolutionSeconds: { p50: 3600, p90: 3600 },
        sla: {
          firstResponse: { met: 1, breached: 1, attainment: 0.5 },
          nextResponse: { met: 0, breached: 0, attainment: null },
          resolution: { met: 1, breached: 0, attainment: 1 },
        },
        csat: { count: 2, average: 3.5 },
      },
    ]);
  });

  it('groups by the last assignee (null when nobody held it, listed last), by team, and by day in the time zone', () => {
    const rows = [
      row({ assignees: [{ userId: 'ana' }, { userId: 'bo' }] }),
      row({ assignees: [{ userId: 'ana' }], team: 'sales' }),
      row({ startedAt: '2026-03-02T23:30:00.000Z' }),
    ];
    expect(summarize(rows, 'agent', null).map((i) => [i.group, i.episodesStarted])).toEqual([
      ['ana', 1],
      ['bo', 1],
      [null, 1],
    ]);
    expect(summarize(rows, 'team', null).map((i) => i.group)).toEqual(['sales', null]);
    expect(summarize(rows, 'day', null).map((i) => [i.group, i.episodesStarted])).toEqual([['2026-03-02', 3]]);
    // 23:30 UTC is already the next day in Berlin (UTC+1 in March before the change).
    expect(summarize(rows, 'day', 'Europe/Berlin').map((i) => [i.group, i.episodesStarted])).toEqual([
      ['2026-03-02', 2],
      ['2026-03-03', 1],
    ]);
    expect(localDay('2026-03-02T23:30:00.000Z', 'America/New_York')).toBe('2026-03-02');
  });

  it('gives the same items whatever the order rows come in', () => {
    const outcome = fc.constantFrom('met', 'breached', 'pending', 'none' as const);
    const rowArb = fc.record({
      startedAt: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) }).map((ms) => new Date(ms).toISOString()),
      resolvedAt: fc.option(fc.constant('2027-01-01T00:00:00.000Z')),
      firstResponseSeconds: fc.option(fc.integer({ min: 0, max: 100_000 }).map((ms) => ms / 1000)),
      resolutionSeconds: fc.option(fc.integer({ min: 0, max: 100_000 })),
      sla: fc.record({ firstResponse: outcome, nextResponse: outcome, resolution: outcome }),
      csat: fc.option(fc.integer({ min: 1, max: 5 })),
      channel: fc.constantFrom('a', 'b'),
      team: fc.option(fc.constantFrom('sales', 'support')),
      assignees: fc.array(fc.record({ userId: fc.constantFrom('ana', 'bo') }), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), fc.constantFrom('agent', 'team', 'channel', 'day' as const), (rows, groupBy) => {
        const summary = new EpisodeSummary(groupBy, 'Asia/Kolkata');
        for (const r of [...rows].reverse()) summary.add(r as SummaryRow);
        expect(summary.items()).toEqual(summarize(rows as SummaryRow[], groupBy, 'Asia/Kolkata'));
        expect(summary.items().reduce((n, i) => n + i.episodesStarted, 0)).toBe(rows.length);
      }),
    );
  });
});
