import fc from 'fast-check';
import { durationUnit, durationWords, lineChartLayout, linearScale, niceTicks } from '../../inbox/src/chart-scale';
import { contactSearchable, highlightParts, searchable } from '../../inbox/src/highlight';
import type { SummaryItem } from '../../inbox/src/report-data';
import { parsePlace, placeSearch } from '../../inbox/src/url-state';
import { addDays, csvFileName, dayCount, daysOf, percentWords, rangeOf, seriesByDay, totalAttainment } from '../../inbox/src/report-data';

/** SPEC 11 in the inbox, its pure parts: the charts' scales and paths, the reports' ranges and figures, search highlighting. */

const box = { left: 50, top: 10, width: 500, height: 200 };
const tolerance = 0.005; // coordinates are rounded to two decimals
const inside = (p: { x: number; y: number }) =>
  p.x >= box.left - tolerance && p.x <= box.left + box.width + tolerance && p.y >= box.top - tolerance && p.y <= box.top + box.height + tolerance;

const seconds = fc.oneof(fc.constant(null), fc.double({ min: 0, max: 40 * 86_400, noNaN: true }), fc.integer({ min: 0, max: 600 }));
const seriesArb = (count: number) => fc.array(fc.record({ name: fc.constantFrom('p50', 'p90'), values: fc.array(seconds, { minLength: count, maxLength: count }) }), { minLength: 1, maxLength: 3 });

describe('chart scales', () => {
  test('ticks start at 0, are evenly spaced and cover the largest value', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), fc.integer({ min: 1, max: 10 }), (max, count) => {
        const ticks = niceTicks(max, count);
        expect(ticks[0]).toBe(0);
        expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max * (1 - 1e-9));
        const step = ticks[1]! - ticks[0]!;
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBeCloseTo(step, 6);
        // Round steps only: 1, 2, 2.5 or 5 times a power of ten.
        const mantissa = step / 10 ** Math.floor(Math.log10(step));
        expect([1, 2, 2.5, 5, 10].some((m) => Math.abs(m - mantissa) < 1e-6)).toBe(true);
        // Never far more ticks than asked for.
        expect(ticks.length).toBeLessThanOrEqual(2 * count + 2);
      }),
    );
  });

  test.each([
    [0, [0, 1]],
    [5e-324, [0, 1]],
    [4, [0, 1, 2, 3, 4]],
    [7.3, [0, 2, 4, 6, 8]],
    [45, [0, 10, 20, 30, 40, 50]],
  ])('niceTicks(%p) is %p', (max, ticks) => expect(niceTicks(max)).toEqual(ticks));

  test.each([
    [0, 'seconds'],
    [90, 'seconds'],
    [120, 'minutes'],
    [7_199, 'minutes'],
    [7_200, 'hours'],
    [172_800, 'days'],
  ])('an axis up to %p s reads in %s', (max, unit) => expect(durationUnit(max).name).toBe(unit));

  test.each([
    [null, '–'],
    [44.6, '45s'],
    [754, '12m'],
    [3 * 3600, '3h'],
    [3 * 3600 + 5 * 60, '3h 5m'],
    [52 * 3600, '2d 4h'],
  ])('%p seconds read "%s"', (s, words) => expect(durationWords(s)).toBe(words));

  test('a linear scale maps the ends of its domain to the ends of its range; one value maps to the middle', () => {
    const y = linearScale(0, 10, 200, 0);
    expect([y(0), y(5), y(10)]).toEqual([200, 100, 0]);
    expect(linearScale(3, 3, 0, 100)(3)).toBe(50);
  });
});

describe('line chart layout', () => {
  test('every point is inside the plot box, one per value, at its day', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((count) => fc.tuple(fc.constant(count), seriesArb(count))),
        ([count, series]) => {
          const layout = lineChartLayout(series, count, box);
          layout.lines.forEach((line, i) => {
            const present = series[i]!.values.flatMap((v, index) => (v === null ? [] : [index]));
            expect(line.points.map((p) => p.index)).toEqual(present);
            for (const p of line.points) expect(inside(p)).toBe(true);
          });
          for (const t of layout.yTicks) expect(t.y >= box.top - tolerance && t.y <= box.top + box.height + tolerance).toBe(true);
          for (const t of layout.xTicks) expect(t.x >= box.left - tolerance && t.x <= box.left + box.width + tolerance).toBe(true);
        },
      ),
    );
  });

  test('a gap breaks the line: each run of days with values starts a new subpath', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }).chain((count) => fc.tuple(fc.constant(count), seriesArb(count))),
        ([count, series]) => {
          const layout = lineChartLayout(series, count, box);
          layout.lines.forEach((line, i) => {
            const values = series[i]!.values;
            const runs = values.filter((v, j) => v !== null && (j === 0 || values[j - 1] === null)).length;
            expect((line.path.match(/M/g) ?? []).length).toBe(runs);
            expect((line.path.match(/[ML]/g) ?? []).length).toBe(line.points.length);
          });
        },
      ),
    );
  });

  test('the y ticks cover the largest value in the chosen unit, and the top tick is the top of the box', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }).chain((count) => fc.tuple(fc.constant(count), seriesArb(count))),
        ([count, series]) => {
          const layout = lineChartLayout(series, count, box);
          const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
          expect(layout.yTicks.at(-1)!.value * layout.unit.seconds).toBeGreaterThanOrEqual(max * (1 - 1e-9));
          expect(layout.yTicks.at(-1)!.y).toBe(box.top);
          expect(layout.yTicks[0]).toEqual({ value: 0, y: box.top + box.height });
        },
      ),
    );
  });

  test('x labels: at most about ten, always the first and the last day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 366 }), (count) => {
        const { xTicks } = lineChartLayout([{ name: 'p50', values: Array(count).fill(1) }], count, box);
        expect(xTicks[0]!.index).toBe(0);
        expect(xTicks.at(-1)!.index).toBe(count - 1);
        expect(xTicks.length).toBeLessThanOrEqual(11);
        expect(new Set(xTicks.map((t) => t.index)).size).toBe(xTicks.length);
      }),
    );
  });

  test('one day is drawn in the middle, as a point (a path of one move)', () => {
    const layout = lineChartLayout([{ name: 'p50', values: [120] }], 1, box);
    expect(layout.lines[0]!.points).toEqual([{ index: 0, x: 300, y: expect.any(Number), value: 120 }]);
    expect(layout.lines[0]!.path).toMatch(/^M300 [\d.]+$/);
    expect(layout.unit.name).toBe('minutes');
  });
});

const item = (group: string | null, patch: Partial<SummaryItem> = {}): SummaryItem => ({
  group,
  episodesStarted: 1,
  episodesClosed: 0,
  firstResponseSeconds: { p50: 60, p90: 120 },
  resolutionSeconds: { p50: null, p90: null },
  sla: { firstResponse: { met: 1, breached: 0, attainment: 1 }, nextResponse: { met: 0, breached: 0, attainment: null }, resolution: { met: 0, breached: 1, attainment: 0 } },
  csat: { count: 0, average: null },
  ...patch,
});

describe('report ranges and figures', () => {
  const now = Date.parse('2026-12-07T10:00:00Z');

  test('last 7 and 30 days end with today; a custom range spans its days, both counted', () => {
    const week = rangeOf({ kind: 'last', days: 7 }, now);
    expect(week.ok && { fromDay: week.range.fromDay, toDay: week.range.toDay }).toEqual({ fromDay: '2026-12-01', toDay: '2026-12-07' });
    const month = rangeOf({ kind: 'last', days: 30 }, now);
    expect(month.ok && dayCount(month.range.fromDay, month.range.toDay)).toBe(30);
    const custom = rangeOf({ kind: 'custom', fromDay: '2026-11-01', toDay: '2026-11-30' }, now);
    expect(custom.ok && Date.parse(custom.range.to) - Date.parse(custom.range.from)).toBeGreaterThanOrEqual(30 * 86_400_000 - 3_600_000);
  });

  test.each([
    [{ fromDay: '', toDay: '2026-12-01' }, 'from'],
    [{ fromDay: '2026-12-01', toDay: '' }, 'to'],
    [{ fromDay: '2026-12-02', toDay: '2026-12-01' }, 'from'],
    [{ fromDay: '2025-01-01', toDay: '2026-01-02' }, 'to'],
  ])('a custom range %p is refused at %s before anything is sent', (days, field) => {
    const r = rangeOf({ kind: 'custom', ...days }, now);
    expect(r.ok ? null : r.field).toBe(field);
  });

  test('every accepted range is at most 366 days, from before to', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 800 }), fc.integer({ min: -10, max: 400 }), (start, length) => {
        const fromDay = addDays('2025-01-01', start);
        const r = rangeOf({ kind: 'custom', fromDay, toDay: addDays(fromDay, length) }, now);
        expect(r.ok).toBe(length >= 0 && length < 366);
        if (r.ok) expect(Date.parse(r.range.from)).toBeLessThan(Date.parse(r.range.to));
      }),
    );
  });

  test('the days of a range in a zone; a day without an item is a gap', () => {
    expect(daysOf('2026-12-01T00:00:00Z', '2026-12-04T00:00:00Z', 'UTC')).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
    expect(daysOf('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', 'America/Sao_Paulo')).toEqual(['2026-11-30', '2026-12-01']);
    const days = ['2026-12-01', '2026-12-02', '2026-12-03'];
    expect(seriesByDay(days, [item('2026-12-01'), item('2026-12-03', { firstResponseSeconds: { p50: null, p90: 5 } })], (i) => i.firstResponseSeconds.p50)).toEqual([60, null, null]);
  });

  test("the range's SLA attainment sums the groups' met and breached", () => {
    const totals = totalAttainment([item('a'), item('b', { sla: { firstResponse: { met: 2, breached: 1, attainment: 2 / 3 }, nextResponse: { met: 0, breached: 0, attainment: null }, resolution: { met: 0, breached: 0, attainment: null } } })]);
    expect(totals).toEqual({
      firstResponse: { met: 3, breached: 1, attainment: 0.75 },
      nextResponse: { met: 0, breached: 0, attainment: null },
      resolution: { met: 0, breached: 1, attainment: 0 },
    });
    expect([percentWords(0.75), percentWords(0.996), percentWords(1), percentWords(null)]).toEqual(['75%', '99%', '100%', '–']);
  });

  test('the CSV is named by its first and last day', () => expect(csvFileName({ fromDay: '2026-12-01', toDay: '2026-12-07' })).toBe('episodes-2026-12-01-2026-12-07.csv'));
});

describe('search highlighting', () => {
  test.each([
    ['o Pedido não chegou', 'ped cheg', [['o ', false], ['Ped', true], ['ido não ', false], ['cheg', true], ['ou', false]]],
    ['Ação rápida', 'acao', [['Ação', true], [' rápida', false]]],
    ['<b>pedido</b>', 'ped', [['<b>', false], ['ped', true], ['ido</b>', false]]],
    ['nothing here', 'zebra', [['nothing here', false]]],
  ])('%p with q=%p is cut into %p', (snippet, q, parts) => expect(highlightParts(snippet, q).map((p) => [p.text, p.hit])).toEqual(parts));

  test('the parts always join into the snippet, and no marked part is empty', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 20 }), (snippet, q) => {
        const parts = highlightParts(snippet, q);
        expect(parts.map((p) => p.text).join('')).toBe(snippet);
        for (const p of parts.filter((x) => x.hit)) expect(p.text.length).toBeGreaterThan(0);
      }),
    );
  });

  test('queries the API would refuse are not sent', () => {
    expect([searchable('a'), searchable(' a '), searchable('a b'), searchable('ab'), searchable('pedido x')]).toEqual([false, false, false, true, true]);
    expect([contactSearchable('+4'), contactSearchable('+49'), contactSearchable('ana'), contactSearchable('-')]).toEqual([false, true, true, false]);
  });
});

describe('the reports page in the URL', () => {
  test('?view=reports is the reports page, and comes back from its URL', () => {
    const place = parsePlace('?tab=open&view=reports', ['open', 'mine']);
    expect(place).toEqual({ tab: 'open', conversationId: null, view: 'reports' });
    expect(parsePlace(placeSearch(place), ['open', 'mine'])).toEqual(place);
  });
});
