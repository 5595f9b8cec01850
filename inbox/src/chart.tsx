import type { Series } from './chart-scale';
import { durationWords, lineChartLayout } from './chart-scale';
import type { Attainment, SlaMetric } from './report-data';
import { percentWords, slaMetricLabels, slaMetrics } from './report-data';

/**
 * The reports page's charts, drawn as plain SVG from chart-scale.ts's layout (why no library: the header
 * of chart-scale.ts). Each chart is an `img` with a `<title>` and a `<desc>` that says its figures in
 * words, so a screen reader reads what the eye sees; each point has its own `<title>` (hover text).
 */

const width = 640;
const height = 240;
const box = { left: 52, top: 24, width: width - 52 - 16, height: height - 24 - 34 };
/** Two styles a reader tells apart without colour too: p50 a solid line, p90 a dashed one. */
const seriesStyles = [
  { className: 'line-p50', dash: undefined },
  { className: 'line-p90', dash: '6 4' },
] as const;

/** "12-06" for a YYYY-MM-DD axis label: the year and month are in the range picker. */
const shortDay = (day: string) => day.slice(5);

export function DurationChart({ id, title, days, series }: { id: string; title: string; days: readonly string[]; series: readonly Series[] }) {
  const layout = lineChartLayout(series, days.length, box);
  const { unit } = layout;
  const described = series
    .map((s) => {
      const shown = s.values.map((v, i) => (v === null ? null : `${days[i]} ${durationWords(v)}`)).filter((t): t is string => t !== null);
      return `${s.name}: ${shown.length === 0 ? 'no episodes' : shown.join(', ')}`;
    })
    .join('. ');
  const empty = layout.lines.every((l) => l.points.length === 0);
  return (
    <figure class="chart" data-chart={id}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{`Per day, in ${unit.name}. ${described}.`}</desc>
        <g class="grid" aria-hidden="true">
          {layout.yTicks.map((t) => (
            <g key={`y${t.value}`}>
              <line x1={box.left} x2={box.left + box.width} y1={t.y} y2={t.y} />
              <text x={box.left - 6} y={t.y} dy="0.32em" text-anchor="end">
                {t.value}
              </text>
            </g>
          ))}
          <text class="axis-unit" x={4} y={box.top - 12}>
            {unit.name}
          </text>
          {layout.xTicks.map((t) => (
            <text key={`x${t.index}`} x={t.x} y={box.top + box.height + 18} text-anchor="middle">
              {shortDay(days[t.index] ?? '')}
            </text>
          ))}
        </g>
        {layout.lines.map((line, i) => {
          const style = seriesStyles[i % seriesStyles.length]!;
          return (
            <g key={line.name} class={`series ${style.className}`} data-series={line.name}>
              {line.path && <path d={line.path} fill="none" stroke-dasharray={style.dash} />}
              {line.points.map((p) => (
                <circle key={p.index} cx={p.x} cy={p.y} r={3.5} data-day={days[p.index]}>
                  <title>{`${line.name}, ${days[p.index]}: ${durationWords(p.value)}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
        {empty && (
          <text class="no-data" x={box.left + box.width / 2} y={box.top + box.height / 2} text-anchor="middle">
            No figures in this range
          </text>
        )}
      </svg>
      <figcaption>
        <span class="chart-title">{title}</span>
        <span class="legend">
          {series.map((s, i) => (
            <span key={s.name} class={`key ${seriesStyles[i % seriesStyles.length]!.className}`}>
              <svg width="24" height="10" aria-hidden="true">
                <line x1="0" x2="24" y1="5" y2="5" stroke-dasharray={seriesStyles[i % seriesStyles.length]!.dash} />
              </svg>
              {s.name}
            </span>
          ))}
          <span class="hint">Days without a figure are gaps.</span>
        </span>
      </figcaption>
    </figure>
  );
}

/** SLA attainment per metric: a bar to 100% with the percentage and the counts behind it. */
export function AttainmentBars({ totals }: { totals: Record<SlaMetric, Attainment> }) {
  return (
    <table class="attainment">
      <caption>SLA attainment (met ÷ met and breached; pending and no target left out)</caption>
      <tbody>
        {slaMetrics.map((metric) => {
          const a = totals[metric];
          const label = slaMetricLabels[metric];
          return (
            <tr key={metric} data-metric={metric}>
              <th scope="row">{label}</th>
              <td>
                <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label={`${label}: ${percentWords(a.attainment)}`}>
                  <rect class="bar-track" x="0" y="0" width="100" height="10" />
                  {a.attainment !== null && <rect class="bar-fill" x="0" y="0" width={Math.max(0, Math.min(100, a.attainment * 100))} height="10" />}
                </svg>
              </td>
              <td class="figure">{percentWords(a.attainment)}</td>
              <td class="counts">
                {a.met} met · {a.breached} breached
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
