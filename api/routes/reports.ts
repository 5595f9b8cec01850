import { supervisors } from '../auth';
import { defineRoute } from '../route';
import * as s from '../report-schemas';
import { episodeSummary, listEpisodes, streamEpisodesCsv } from '../reports';

/** SPEC 11: reports over episode rows (api/reports.ts), supervisors only. */
export const reportRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/reports/episodes',
    summary:
      'One row per episode that started in [from, to) (at most 366 days), in start order: `{ items, nextCursor }`, cursor-paginated (`limit` up to 1,000). ' +
      'With `Accept: text/csv` the whole range as CSV (UTF-8, a header row, one column per scalar field, `assignees`, `tags` and `sla` as JSON text, empty cells for null), streamed. ' +
      '`assignee=` keeps episodes with a stint by that user; `team=` those routed to that team or with a stint by one of its current members. ' +
      'Bad input (from after to, a range over 366 days) answers 400 naming the parameter',
    allow: supervisors,
    query: s.episodesQuery,
    response: s.episodeList,
    handler: async ({ deps, params, query, req, res }) => {
      if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
        await streamEpisodesCsv(deps, params.accountId!, query, res);
        return undefined;
      }
      return listEpisodes(deps, params.accountId!, query);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/reports/summary',
    summary:
      'Per group (`groupBy` agent: the last assignee, team, channel, or day: YYYY-MM-DD in the business-hours time zone, UTC without one; default day) of the episodes that started in [from, to): ' +
      'episodes started and closed, p50 and p90 (nearest rank) of first response and resolution seconds, SLA attainment per metric (met / (met + breached)), CSAT count and average. ' +
      'Every figure is recomputed from the rows of `GET .../reports/episodes` with the same filters',
    allow: supervisors,
    query: s.summaryQuery,
    response: s.summary,
    handler: async ({ deps, params, query }) => episodeSummary(deps, params.accountId!, query),
  }),
];
