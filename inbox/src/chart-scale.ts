/**
 * The reports page's charts as numbers (SPEC 11): scales, ticks, the duration unit an axis reads in, and
 * each series as SVG path data with gaps where a day has no figure. Pure (no DOM): chart.tsx draws what
 * this answers, and test/unit/inbox-reports.test.ts checks it with tables and properties (every point
 * inside the plot box, ticks that cover the data).
 *
 * Why plain SVG and no charting library: two line charts and a few bars are a few hundred lines; a
 * library would be the page's largest dependency, draw on a canvas (no text for screen readers, blurry
 * in print) or need a DOM to lay out. SVG with `<title>`/`<desc>` is read by screen readers, prints
 * sharp, and this module is testable without a browser.
 */

/** Where the data is drawn inside the SVG: the plot box, in SVG units. */
export interface PlotBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A linear map from [d0, d1] to [r0, r1]; a zero-width domain maps to the middle of the range. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** 1, 2, 2.5 or 5 times a power of ten, the smallest of them at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/**
 * About `count` evenly spaced round ticks from 0 up to at least `max` (a duration axis starts at 0):
 * the first is 0, the last is the first step at or above `max`. A `max` of 0 (or less) gives [0, 1].
 */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const step = niceStep(max / Math.max(1, count));
  // A maximum so small its step underflows (5e-324 / 5 is 0) reads as nothing to show.
  if (!(step > 0) || !Number.isFinite(max / step)) return [0, 1];
  const ticks: number[] = [];
  const n = Math.ceil(max / step - 1e-9);
  for (let i = 0; i <= n; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** The unit a duration axis reads in: the largest whose count of the maximum is at least 2 (seconds below). */
export interface DurationUnit {
  name: 'seconds' | 'minutes' | 'hours' | 'days';
  seconds: number;
}
const durationUnits: DurationUnit[] = [
  { name: 'days', seconds: 86_400 },
  { name: 'hours', seconds: 3_600 },
  { name: 'minutes', seconds: 60 },
  { name: 'seconds', seconds: 1 },
];

export function durationUnit(maxSeconds: number): DurationUnit {
  return durationUnits.find((u) => maxSeconds >= 2 * u.seconds) ?? durationUnits.at(-1)!;
}

/** A duration as a person reads it: "45s", "12m", "3h 5m", "2d 4h"; "–" for none. */
export function durationWords(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d ${h % 24}h`;
}

export interface Series {
  name: string;
  /** One value per x position (day), in seconds; null where there is none (drawn as a gap). */
  values: readonly (number | null)[];
}

export interface LineChartLayout {
  unit: DurationUnit;
  /** Y ticks in the axis unit, with their SVG y. */
  yTicks: { value: number; y: number }[];
  /** X positions of the labels (every day, or every few when they are many), with their SVG x. */
  xTicks: { index: number; x: number }[];
  /** Per series: the path data (`M`/`L`, broken at every gap) and every point that has a value. */
  lines: { name: string; path: string; points: { index: number; x: number; y: number; value: number }[] }[];
}

/** SVG coordinates to two decimals: short path data, and the same text for the same numbers. */
const r2 = (v: number) => Math.round(v * 100) / 100;

/**
 * Lays out a line chart of durations over `count` positions in `box`: the unit from the largest value,
 * y from 0 (bottom) to the last tick (top), x evenly spread (one position: the middle), and at most
 * `maxXLabels` x ticks (always the first and the last).
 */
export function lineChartLayout(series: readonly Series[], count: number, box: PlotBox, maxXLabels = 10): LineChartLayout {
  const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v))));
  const unit = durationUnit(max);
  const ticks = niceTicks(max / unit.seconds);
  const top = ticks.at(-1)!;
  const y = linearScale(0, top, box.top + box.height, box.top);
  const x = linearScale(0, Math.max(0, count - 1), box.left, box.left + box.width);
  const every = Math.max(1, Math.ceil(count / maxXLabels));
  const xTicks: LineChartLayout['xTicks'] = [];
  for (let i = 0; i < count; i += every) xTicks.push({ index: i, x: r2(x(i)) });
  if (count > 1 && xTicks.at(-1)!.index !== count - 1) {
    // The last day is always labelled; the label before it gives way when the two would touch.
    if (count - 1 - xTicks.at(-1)!.index < every / 2) xTicks.pop();
    xTicks.push({ index: count - 1, x: r2(x(count - 1)) });
  }
  const lines = series.map((s) => {
    const points: LineChartLayout['lines'][number]['points'] = [];
    let path = '';
    let drawing = false;
    for (let i = 0; i < count; i++) {
      const v = s.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        drawing = false;
        continue;
      }
      const px = r2(x(i));
      const py = r2(y(Math.min(v / unit.seconds, top)));
      path += `${path ? ' ' : ''}${drawing ? 'L' : 'M'}${px} ${py}`;
      drawing = true;
      points.push({ index: i, x: px, y: py, value: v });
    }
    return { name: s.name, path, points };
  });
  return { unit, yTicks: ticks.map((value) => ({ value, y: r2(y(value)) })), xTicks, lines };
}
