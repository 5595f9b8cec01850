/**
 * SPEC section 11's episode rows as a pure, incremental fold over the conversation's own records: the
 * transition and SLA events (`events`) and the timeline (`messages`) that drive the clocks, so a report
 * can never disagree with what the engine enforced. No clock, no IO.
 *
 * Incremental and idempotent: a row carries what it has folded (`fold.lastEventSeq`,
 * `fold.lastMessageSeq`) and skips any record at or below them, so folding a lifecycle in any split of
 * batches, a batch twice (a retried `persist`) or overlapping batches gives the row that folding it at
 * once gives (test/unit/episode-fold.test.ts checks this over random lifecycles). Records are folded in
 * time order, events before messages at the same instant (a reply from `open` records the claim, then
 * the message), each kind by its seq; every batch's records are later than the previous batch's, since
 * the workflow's clock never goes back.
 *
 * Decisions (SPEC 11 left them open; README "Reports"):
 * - An episode starts at the event that leaves `closed`/`resolved` (or the first one, `from: null`) and
 *   ends at the first event that reaches `closed` or `resolved` (`resolvedAt`: with a CSAT survey the
 *   agent's resolve, not the answer). `closedReason` is the latest reason it reached an ended status
 *   with (`csat_timeout` after an unanswered survey, as the conversation's view says).
 * - First response: the first message a user sends in the episode (templates count; system messages,
 *   i.e. out of office, surveys, broadcasts and a service's template, and notes do not). Measured from
 *   the episode's first customer message (from its start when a user wrote first), leaving out every
 *   moment in `in_flow` ("time inside in_flow is never response time"). `businessFirstResponseSeconds`
 *   is the same span counted on the account's business hours (wall time without any).
 * - Stints: one per run of one assignee, from the event that gave it to them to the event that took it
 *   away (or the episode's end); `firstReplySeconds` from the stint's start to that user's first message
 *   in the stint, null while they have sent none.
 * - `customerMessages` and `userMessages` count the episode's timeline records (`episode` field), so a
 *   template sent while the conversation is closed counts for the episode it closed.
 * - SLA outcome per metric: `breached` when a `sla_breached` event of the metric is in the episode;
 *   else `none` when the policy gives the episode's priority no target for it; else `pending` while
 *   the episode is open and the metric's clock can still run out (no first response yet; a customer
 *   message waiting for the next response; not resolved yet); else `met` (the target applied and was
 *   not missed, a clock that never had to run included).
 * - `priority`, `tags` and `team` are not events: they are taken from the conversation's view while the
 *   row's episode is the view's (`context`), and kept as last seen once it is not.
 */
import type { BusinessClock, SlaMetric, SlaPolicy, SlaPriority } from './sla';
import { alwaysOpen, slaMetrics } from './sla';
import type { MessageRecord, Status, TransitionEvent } from './model';
import { isEnded } from './model';
import type { Policy } from './policy';
import { effective, slaPolicyOf } from './policy';
import { calendarOf } from './conversation-sla';

export type SlaOutcome = 'met' | 'breached' | 'pending' | 'none';

/** One assignee's run within the episode (SPEC 11 `assignees`). Times ISO-8601. */
export interface Stint {
  userId: string;
  from: string;
  /** Null while the stint goes on. */
  to: string | null;
  /** From the stint's start to this user's first message in it; null until they send one. */
  firstReplySeconds: number | null;
}

/** What the fold keeps to go on folding: not part of the report (the API leaves it out). */
export interface FoldState {
  lastEventSeq: number;
  lastMessageSeq: number;
  /** The episode's current status (null before its first event was folded). */
  status: Status | null;
  startMs: number;
  /** The episode's first customer message; the first response is measured from it. */
  firstCustomerMs: number | null;
  /** Since when the episode is in `in_flow`, while it is. */
  flowSinceMs: number | null;
  /** Ended stretches of `in_flow`, epoch ms (a few per episode at most). */
  flowSpans: { from: number; to: number }[];
  responded: boolean;
  /** A customer message waits for the next response (after the first one). */
  awaitingNext: boolean;
  breached: SlaMetric[];
  endedMs: number | null;
}

/** An episode row of SPEC section 11 (times ISO-8601, durations in seconds), plus its fold state. */
export interface EpisodeRow {
  conversationId: string;
  accountId: string;
  episode: number;
  channel: string;
  customer: string;
  startedAt: string;
  firstAssignedAt: string | null;
  firstResponseAt: string | null;
  firstResponseSeconds: number | null;
  businessFirstResponseSeconds: number | null;
  resolvedAt: string | null;
  resolutionSeconds: number | null;
  closedReason: string | null;
  assignees: Stint[];
  customerMessages: number;
  userMessages: number;
  reopenedFrom: number | null;
  sla: Record<SlaMetric, SlaOutcome>;
  csat: number | null;
  priority: SlaPriority;
  tags: string[];
  /** The team that held the episode last (the view's `team`), null under manual routing. */
  team: string | null;
  /** Every team that held it during the episode: `team=` keeps episodes routed to that team. */
  teams: string[];
  fold: FoldState;
}

/** Who the rows belong to: the conversation's fixed identity. */
export interface ConversationIdentity {
  conversationId: string;
  accountId: string;
  channel: string;
  customer: string;
}

/**
 * What the fold reads besides records: the account's business hours (null: always open) and SLA
 * targets (null: none), and, while the row's episode is the conversation's current one, what its view
 * says of priority, tags and team.
 */
export interface FoldContext {
  businessHours: BusinessClock | null;
  sla: Pick<SlaPolicy, 'targets'> | null;
  view?: { episode: number; priority: SlaPriority; tags: readonly string[]; team: string | null };
}

/** One episode's records, in any order; records of other episodes are ignored. */
export interface EpisodeRecords {
  events: readonly TransitionEvent[];
  messages: readonly MessageRecord[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const seconds = (ms: number): number => Math.max(0, ms) / 1000;

/** The event that starts an episode: a real transition out of an ended status (or the very first). */
export function isEpisodeStart(event: TransitionEvent): boolean {
  return (event.type ?? 'transition') === 'transition' && (event.from === null || isEnded(event.from)) && !isEnded(event.to);
}

/** The target of `metric` for `priority` (a priority without an entry uses `normal`'s, as sla.ts). */
function hasTarget(sla: FoldContext['sla'], priority: SlaPriority, metric: SlaMetric): boolean {
  if (sla === null) return false;
  const targets = sla.targets[priority] ?? sla.targets.normal;
  const ms = targets?.[metric];
  return ms !== undefined && ms !== null;
}

function emptyRow(who: ConversationIdentity, episode: number, startMs: number): EpisodeRow {
  return {
    ...who,
    episode,
    startedAt: iso(startMs),
    firstAssignedAt: null,
    firstResponseAt: null,
    firstResponseSeconds: null,
    businessFirstResponseSeconds: null,
    resolvedAt: null,
    resolutionSeconds: null,
    closedReason: null,
    assignees: [],
    customerMessages: 0,
    userMessages: 0,
    reopenedFrom: episode > 1 ? episode - 1 : null,
    sla: { firstResponse: 'none', nextResponse: 'none', resolution: 'none' },
    csat: null,
    priority: 'normal',
    tags: [],
    team: null,
    teams: [],
    fold: {
      lastEventSeq: 0,
      lastMessageSeq: 0,
      status: null,
      startMs,
      firstCustomerMs: null,
      flowSinceMs: null,
      flowSpans: [],
      responded: false,
      awaitingNext: false,
      breached: [],
      endedMs: null,
    },
  };
}

type Item = { kind: 'event'; event: TransitionEvent } | { kind: 'message'; message: MessageRecord };

const atOf = (item: Item): number => (item.kind === 'event' ? item.event.at : item.message.at);
const seqOf = (item: Item): number => (item.kind === 'event' ? item.event.seq : item.message.seq);

/** Time order; at the same instant events first (a claim before the reply that made it), then by seq. */
function inOrder(records: EpisodeRecords, row: EpisodeRow | null): Item[] {
  const items: Item[] = [
    ...records.events.filter((e) => row === null || e.seq > row.fold.lastEventSeq).map((event): Item => ({ kind: 'event', event })),
    ...records.messages.filter((m) => row === null || m.seq > row.fold.lastMessageSeq).map((message): Item => ({ kind: 'message', message })),
  ];
  return items.sort((a, b) => atOf(a) - atOf(b) || (a.kind === b.kind ? seqOf(a) - seqOf(b) : a.kind === 'event' ? -1 : 1));
}

/**
 * Folds one episode's new records into its row (`row` null: none yet). Answers null when there is no
 * row and nothing to start one (no record of the episode). A row started without its start event (the
 * store lost it, or the fold began mid-episode) starts at its first record.
 */
export function foldEpisode(row: EpisodeRow | null, who: ConversationIdentity, episode: number, records: EpisodeRecords, ctx: FoldContext): EpisodeRow | null {
  const mine: EpisodeRecords = { events: records.events.filter((e) => e.episode === episode), messages: records.messages.filter((m) => m.episode === episode) };
  const items = inOrder(mine, row);
  if (row === null && items.length === 0) return null;
  let next: EpisodeRow = row === null ? emptyRow(who, episode, startOf(items)) : { ...row, assignees: [...row.assignees], fold: { ...row.fold } };
  for (const item of items) next = item.kind === 'event' ? foldEvent(next, item.event) : foldMessage(next, item.message, ctx);
  return finish(next, ctx);
}

function startOf(items: Item[]): number {
  const start = items.find((i) => i.kind === 'event' && isEpisodeStart(i.event));
  return atOf(start ?? items[0]!);
}

function foldEvent(row: EpisodeRow, event: TransitionEvent): EpisodeRow {
  const f = { ...row.fold, lastEventSeq: Math.max(row.fold.lastEventSeq, event.seq) };
  const type = event.type ?? 'transition';
  switch (type) {
    case 'sla_warning':
      return { ...row, fold: f };
    case 'sla_breached':
      if (event.metric !== undefined && !f.breached.includes(event.metric)) f.breached = [...f.breached, event.metric];
      return { ...row, fold: f };
    case 'transition':
      break;
    default: {
      const unknown: never = type;
      throw new Error(`unknown event type ${String(unknown)}`);
    }
  }
  let out: EpisodeRow = { ...row, fold: f };
  if (event.details?.csatScore !== undefined) out.csat = event.details.csatScore;
  if (f.endedMs === null) out = stintsAfter(out, event);
  // In-flow stretches: measured only before the episode ends, where responses are measured.
  if (event.to === 'in_flow' && f.flowSinceMs === null && f.endedMs === null) f.flowSinceMs = event.at;
  if (event.to !== 'in_flow' && f.flowSinceMs !== null) {
    f.flowSpans = [...f.flowSpans, { from: f.flowSinceMs, to: event.at }];
    f.flowSinceMs = null;
  }
  if (event.from !== event.to && isEnded(event.to)) {
    out.closedReason = event.reason;
    if (f.endedMs === null) {
      f.endedMs = event.at;
      out.resolvedAt = iso(event.at);
      out.resolutionSeconds = seconds(event.at - f.startMs);
      out = { ...out, assignees: out.assignees.map((s) => (s.to === null ? { ...s, to: iso(event.at) } : s)) };
    }
  }
  f.status = event.to;
  return out;
}

/** A change of assignee ends the running stint and starts the next one. */
function stintsAfter(row: EpisodeRow, event: TransitionEvent): EpisodeRow {
  const running = row.assignees.at(-1);
  const current = running !== undefined && running.to === null ? running.userId : null;
  const after = event.assigneeAfter ?? null;
  if (after === current) return row;
  const assignees = row.assignees.map((s) => (s.to === null ? { ...s, to: iso(event.at) } : s));
  if (after !== null) assignees.push({ userId: after, from: iso(event.at), to: null, firstReplySeconds: null });
  return { ...row, assignees, firstAssignedAt: row.firstAssignedAt ?? (after !== null ? iso(event.at) : null) };
}

function foldMessage(row: EpisodeRow, message: MessageRecord, ctx: FoldContext): EpisodeRow {
  const f = { ...row.fold, lastMessageSeq: Math.max(row.fold.lastMessageSeq, message.seq) };
  let out: EpisodeRow = { ...row, fold: f };
  // A message at the very instant the episode ended still belongs to it: two decisions at one instant
  // may come in either order, and the row must not depend on which (see the header).
  const open = f.endedMs === null || message.at <= f.endedMs;
  if (message.direction === 'inbound') {
    out.customerMessages += 1;
    if (open) {
      if (f.firstCustomerMs === null) f.firstCustomerMs = message.at;
      if (f.responded) f.awaitingNext = true;
    }
  } else if (message.direction === 'outbound' && message.authorId !== null) {
    // A user's message to the customer (a reply or a template); system messages have no author.
    out.userMessages += 1;
    if (open) {
      if (!f.responded) out = firstResponse(out, message.at, ctx);
      f.responded = true;
      f.awaitingNext = false;
      out = { ...out, assignees: firstReply(out.assignees, message) };
    }
  }
  return out;
}

/**
 * The author's stint that was running at the message's instant gets its first reply: the latest of
 * theirs that began at or before it and ended at or after it, so a stint that ends at that very instant
 * (a reassignment decided at the same moment as the reply) still gets it, whichever came first.
 */
function firstReply(stints: Stint[], message: MessageRecord): Stint[] {
  let index = -1;
  stints.forEach((s, i) => {
    if (s.userId === message.authorId && Date.parse(s.from) <= message.at && (s.to === null || Date.parse(s.to) >= message.at)) index = i;
  });
  const stint = stints[index];
  if (stint === undefined || stint.firstReplySeconds !== null) return stints;
  const next = [...stints];
  next[index] = { ...stint, firstReplySeconds: seconds(message.at - Date.parse(stint.from)) };
  return next;
}

/** The first response: from the first customer message (or the start), without the time in `in_flow`. */
function firstResponse(row: EpisodeRow, at: number, ctx: FoldContext): EpisodeRow {
  const f = row.fold;
  const origin = Math.min(f.firstCustomerMs ?? f.startMs, at);
  const flows = [...f.flowSpans, ...(f.flowSinceMs !== null ? [{ from: f.flowSinceMs, to: at }] : [])];
  const clock = ctx.businessHours ?? alwaysOpen;
  let wall = at - origin;
  let business = clock.businessTimeBetween(origin, at);
  for (const span of flows) {
    const from = Math.max(span.from, origin);
    const to = Math.min(span.to, at);
    if (to <= from) continue;
    wall -= to - from;
    business -= clock.businessTimeBetween(from, to);
  }
  return { ...row, firstResponseAt: iso(at), firstResponseSeconds: seconds(wall), businessFirstResponseSeconds: seconds(business) };
}

/** What follows from the fold state and the context: SLA outcomes, and the view's fields for the current episode. */
function finish(row: EpisodeRow, ctx: FoldContext): EpisodeRow {
  let out = row;
  const view = ctx.view;
  if (view !== undefined && view.episode === row.episode) {
    const teams = view.team !== null && !row.teams.includes(view.team) ? [...row.teams, view.team] : row.teams;
    out = { ...out, priority: view.priority, tags: [...view.tags], team: view.team ?? row.team, teams };
  }
  const sla = Object.fromEntries(slaMetrics.map((m) => [m, slaOutcome(out, m, ctx)])) as Record<SlaMetric, SlaOutcome>;
  return { ...out, sla };
}

export function slaOutcome(row: EpisodeRow, metric: SlaMetric, ctx: Pick<FoldContext, 'sla'>): SlaOutcome {
  const f = row.fold;
  if (f.breached.includes(metric)) return 'breached';
  if (!hasTarget(ctx.sla, row.priority, metric)) return 'none';
  if (f.endedMs !== null) return 'met';
  switch (metric) {
    case 'firstResponse':
      return f.responded ? 'met' : 'pending';
    case 'nextResponse':
      return f.awaitingNext ? 'pending' : 'met';
    case 'resolution':
      return 'pending';
  }
}

/** The episodes a batch's records touch (episode 0, before the first customer message, has no row). */
export function episodesOf(records: EpisodeRecords): number[] {
  const all = new Set<number>([...records.events.map((e) => e.episode), ...records.messages.map((m) => m.episode)]);
  return [...all].filter((n) => n > 0).sort((a, b) => a - b);
}

/**
 * Whether folding `records` into `row` would skip some of the episode's records: the row (or, with no
 * row, the episode's start) is not where these records begin. The caller then reads the records in
 * between from the store first (`missingAfter`), so a row never silently misses part of its episode.
 */
export function missingBefore(row: EpisodeRow | null, episode: number, records: EpisodeRecords): { eventsAfter: number; messagesAfter: number; eventsBefore: number; messagesBefore: number } | null {
  const events = records.events.filter((e) => e.episode === episode);
  const messages = records.messages.filter((m) => m.episode === episode);
  const firstEvent = Math.min(...events.map((e) => e.seq));
  const firstMessage = Math.min(...messages.map((m) => m.seq));
  if (row === null) {
    if (events.some(isEpisodeStart)) return null;
    return { eventsAfter: 0, messagesAfter: 0, eventsBefore: firstEvent, messagesBefore: firstMessage };
  }
  const eventGap = events.length > 0 && firstEvent > row.fold.lastEventSeq + 1;
  // Message seqs are the conversation's: a row that has folded no message yet does not know where its
  // episode's begin, and every episode's first message comes in its start's batch (the reopening
  // customer message) or later, so only a row that has folded one can tell a gap.
  const messageGap = messages.length > 0 && row.fold.lastMessageSeq > 0 && firstMessage > row.fold.lastMessageSeq + 1;
  if (!eventGap && !messageGap) return null;
  return { eventsAfter: row.fold.lastEventSeq, messagesAfter: row.fold.lastMessageSeq, eventsBefore: firstEvent, messagesBefore: firstMessage };
}

/** The fold's context under a policy: its business hours and SLA targets, and the view's fields if given. */
export function foldContextOf(policy: Policy, view?: FoldContext['view']): FoldContext {
  return { businessHours: calendarOf(effective(policy).businessHours), sla: slaPolicyOf(policy), ...(view !== undefined ? { view } : {}) };
}

/**
 * Folds a batch of a conversation's records into the rows of every episode it touches (`rows`: the
 * stored ones, by episode). Answers the rows that exist after it, changed or not, by episode.
 */
export function foldBatch(rows: ReadonlyMap<number, EpisodeRow>, who: ConversationIdentity, records: EpisodeRecords, ctx: FoldContext): Map<number, EpisodeRow> {
  const out = new Map(rows);
  const touched = new Set(episodesOf(records));
  if (ctx.view !== undefined && ctx.view.episode > 0 && rows.has(ctx.view.episode)) touched.add(ctx.view.episode);
  for (const episode of touched) {
    const row = foldEpisode(rows.get(episode) ?? null, who, episode, records, ctx);
    if (row !== null) out.set(episode, row);
  }
  return out;
}
