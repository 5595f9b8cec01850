/**
 * The summary's packs (core/episode-packs.ts): an entry gives the summary the row gives and passes the
 * filters the row passes; a pack merged with the rows written since it equals the rows as they are now,
 * wherever the pack was cut; chunks hold every entry once, in order, within their size.
 */
import fc from 'fast-check';
import type { EpisodeRow, SlaOutcome } from '../../workflows/conversation/core/episode-fold';
import type { EntryFilter, PackEntry, PackSource } from '../../workflows/conversation/core/episode-packs';
import { chunkEntries, entryMatches, mergeTail, monthRange, monthsOf, packEntryOf, parseChunk, summaryRowOf } from '../../workflows/conversation/core/episode-packs';
import type { GroupBy, SummaryRow } from '../../workflows/conversation/core/episode-summary';
import { groupBys, summarize } from '../../workflows/conversation/core/episode-summary';

const iso = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 3, 1) }).map((ms) => new Date(ms).toISOString());
const outcome = fc.constantFrom<SlaOutcome>('met', 'breached', 'pending', 'none');
const user = fc.constantFrom('ana', 'bo', 'cy', 'dee');
const seconds = fc.option(fc.integer({ min: 0, max: 100_000 }).map((n) => n / 4), { nil: null });

const row: fc.Arbitrary<PackSource & { key: string }> = fc.record({
  key: fc.constantFrom('wa:1/1', 'wa:1/2', 'wa:2/1', 'sms:3/1', 'sms:4/7', 'wa:5/1'),
  startedAt: iso,
  resolvedAt: fc.option(iso, { nil: null }),
  firstResponseSeconds: seconds,
  resolutionSeconds: seconds,
  sla: fc.record({ firstResponse: outcome, nextResponse: outcome, resolution: outcome }),
  csat: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
  channel: fc.constantFrom('wa', 'sms'),
  team: fc.option(fc.constantFrom('sales', 'support'), { nil: null }),
  teams: fc.uniqueArray(fc.constantFrom('sales', 'support', 'vip'), { maxLength: 3 }),
  assignees: fc.array(user.map((userId) => ({ userId, from: '2026-01-01T00:00:00.000Z', to: null, firstReplySeconds: null })), { maxLength: 4 }),
});

const filter: fc.Arbitrary<EntryFilter> = fc.record({
  from: iso,
  to: iso,
  channel: fc.option(fc.constantFrom('wa', 'sms'), { nil: undefined }),
  assignee: fc.option(user, { nil: undefined }),
  team: fc.option(fc.record({ team: fc.constantFrom('sales', 'support'), members: fc.uniqueArray(user, { maxLength: 2 }) }), { nil: undefined }),
});

/** The store's query, said of a row (store/episodes.ts `filterOf`). */
const rowMatches = (r: PackSource, f: EntryFilter): boolean =>
  r.startedAt >= f.from &&
  r.startedAt < f.to &&
  (f.channel === undefined || r.channel === f.channel) &&
  (f.assignee === undefined || r.assignees.some((s) => s.userId === f.assignee)) &&
  (f.team === undefined || (r.teams ?? []).includes(f.team.team) || r.assignees.some((s) => f.team!.members.includes(s.userId)));

describe('episode packs', () => {
  it('an entry gives the summary its row gives, for every groupBy, and passes the filters its row passes', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), filter, fc.constantFrom<GroupBy>(...groupBys), (rows, f, groupBy) => {
        const kept = rows.filter((r) => rowMatches(r, f));
        const entries = rows.map((r) => packEntryOf(r.key, r)).filter((e) => entryMatches(e, f));
        expect(entries).toHaveLength(kept.length);
        expect(summarize(entries.map(summaryRowOf), groupBy, 'America/Sao_Paulo')).toEqual(summarize(kept as SummaryRow[], groupBy, 'America/Sao_Paulo'));
      }),
    );
  });

  it('a pack cut anywhere in a run of row writes, merged with the writes after the cut, is the rows as they are now', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), fc.nat(), (writes, cutAt) => {
        const cut = cutAt % (writes.length + 1);
        const now = new Map<string, PackEntry>();
        for (const w of writes) now.set(w.key, packEntryOf(w.key, w));
        const pack = new Map<string, PackEntry>();
        for (const w of writes.slice(0, cut)) pack.set(w.key, packEntryOf(w.key, w));
        // Through a pack's storage: chunked, parsed back.
        const stored = new Map(chunkEntries(pack.values(), 200).flatMap(parseChunk).map((e) => [e[0], e] as const));
        const merged = mergeTail(stored, writes.slice(cut).map((w) => packEntryOf(w.key, w)));
        expect(new Map([...merged].sort())).toEqual(new Map([...now].sort()));
      }),
    );
  });

  it('chunks hold every entry once, in order, each within its size unless one entry is longer', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 50 }), fc.integer({ min: 10, max: 2_000 }), (rows, maxChars) => {
        const entries = rows.map((r, i) => packEntryOf(`${r.key}#${i}`, r));
        const chunks = chunkEntries(entries, maxChars);
        expect(chunks.flatMap(parseChunk)).toEqual(entries);
        for (const c of chunks) if (parseChunk(c).length > 1) expect(c.length).toBeLessThanOrEqual(maxChars);
      }),
    );
  });

  it('keeps the last assignee, every assignee once, and SLA outcomes as letters', () => {
    const r: Pick<EpisodeRow, 'assignees'> = { assignees: ['ana', 'bo', 'ana'].map((userId) => ({ userId, from: 'x', to: null, firstReplySeconds: null })) };
    const e = packEntryOf('wa:1/1', {
      startedAt: '2026-01-02T00:00:00.000Z',
      resolvedAt: null,
      firstResponseSeconds: 1.5,
      resolutionSeconds: null,
      sla: { firstResponse: 'met', nextResponse: 'pending', resolution: 'breached' },
      csat: 4,
      channel: 'wa',
      team: null,
      teams: [],
      ...r,
    });
    expect(e).toEqual(['wa:1/1', '2026-01-02T00:00:00.000Z', null, 1.5, null, 'mpb', 4, 'wa', null, 'ana', ['ana', 'bo'], []]);
    expect(summaryRowOf(e)).toMatchObject({ sla: { firstResponse: 'met', nextResponse: 'pending', resolution: 'breached' }, assignees: [{ userId: 'ana' }] });
  });

  it.each<[string, string, string[]]>([
    ['2026-01-05T00:00:00.000Z', '2026-01-06T00:00:00.000Z', ['2026-01']],
    ['2026-01-05T00:00:00.000Z', '2026-02-01T00:00:00.000Z', ['2026-01']],
    ['2026-01-05T00:00:00.000Z', '2026-02-01T00:00:00.001Z', ['2026-01', '2026-02']],
    ['2025-11-30T23:59:59.999Z', '2026-01-01T00:00:00.000Z', ['2025-11', '2025-12']],
    ['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', []],
  ])('the months of [%s, %s) are %j', (from, to, months) => {
    expect(monthsOf(from, to)).toEqual(months);
  });

  it('a month runs from its first instant to the next month\'s', () => {
    expect(monthRange('2026-12')).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
    expect(monthRange('2026-02')).toEqual({ from: '2026-02-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' });
  });
});
