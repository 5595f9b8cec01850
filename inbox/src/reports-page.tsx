import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, User } from './api';
import { ApiFailure } from './api';
import { AttainmentBars, DurationChart } from './chart';
import { durationWords } from './chart-scale';
import type { Range, RangeChoice, Summary } from './report-data';
import { csvFileName, daysOf, percentWords, rangeOf, seriesByDay, slaMetricLabels, slaMetrics, totalAttainment } from './report-data';

/**
 * SPEC 11's reports for supervisors (owners, admins, managers): a range of days, two charts per day
 * (first response and resolution, p50 and p90), the range's SLA attainment, a per-agent table and the
 * episodes as CSV. Every figure is the API's summary (`GET .../reports/summary`), never recomputed
 * here; the CSV is the episodes route's own (`Accept: text/csv`), fetched with the session and saved
 * from a Blob, so no key ever goes into a URL.
 */

type Loaded = { range: Range; byDay: Summary; byAgent: Summary };

export function ReportsPage({ api, accountId, users, onClose }: { api: Api; accountId: string; users: User[]; onClose: () => void }) {
  const path = `/v1/accounts/${encodeURIComponent(accountId)}/reports`;
  const [choice, setChoice] = useState<RangeChoice>({ kind: 'last', days: 7 });
  const [custom, setCustom] = useState<{ fromDay: string; toDay: string }>({ fromDay: '', toDay: '' });
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<{ field: 'from' | 'to' | null; text: string } | null>(null);
  const [loading, setLoading] = useState(false);
  const [download, setDownload] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const asked = useRef(0);

  const load = async (next: RangeChoice) => {
    const found = rangeOf(next, Date.now());
    if (!found.ok) {
      setError({ field: found.field, text: found.reason });
      return;
    }
    const { range } = found;
    const ask = ++asked.current;
    setError(null);
    setLoading(true);
    const query = `from=${encodeURIComponent(range.from)}&to=${encodeURIComponent(range.to)}`;
    try {
      const [byDay, byAgent] = await Promise.all([api.get<Summary>(`${path}/summary?${query}&groupBy=day`), api.get<Summary>(`${path}/summary?${query}&groupBy=agent`)]);
      // A later choice's answer wins over an earlier one that came back late.
      if (ask === asked.current) setLoaded({ range, byDay, byAgent });
    } catch (e) {
      if (ask === asked.current) setError({ field: null, text: e instanceof ApiFailure ? `The reports could not be loaded: ${e.message}` : 'The server could not be reached.' });
    } finally {
      if (ask === asked.current) setLoading(false);
    }
  };
  useEffect(() => {
    void load(choice).then(() => heading.current?.focus());
  }, [api, path]);

  const choose = (next: RangeChoice) => {
    setChoice(next);
    if (next.kind === 'last') void load(next);
  };

  const saveCsv = async () => {
    if (!loaded) return;
    const { range } = loaded;
    setDownload('Preparing the CSV…');
    try {
      const blob = await api.download(`${path}/episodes?from=${encodeURIComponent(range.from)}&to=${encodeURIComponent(range.to)}`, 'text/csv');
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = csvFileName(range);
      document.body.append(link);
      link.click();
      link.remove();
      // The browser has taken the file once the click is handled; the next task may let the Blob go.
      window.setTimeout(() => URL.revokeObjectURL(url), 0);
      setDownload(`Saved ${csvFileName(range)}`);
    } catch (e) {
      setDownload(e instanceof ApiFailure ? `The CSV could not be made: ${e.message}` : 'The CSV could not be downloaded: the server could not be reached.');
    }
  };

  const nameOf = (id: string | null) => (id === null ? 'Nobody (never assigned)' : (users.find((u) => u.id === id)?.name ?? id));
  const days = loaded ? daysOf(loaded.range.from, loaded.range.to, loaded.byDay.timeZone) : [];
  const items = loaded?.byDay.items ?? [];
  const totals = totalAttainment(items);
  const started = items.reduce((n, i) => n + i.episodesStarted, 0);
  const closed = items.reduce((n, i) => n + i.episodesClosed, 0);

  return (
    <div class="settings-page reports-page">
      <div class="settings-head">
        <h2 tabIndex={-1} ref={heading}>
          Reports
        </h2>
        <button type="button" class="link" onClick={onClose}>
          Back to the inbox
        </button>
      </div>
      <form
        class="range-picker"
        aria-label="Range"
        onSubmit={(e) => {
          e.preventDefault();
          const next: RangeChoice = { kind: 'custom', ...custom };
          setChoice(next);
          void load(next);
        }}
      >
        <fieldset>
          <legend>Episodes that started</legend>
          <label>
            <input type="radio" name="range" checked={choice.kind === 'last' && choice.days === 7} onChange={() => choose({ kind: 'last', days: 7 })} /> Last 7 days
          </label>
          <label>
            <input type="radio" name="range" checked={choice.kind === 'last' && choice.days === 30} onChange={() => choose({ kind: 'last', days: 30 })} /> Last 30 days
          </label>
          <label>
            <input type="radio" name="range" checked={choice.kind === 'custom'} onChange={() => setChoice({ kind: 'custom', ...custom })} /> Custom:
          </label>
          <input
            type="date"
            aria-label="From (first day)"
            value={custom.fromDay}
            aria-invalid={error?.field === 'from' ? true : undefined}
            onInput={(e) => {
              setCustom({ ...custom, fromDay: e.currentTarget.value });
              setChoice({ kind: 'custom', ...custom, fromDay: e.currentTarget.value });
            }}
          />
          <span aria-hidden="true">to</span>
          <input
            type="date"
            aria-label="To (last day)"
            value={custom.toDay}
            aria-invalid={error?.field === 'to' ? true : undefined}
            onInput={(e) => {
              setCustom({ ...custom, toDay: e.currentTarget.value });
              setChoice({ kind: 'custom', ...custom, toDay: e.currentTarget.value });
            }}
          />
          <button type="submit" disabled={choice.kind !== 'custom'}>
            Show
          </button>
        </fieldset>
        {loaded && (
          <p class="hint">
            {loaded.range.fromDay} to {loaded.range.toDay} (days in {loaded.byDay.timeZone}) · {started} episodes started, {closed} closed
            {loading ? ' · updating…' : ''}
          </p>
        )}
      </form>
      {error && (
        <p role="alert" class="error">
          {error.text}
        </p>
      )}
      {!loaded && !error && <p class="empty">Loading the reports…</p>}
      {loaded && (
        <>
          <section class="report-charts" aria-label="Per day">
            <DurationChart
              id="first-response"
              title="First response time per day"
              days={days}
              series={[
                { name: 'p50', values: seriesByDay(days, items, (i) => i.firstResponseSeconds.p50) },
                { name: 'p90', values: seriesByDay(days, items, (i) => i.firstResponseSeconds.p90) },
              ]}
            />
            <DurationChart
              id="resolution"
              title="Resolution time per day"
              days={days}
              series={[
                { name: 'p50', values: seriesByDay(days, items, (i) => i.resolutionSeconds.p50) },
                { name: 'p90', values: seriesByDay(days, items, (i) => i.resolutionSeconds.p90) },
              ]}
            />
          </section>
          <section aria-label="SLA attainment">
            <AttainmentBars totals={totals} />
          </section>
          <section aria-labelledby="per-agent-title" class="per-agent">
            <h3 id="per-agent-title">Per agent (the episode's last assignee)</h3>
            {loaded.byAgent.items.length === 0 ? (
              <p class="empty">No episodes started in this range.</p>
            ) : (
              <div class="table-scroll">
                <table class="agents">
                  <thead>
                    <tr>
                      <th scope="col">Agent</th>
                      <th scope="col">Started</th>
                      <th scope="col">Closed</th>
                      <th scope="col">First response p50</th>
                      <th scope="col">First response p90</th>
                      <th scope="col">Resolution p50</th>
                      <th scope="col">Resolution p90</th>
                      {slaMetrics.map((m) => (
                        <th key={m} scope="col">
                          SLA {slaMetricLabels[m].toLowerCase()}
                        </th>
                      ))}
                      <th scope="col">CSAT</th>
                    </tr>
                  </thead>
                  <tbody>
                    {loaded.byAgent.items.map((item) => (
                      <tr key={item.group ?? ''} data-agent={item.group ?? ''}>
                        <th scope="row">{nameOf(item.group)}</th>
                        <td data-col="started">{item.episodesStarted}</td>
                        <td data-col="closed">{item.episodesClosed}</td>
                        <td>{durationWords(item.firstResponseSeconds.p50)}</td>
                        <td>{durationWords(item.firstResponseSeconds.p90)}</td>
                        <td>{durationWords(item.resolutionSeconds.p50)}</td>
                        <td>{durationWords(item.resolutionSeconds.p90)}</td>
                        {slaMetrics.map((m) => (
                          <td key={m} title={`${item.sla[m].met} met, ${item.sla[m].breached} breached`}>
                            {percentWords(item.sla[m].attainment)}
                          </td>
                        ))}
                        <td data-col="csat">{item.csat.count === 0 ? '–' : `${item.csat.average!.toFixed(1)} (${item.csat.count})`}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section aria-label="Export" class="export">
            <button type="button" onClick={() => void saveCsv()}>
              Download CSV
            </button>{' '}
            <span class="hint">Every episode of the range, one row each ({csvFileName(loaded.range)}).</span>
            {download && (
              <p role="status" class="notice">
                {download}
              </p>
            )}
          </section>
        </>
      )}
    </div>
  );
}
