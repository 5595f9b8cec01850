/**
 * The CSV's row packs (core/episode-csv.ts): a pack cut into chunks anywhere and merged with a tail in
 * start order gives every row once, the tail's version of a row over the pack's, in the store's order;
 * strings order as the store orders them (UTF-8 bytes); chunks hold every entry once, in order, within
 * their size; the filters read from an entry are the ones read from the row.
 */
import fc from 'fast-check';
import type { RowEntry } from '../../workflows/conversation/core/episode-csv';
import { ChunkBuilder, compareCodePoints, compareStartOrder, csvCell, fieldsMatch, mergeStartOrder, rowMatches, sortTail, tailRest } from '../../workflows/conversation/core/episode-csv';

const iso = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 3) }).map((ms) => new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString());
const key = fc.constantFrom('wa:1/1', 'wa:1/2', 'wa:2/1', 'sms:3/1', 'sms:\u{1F600}/1', 'sms:\uE000/1', 'sms:é/1');
const user = fc.constantFrom('ana', 'bo', 'cy');
const entryFor = (k: string, startedAt: string, version: string): fc.Arbitrary<RowEntry> =>
  fc.tuple(fc.constantFrom('wa', 'sms'), fc.uniqueArray(user, { maxLength: 2 }), fc.uniqueArray(fc.constantFrom('sales', 'vip'), { maxLength: 2 })).map(([channel, assignees, teams]) => [k, startedAt, channel, assignees, teams, `${k},${version}\r\n`]);

/** Rows (one per key, each with a fixed start) and, for some, a newer version: the pack as of its mark, and the tail. */
const packAndTail = fc
  .uniqueArray(fc.tuple(key, iso), { selector: ([k]) => k, minLength: 0, maxLength: 7 })
  .chain((rows) =>
    fc.tuple(
      fc.tuple(...rows.map(([k, at]) => entryFor(k, at, 'old'))),
      fc.tuple(...rows.map(([k, at]) => fc.tuple(fc.boolean(), fc.boolean(), entryFor(k, at, 'new')))),
      fc.integer({ min: 1, max: 4 }),
    ),
  );

describe('row packs', () => {
  test('strings compare as the store compares them: by their UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2_000 },
    );
    expect(compareCodePoints('\u{1F600}', '\uE000')).toBeGreaterThan(0);
    expect('\u{1F600}' < '\uE000').toBe(true);
  });

  test('a pack cut into chunks anywhere, merged with a tail, is every row once, the newest version, in start order', () => {
    fc.assert(
      fc.property(packAndTail, ([old, changes, chunkCount]) => {
        // The pack: rows that existed at the mark (the first flag), in start order, cut into chunks.
        const pack = old.filter((_, i) => changes[i]![0]).sort(compareStartOrder);
        // The tail: rows written since (the second flag), new ones (not in the pack) always.
        const tailByKey = new Map<string, RowEntry>();
        changes.forEach(([inPack, rewritten, e]) => {
          if (!inPack || rewritten) tailByKey.set(e[0], e);
        });
        const tail = sortTail(tailByKey);
        const state = { next: 0 };
        const size = Math.max(1, Math.ceil(pack.length / chunkCount));
        const merged: RowEntry[] = [];
        for (let at = 0; at < pack.length; at += size) merged.push(...mergeStartOrder(pack.slice(at, at + size), tail, new Set(tailByKey.keys()), state));
        merged.push(...tailRest(tail, state));
        // What the rows are now, sorted as the store sorts them.
        const now = changes.map(([inPack, rewritten, e], i) => (!inPack || rewritten ? e : old[i]!)).sort(compareStartOrder);
        expect(merged).toEqual(now);
      }),
      { numRuns: 1_000 },
    );
  });

  test('chunks hold every entry once, in order, within their size unless one entry is larger', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, iso).chain(([k, at]) => entryFor(k, at, 'x')), { maxLength: 40 }), fc.integer({ min: 10, max: 400 }), (entries, maxChars) => {
        const builder = new ChunkBuilder<RowEntry>(maxChars);
        const chunks: string[] = [];
        for (const e of entries) {
          const full = builder.add(e);
          if (full !== null) chunks.push(full);
        }
        const last = builder.finish();
        if (last !== null) chunks.push(last);
        expect(chunks.flatMap((ch) => JSON.parse(ch) as RowEntry[])).toEqual(entries);
        for (const ch of chunks) if ((JSON.parse(ch) as RowEntry[]).length > 1) expect(ch.length).toBeLessThanOrEqual(maxChars);
      }),
    );
  });

  test.each([
    ['inside the range', {}, true],
    ['from is inclusive', { from: '2026-01-02T00:00:00.000Z' }, true],
    ['to is exclusive', { to: '2026-01-02T00:00:00.000Z' }, false],
    ['another channel', { channel: 'sms' }, false],
    ['a stint by the assignee', { assignee: 'bo' }, true],
    ['no stint by the assignee', { assignee: 'cy' }, false],
    ['routed to the team', { team: { team: 'vip', members: [] } }, true],
    ['a stint by a current member', { team: { team: 'sales', members: ['cy', 'ana'] } }, true],
    ['neither routed nor a member', { team: { team: 'sales', members: ['cy'] } }, false],
  ])('an entry is kept as its row is: %s', (_name, f, kept) => {
    const e: RowEntry = ['wa:1/1', '2026-01-02T00:00:00.000Z', 'wa', ['ana', 'bo'], ['vip'], 'line\r\n'];
    const filter = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-03T00:00:00.000Z', ...f };
    expect(rowMatches(e, filter)).toBe(kept);
    expect(fieldsMatch(e[1], e[2], e[3], e[4], filter)).toBe(kept);
  });

  test.each([
    [null, ''],
    [3, '3'],
    ['plain', 'plain'],
    ['a, b', '"a, b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    [{ a: 'x' }, '"{""a"":""x""}"'],
  ])('a CSV cell of %p is %p', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});
