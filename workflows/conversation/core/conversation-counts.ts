/**
 * The inbox's tab counts (`GET .../conversation-counts`) kept as they change instead of counted by a
 * scan (issue 28: a scan of a million views takes minutes on the embedded store). Pure: no clock, no IO;
 * store/conversation-counts.ts writes and reads what these decide (store/DESIGN.md "Conversation counts").
 *
 * A conversation that is not archived is in one **bucket**: its status and its assignee. Each time a
 * conversation leaves a bucket for another, its `persist` inserts a **move** (from, to). The counts are a
 * **pack** (the count of every bucket as of a moment, its mark) plus the moves written since the mark. The
 * moves of one conversation form a chain: each starts from the version the one before it ended at, so two
 * writers that both decided a move from the same version meet on one `_id`, and the second continues
 * from where the first ended instead of counting the conversation twice (`afterExistingMove`).
 */
import type { Status, TransitionEvent } from './model';

/** A conversation's bucket: `{status}/{assigneeId}` (`{status}/` when nobody holds it); null when it is archived or has no view yet. */
export type Bucket = string | null;

/** What a bucket is read from: the fields of a view. */
export interface BucketFields {
  status: Status;
  assigneeId: string | null;
  archived?: boolean | null;
}

export function bucketOf(view: BucketFields | null | undefined): Bucket {
  if (!view || view.archived === true) return null;
  return `${view.status}/${view.assigneeId ?? ''}`;
}

/** The status and assignee of a bucket (the status never holds a `/`). */
export function bucketParts(bucket: string): { status: string; assigneeId: string | null } {
  const slash = bucket.indexOf('/');
  const assigneeId = bucket.slice(slash + 1);
  return { status: bucket.slice(0, slash), assigneeId: assigneeId === '' ? null : assigneeId };
}

/** A status or assignee change (not an SLA warning or breach): every change of bucket comes with one (property test). */
export const isTransition = (event: Pick<TransitionEvent, 'type'>): boolean => (event.type ?? 'transition') === 'transition';

/** How many conversations are in each bucket; a bucket with none is absent. */
export type BucketCounts = Record<string, number>;

export interface Move {
  from: Bucket;
  to: Bucket;
}

/** The counts after `moves`, in any order (a move only adds and takes away). */
export function applyMoves(counts: BucketCounts, moves: Iterable<Move>): BucketCounts {
  const next = new Map(Object.entries(counts));
  const add = (bucket: Bucket, n: number) => {
    if (bucket === null) return;
    const count = (next.get(bucket) ?? 0) + n;
    if (count === 0) next.delete(bucket);
    else next.set(bucket, count);
  };
  for (const move of moves) {
    if (move.from === move.to) continue;
    add(move.from, -1);
    add(move.to, 1);
  }
  return Object.fromEntries([...next].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A move as stored: the version it leaves from and the one it ends at. */
export interface ChainedMove extends Move {
  fromVersion: number;
  toVersion: number;
}

/**
 * `persist` wanted to record `wanted` and found a move from the same version already stored (`existing`):
 * an earlier attempt, or a batch that died before its view was written, moved this conversation first.
 * Null when the chain already reaches the wanted version (the stored move ends at or after it). Otherwise
 * the conversation is at `existing.to` as of `existing.toVersion`, and the rest of the change is a move
 * from there, which may be to where it already is (nothing to insert, but a later move from that version
 * may be stored too: the caller looks).
 */
export function afterExistingMove(wanted: ChainedMove, existing: ChainedMove): ChainedMove | null {
  if (existing.toVersion >= wanted.toVersion) return null;
  return { from: existing.to, to: wanted.to, fromVersion: existing.toVersion, toVersion: wanted.toVersion };
}

/**
 * Where a conversation starts in the baseline the backfill counts for an account that had conversations
 * before the moves were kept: the bucket of the view it scanned, unless a move from an older version is
 * already stored (the view it read includes that move, and the move is also counted): then where the
 * conversation's first move started. A conversation created since has a first move from version 0 (from
 * no bucket), so it starts in none.
 */
export function baselineBucket(scanned: { version: number; bucket: Bucket }, firstMove: ChainedMove | undefined): Bucket {
  return firstMove !== undefined && firstMove.fromVersion < scanned.version ? firstMove.from : scanned.bucket;
}

export interface TabCount {
  status: string;
  count: number;
  /** Of `count`, those the caller is assigned (0 for a service key). */
  mine: number;
}

/** The route's answer: one row per status that has conversations, in status order. */
export function tabCounts(counts: BucketCounts, me: string | null): TabCount[] {
  const byStatus = new Map<string, TabCount>();
  for (const [bucket, count] of Object.entries(counts)) {
    const { status, assigneeId } = bucketParts(bucket);
    const row = byStatus.get(status) ?? { status, count: 0, mine: 0 };
    row.count += count;
    if (me !== null && assigneeId === me) row.mine += count;
    byStatus.set(status, row);
  }
  return [...byStatus.values()].filter((row) => row.count !== 0).sort((a, b) => a.status.localeCompare(b.status));
}
