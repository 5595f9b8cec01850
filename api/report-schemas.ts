import { z } from 'zod';
import type { GroupBy } from '../workflows/conversation/core/episode-summary';
import { id } from './schemas';

/**
 * SPEC 11: the reports' query and answer schemas (the routes in api/routes/reports.ts). A range is
 * `from` (inclusive) to `to` (exclusive), ISO-8601 with a zone, at most 366 days; bad input answers 400
 * `validation_failed` naming the parameter.
 */
export const maxRangeDays = 366;
const dayMs = 86_400_000;

/** The summary's groups (core/episode-summary.ts `groupBys`). */
const groupBy = z.enum(['agent', 'team', 'channel', 'day'] as const satisfies readonly GroupBy[]);

const range = {
  from: z.iso.datetime({ offset: true }).describe('ISO-8601 with a zone; episodes that started at or after it'),
  to: z.iso.datetime({ offset: true }).describe('ISO-8601 with a zone; episodes that started before it; at most 366 days after `from`'),
  channel: id.optional(),
  /** Episodes with a stint by this user. */
  assignee: id.optional(),
  /** Episodes routed to this team, or with a stint by one of its current members. */
  team: id.optional(),
};

function checkRange(q: { from: string; to: string }, ctx: z.RefinementCtx): void {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  if (from > to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after `to`' });
  else if (to - from > maxRangeDays * dayMs) ctx.addIssue({ code: 'custom', path: ['to'], message: `at most ${maxRangeDays} days after \`from\`` });
}

export const episodesQuery = z
  .strictObject({
    ...range,
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(512).optional(),
  })
  .superRefine(checkRange);

export const summaryQuery = z
  .strictObject({
    ...range,
    groupBy: groupBy.default('day'),
  })
  .superRefine(checkRange);

const time = z.string();
const outcome = z.enum(['met', 'breached', 'pending', 'none']);

/** One episode row (SPEC 11). Times ISO-8601, durations in seconds. */
export const episodeRow = z.object({
  conversationId: z.string(),
  episode: z.number().int(),
  channel: z.string(),
  customer: z.string(),
  startedAt: time,
  firstAssignedAt: time.nullable(),
  firstResponseAt: time.nullable(),
  firstResponseSeconds: z.number().nullable(),
  businessFirstResponseSeconds: z.number().nullable(),
  resolvedAt: time.nullable(),
  resolutionSeconds: z.number().nullable(),
  closedReason: z.string().nullable(),
  assignees: z.array(z.object({ userId: z.string(), from: time, to: time.nullable(), firstReplySeconds: z.number().nullable() })),
  customerMessages: z.number().int(),
  userMessages: z.number().int(),
  reopenedFrom: z.number().int().nullable(),
  sla: z.object({ firstResponse: outcome, nextResponse: outcome, resolution: outcome }),
  csat: z.number().nullable(),
  priority: z.enum(['urgent', 'high', 'normal', 'low']),
  tags: z.array(z.string()),
  team: z.string().nullable().describe('the team that held the episode last; null under manual routing'),
});
export const episodeList = z.object({ items: z.array(episodeRow), nextCursor: z.string().nullable() });

const percentiles = z.object({ p50: z.number().nullable(), p90: z.number().nullable() });
const attainment = z.object({ met: z.number().int(), breached: z.number().int(), attainment: z.number().nullable() });
export const summaryItem = z.object({
  group: z.string().nullable(),
  episodesStarted: z.number().int(),
  episodesClosed: z.number().int(),
  firstResponseSeconds: percentiles,
  resolutionSeconds: percentiles,
  sla: z.object({ firstResponse: attainment, nextResponse: attainment, resolution: attainment }),
  csat: z.object({ count: z.number().int(), average: z.number().nullable() }),
});
export const summary = z.object({ groupBy, from: time, to: time, timeZone: z.string(), items: z.array(summaryItem) });
