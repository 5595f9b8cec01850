import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import { collections } from '../store/collections';
import { readCounts } from '../store/conversation-counts';
import { countsByStatusAndAssignee } from '../store/conversation-views';
import { conversationQuery } from '../workflows/conversation/messages';
import type { ConversationView } from '../workflows/conversation/core/view';
import { mapLimit, sleep, waitUntil } from './load';

/**
 * What a run promised and what the stack kept. The ledger records every message the API accepted (202)
 * and every reply it answered 200; the checks read the timelines (the `messages` collection the API
 * serves), the views, and each workflow's own state through its 'conversation' query.
 */
export class Ledger {
  /** conversationId -> accepted provider message ids. */
  readonly accepted = new Map<string, Set<string>>();
  /** Every message id ever sent, accepted or not: an unconfirmed one may still land, once. */
  readonly attempted = new Set<string>();
  /** conversationId -> replies answered 200. */
  readonly replies = new Map<string, number>();

  attempt(messageId: string): void {
    this.attempted.add(messageId);
  }

  accept(conversationId: string, messageId: string): void {
    let set = this.accepted.get(conversationId);
    if (!set) this.accepted.set(conversationId, (set = new Set()));
    set.add(messageId);
  }

  reply(conversationId: string): void {
    this.replies.set(conversationId, (this.replies.get(conversationId) ?? 0) + 1);
  }

  get acceptedCount(): number {
    let n = 0;
    for (const s of this.accepted.values()) n += s.size;
    return n;
  }

  conversations(): string[] {
    return [...new Set([...this.accepted.keys(), ...this.replies.keys()])];
  }
}

export interface TimelineCheck {
  conversations: number;
  accepted: number;
  /** Accepted messages missing from their timeline. */
  lost: number;
  /** Message ids recorded more than once, plus gaps in a timeline's sequence (a re-recording collapsed by id). */
  duplicated: number;
  /** Inbound messages in a timeline that were never sent to it. */
  unexpected: number;
  /** Replies answered 200 but missing from the timeline, or recorded more often than answered. */
  repliesMismatched: number;
  examples: string[];
}

export async function checkTimelines(db: Db, accountId: string, ledger: Ledger): Promise<TimelineCheck> {
  const docs = await collections(db)
    .messages.find({ accountId }, { projection: { conversationId: 1, messageId: 1, seq: 1, direction: 1 } })
    .toArray();
  const byConversation = new Map<string, { seqs: number[]; ids: Map<string, number>; outbound: number }>();
  for (const d of docs) {
    let entry = byConversation.get(d.conversationId);
    if (!entry) byConversation.set(d.conversationId, (entry = { seqs: [], ids: new Map(), outbound: 0 }));
    entry.seqs.push(d.seq);
    if (d.direction === 'inbound') entry.ids.set(d.messageId, (entry.ids.get(d.messageId) ?? 0) + 1);
    else entry.outbound++;
  }
  const result: TimelineCheck = { conversations: 0, accepted: ledger.acceptedCount, lost: 0, duplicated: 0, unexpected: 0, repliesMismatched: 0, examples: [] };
  const note = (text: string) => result.examples.length < 10 && result.examples.push(text);
  for (const id of ledger.conversations()) {
    result.conversations++;
    const entry = byConversation.get(id) ?? { seqs: [], ids: new Map<string, number>(), outbound: 0 };
    for (const messageId of ledger.accepted.get(id) ?? []) {
      if (!entry.ids.has(messageId)) {
        result.lost++;
        note(`lost ${messageId} in ${id}`);
      }
    }
    for (const [messageId, n] of entry.ids) {
      if (n > 1) {
        result.duplicated += n - 1;
        note(`${messageId} recorded ${n} times in ${id}`);
      }
      if (!ledger.attempted.has(messageId)) {
        result.unexpected++;
        note(`unexpected ${messageId} in ${id}`);
      }
    }
    const seqs = entry.seqs.sort((a, b) => a - b);
    const gaps = seqs.length === 0 ? 0 : seqs.at(-1)! - seqs.length;
    if (gaps > 0) {
      result.duplicated += gaps;
      note(`${gaps} gaps in the sequence of ${id}`);
    }
    const replies = ledger.replies.get(id) ?? 0;
    if (entry.outbound !== replies) {
      result.repliesMismatched += Math.abs(entry.outbound - replies);
      note(`${replies} replies answered, ${entry.outbound} in the timeline of ${id}`);
    }
  }
  return result;
}

/** Waits until the account's timelines hold at least `expected` inbound messages (the views caught up). */
export async function waitForInbound(db: Db, accountId: string, expected: number, timeoutMs: number): Promise<{ ok: boolean; at: number; count: number }> {
  let count = 0;
  const r = await waitUntil(
    async () => {
      count = await collections(db).messages.countDocuments({ accountId, direction: 'inbound' });
      return count >= expected;
    },
    { timeoutMs, intervalMs: 100 },
  );
  return { ...r, count };
}

export interface ViewCheck {
  checked: number;
  /** Views that differ from their workflow's state (or are missing) after waiting for them to settle. */
  mismatched: number;
  /** Workflows that did not answer the query. */
  unreachable: number;
  examples: string[];
}

const viewFields: (keyof ConversationView)[] = [
  'accountId',
  'channel',
  'customer',
  'customerName',
  'status',
  'assigneeId',
  'episode',
  'unreadCount',
  'lastCustomerMessageAt',
  'windowExpiresAt',
  'autoCloseAt',
  'closedReason',
  'closedAt',
  'campaignId',
  'lastActivityAt',
  'updatedAt',
  'version',
];

/** The fields where a MongoDB view differs from the workflow's own view of itself. */
function differences(workflow: ConversationView, doc: Record<string, unknown> | null): string[] {
  if (!doc) return ['(no view)'];
  // FerretDB leaves out null fields an upsert inserts: a missing field reads as null.
  return viewFields.filter((f) => (doc[f] ?? null) !== (workflow[f] ?? null));
}

/**
 * Compares every conversation's MongoDB view with its workflow's state. A view is written a moment after
 * the state changes, so differing ones are read again for up to `settleMs` before they count.
 */
export async function checkViews(client: Client, db: Db, ids: string[], settleMs = 20_000): Promise<ViewCheck> {
  const c = collections(db);
  const result: ViewCheck = { checked: ids.length, mismatched: 0, unreachable: 0, examples: [] };
  const compare = async (id: string): Promise<string[] | 'unreachable'> => {
    let state: ConversationView;
    try {
      state = await client.workflow.getHandle(id).query(conversationQuery);
    } catch (error) {
      return error instanceof Error ? 'unreachable' : 'unreachable';
    }
    const doc = await c.conversations.findOne({ _id: id });
    return differences(state, doc as Record<string, unknown> | null);
  };
  let pending = ids;
  const deadline = Date.now() + settleMs;
  let last: (string[] | 'unreachable')[] = [];
  for (;;) {
    last = await mapLimit(pending, 16, compare);
    const stillBad = pending.filter((_, i) => last[i] === 'unreachable' || (last[i] as string[]).length > 0);
    last = last.filter((x) => x === 'unreachable' || x.length > 0);
    if (stillBad.length === 0 || Date.now() > deadline) {
      stillBad.forEach((id, i) => {
        const diff = last[i]!;
        if (diff === 'unreachable') result.unreachable++;
        else result.mismatched++;
        if (result.examples.length < 10) result.examples.push(`${id}: ${diff === 'unreachable' ? 'query failed' : diff.join(', ')}`);
      });
      return result;
    }
    pending = stillBad;
    await sleep(500);
  }
}

/** Conversations still assigned although their auto-close deadline passed more than `graceMs` ago. */
export async function missedAutoCloses(db: Db, ids: string[], graceMs = 5_000): Promise<{ missed: number; examples: string[] }> {
  const now = Date.now();
  const docs = await collections(db)
    .conversations.find({ _id: { $in: ids } }, { projection: { status: 1, autoCloseAt: 1 } })
    .toArray();
  const late = docs.filter((d) => d.status === 'assigned' && d.autoCloseAt && Date.parse(d.autoCloseAt) < now - graceMs);
  return { missed: late.length, examples: late.slice(0, 5).map((d) => `${d._id} due ${d.autoCloseAt}`) };
}

/**
 * Issue 28: the account's kept tab counts (store/conversation-counts.ts) against one pass over its views,
 * once the views have settled: how many buckets differ (a missing baseline counts as one).
 */
export async function checkKeptCounts(db: Db, accountId: string): Promise<{ mismatched: number; examples: string[] }> {
  const c = collections(db);
  const [kept, scanned] = await Promise.all([readCounts(c.counts, accountId), countsByStatusAndAssignee(c, accountId)]);
  if (kept === null) return { mismatched: 1, examples: [`counts: account ${accountId} has no count baseline`] };
  const buckets = [...new Set([...Object.keys(kept), ...Object.keys(scanned)])].filter((b) => kept[b] !== scanned[b]);
  return { mismatched: buckets.length, examples: buckets.slice(0, 5).map((b) => `counts: ${b} kept ${kept[b] ?? 0}, views ${scanned[b] ?? 0}`) };
}
