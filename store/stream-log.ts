import type { Collection, Db } from 'mongodb';
import { MongoServerError } from 'mongodb';
import type { Delivery, MessageRecord, TransitionEvent } from '../workflows/conversation/core/lifecycle';
import type { ConversationView } from '../workflows/conversation/core/view';
import type { Presence } from '../workflows/routing/routing';
import { streamEntryId } from './ids';
import { isDuplicateKeyError } from './writes';

export { streamEntryId };

/**
 * The account's change log that `GET /v1/accounts/{accountId}/stream` serves (SPEC section 8).
 * `store/STREAM.md` explains the design; in short:
 *
 * - Each persisted batch of a conversation becomes one entry with a per-account sequence number,
 *   claimed by inserting `_id = "{accountId}/{seq}"`. An insert whose `_id` exists fails atomically on
 *   MongoDB and on FerretDB alike (it is SQLite's primary key there), so each number has exactly one
 *   writer, and nothing else needs to be atomic.
 * - A writer claims the lowest free number above a claimed one it knows of, so the claimed numbers are
 *   always 1..N with no hole: a reader that has seen `seq` reads `seq + 1` by `_id`, the one filter
 *   FerretDB answers from its index, and "not there" means "not written yet".
 * - `stream_heads` holds, per account, a recently claimed number: where writers start probing and where
 *   a reader without `Last-Event-ID` starts. It may lag (its writes race); probing forwards corrects it.
 */
export interface ConversationEntryDoc {
  _id: string; // `${accountId}/${seq}`
  accountId: string;
  seq: number;
  conversationId: string;
  at: Date;
  /** The conversation after the batch. */
  conversation: ConversationView;
  /** Timeline messages the batch recorded. */
  messages: MessageRecord[];
  /** Delivery changes of business messages, oldest first. */
  deliveries: { messageId: string; delivery: Delivery }[];
  /** Transitions the batch recorded. */
  events: TransitionEvent[];
}

/**
 * What an API process puts on the stream that is not a conversation batch (issue 22): a user's read mark
 * moved (their other tabs clear the badge), a user's presence changed. Claimed like every entry (insert
 * of the next number), so it has one writer and a place in the account's order like the others.
 */
export type StreamNotice =
  | { type: 'read'; conversationId: string; userId: string; readUpToSeq: number }
  | { type: 'presence'; userId: string; presence: Presence; manual: boolean; at: string };

export interface NoticeEntryDoc {
  _id: string; // `${accountId}/${seq}`
  accountId: string;
  seq: number;
  at: Date;
  notice: StreamNotice;
}

/** An entry of the log: a conversation batch (the worker's `persist`) or a notice (an API process). */
export type StreamEntryDoc = ConversationEntryDoc | NoticeEntryDoc;

export const isNoticeEntry = (doc: StreamEntryDoc): doc is NoticeEntryDoc => 'notice' in doc;

export interface StreamHeadDoc {
  _id: string; // accountId
  /** A claimed sequence number, at most a little behind the newest. */
  seq: number;
  /** Entries at or below this were pruned (a hint for the pruner; readers do not need it). */
  prunedTo?: number;
}

/** A single-use ticket that opens a stream without an Authorization header (EventSource). */
export interface StreamTicketDoc {
  _id: string; // sha256 hex of the ticket
  accountId: string;
  userId: string;
  expiresAt: Date;
  /** The key or session that minted it: the stream it opens ends when that does (SPEC section 12). Absent: minted before. */
  mintedWith?: { kind: 'key'; keyHash: string } | { kind: 'session'; sessionHash: string };
}

/** A conversation batch's entry before it has a number. */
export type StreamEntry = Omit<ConversationEntryDoc, '_id' | 'seq' | 'accountId'>;
export type NoticeEntry = Omit<NoticeEntryDoc, '_id' | 'seq' | 'accountId'>;

export interface StreamCollections {
  entries: Collection<StreamEntryDoc>;
  heads: Collection<StreamHeadDoc>;
  tickets: Collection<StreamTicketDoc>;
}

export function streamCollections(db: Db): StreamCollections {
  return { entries: db.collection<StreamEntryDoc>('stream_entries'), heads: db.collection<StreamHeadDoc>('stream_heads'), tickets: db.collection<StreamTicketDoc>('stream_tickets') };
}

/** The head hint of an account: 0 when it has no entry yet. */
export async function readHead(c: StreamCollections, accountId: string): Promise<number> {
  return (await c.heads.findOne({ _id: accountId }, { projection: { seq: 1 } }))?.seq ?? 0;
}

/**
 * Appends entries for the conversations of one worker process. Within the process, appends to one
 * account are committed in groups: while one group is being written, the entries that arrive wait, and
 * the next group takes them all at once (one head read, one ordered insert of consecutive numbers, one
 * head write, whatever the group's size). So the writers of one process never collide with each other,
 * a burst costs a few round trips rather than a few per entry, and entries keep their arrival order.
 * Writers in other processes collide at most on the numbers claimed meanwhile, and move on.
 *
 * Only the insert is on an append's path: a caller may read the head beforehand, alongside its own
 * writes (`readHint`), and the head write that follows a group's insert is a hint that nobody waits
 * for (the next group of the account does: it starts after it).
 */
export class StreamAppender {
  private readonly known = new Map<string, number>();
  private readonly queues = new Map<string, Pending[]>();
  private readonly draining = new Set<Promise<void>>();

  constructor(
    private readonly c: StreamCollections,
    private readonly maxGroup = 500,
    /** A head write that failed: nothing is lost (it is a hint), but an operator may want to know. */
    private readonly onHeadError: (error: unknown) => void = () => undefined,
  ) {}

  /**
   * The account's head hint, read now; undefined if it cannot be read (the append then reads it itself).
   * Never rejects, so a caller can start it beside other writes and await it later.
   */
  readHint(accountId: string): Promise<number | undefined> {
    return readHead(this.c, accountId).catch(() => undefined);
  }

  /**
   * Appends one entry and answers its sequence number. Not idempotent: a retried batch may appear twice
   * (see STREAM.md). `hint`: a head value the caller read (`readHint`) since its previous append to the
   * account; the append then does not read the head again. Any value the head ever held is a number that
   * was claimed, so starting above it keeps the numbers dense; an old one only costs collisions.
   */
  append(accountId: string, entry: StreamEntry | NoticeEntry, hint?: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(accountId);
      if (queue) return void queue.push({ entry, hint, resolve, reject });
      const fresh: Pending[] = [{ entry, hint, resolve, reject }];
      this.queues.set(accountId, fresh);
      const drained = this.drain(accountId, fresh);
      this.draining.add(drained);
      void drained.finally(() => this.draining.delete(drained));
    });
  }

  /** Resolves once every append made so far is written, head writes included (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining);
  }

  private async drain(accountId: string, queue: Pending[]): Promise<void> {
    while (queue.length > 0) {
      const group = queue.splice(0, this.maxGroup);
      let outcomes: Claimed[];
      try {
        outcomes = await this.claim(accountId, group);
      } catch (error) {
        // The database could not be reached: nothing of the group is known written, and every caller retries.
        for (const g of group) g.reject(error);
        continue;
      }
      group.forEach((g, i) => {
        const outcome = outcomes[i]!;
        if ('seq' in outcome) g.resolve(outcome.seq);
        else g.reject(outcome.refused);
      });
      const seqs = outcomes.flatMap((o) => ('seq' in o ? [o.seq] : []));
      // After the entries are answered: the head is a hint, and its write is nobody's wait but the
      // next group's of this account (which reads it).
      if (seqs.length > 0) await this.advanceHead(accountId, seqs.at(-1)!).catch(this.onHeadError);
    }
    this.queues.delete(accountId);
  }

  /**
   * Claims numbers for the group's entries, in order, and answers each entry's outcome. An entry the
   * database refuses (a key it cannot store, a document too deep or too large) fails alone: the entries
   * of other conversations claimed with it are written, and its number goes to the next entry, so the
   * numbers stay dense. Throws only when the database could not be reached (nothing is known written).
   */
  private async claim(accountId: string, group: Pending[]): Promise<Claimed[]> {
    // The head is read every time (or by the caller just before), not only the number this process
    // claimed last: another process may have written for a long while since, and numbers that old may
    // have been pruned (free again).
    const hints = group.map((g) => g.hint).filter((h): h is number => h !== undefined);
    const head = hints.length === group.length ? Math.max(...hints) : await readHead(this.c, accountId);
    let next = Math.max(this.known.get(accountId) ?? 0, head) + 1;
    const outcomes: Claimed[] = [];
    let rest = group.map((g) => g.entry);
    // After a refusal that did not say which document it was, entries go one at a time.
    let oneByOne = false;
    while (rest.length > 0) {
      const docs = (oneByOne ? rest.slice(0, 1) : rest).map((entry, i) => ({ _id: streamEntryId(accountId, next + i), accountId, seq: next + i, ...entry }));
      try {
        // Ordered: the server stops at the first document it does not write, so what it wrote is a prefix.
        await this.c.entries.insertMany(docs, { ordered: true });
        outcomes.push(...docs.map((d) => ({ seq: d.seq })));
        next += docs.length;
        rest = rest.slice(docs.length);
      } catch (error) {
        const stop = stoppedAt(error);
        if (stop === undefined) {
          if (!(error instanceof MongoServerError)) throw error;
          if (docs.length > 1) {
            oneByOne = true;
            continue;
          }
        }
        const written = stop?.index ?? 0;
        outcomes.push(...docs.slice(0, written).map((d) => ({ seq: d.seq })));
        if (stop?.duplicate) {
          rest = rest.slice(written);
          // Past the number another process holds, or above the head if that is further: every number up
          // to the head is claimed, and a hint read before a wait may be well behind the other writers.
          next = Math.max(next + written + 1, (await readHead(this.c, accountId)) + 1);
        } else {
          // Refused: this entry fails, and the number it would have had is the next entry's.
          outcomes.push({ refused: error });
          rest = rest.slice(written + 1);
          next += written;
        }
      }
    }
    const last = outcomes.flatMap((o) => ('seq' in o ? [o.seq] : [])).at(-1);
    if (last !== undefined) this.known.set(accountId, last);
    return outcomes;
  }

  private async advanceHead(accountId: string, last: number): Promise<void> {
    // A hint: two of these racing may leave the smaller number, which only costs the next writer a probe.
    // Two first upserts racing: one inserts and the other collides on `_id`; its second try updates.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.c.heads.updateOne({ _id: accountId }, { $max: { seq: last } }, { upsert: true });
        return;
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= 3) throw error;
      }
    }
  }
}

interface Pending {
  entry: StreamEntry | NoticeEntry;
  hint: number | undefined;
  resolve: (seq: number) => void;
  reject: (error: unknown) => void;
}

/** An entry's outcome in a claim: its number, or the database's refusal of it. */
type Claimed = { seq: number } | { refused: unknown };

/**
 * Where an ordered insert stopped: the index of the document it did not write (all before it were),
 * and whether that was a duplicate `_id` (a number another writer holds) or a refusal of the document
 * itself. Undefined when the error does not say.
 */
function stoppedAt(error: unknown): { index: number; duplicate: boolean } | undefined {
  const raw = (error as { writeErrors?: { code?: number; index?: number } | { code?: number; index?: number }[] }).writeErrors;
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (typeof first?.index === 'number') return { index: first.index, duplicate: first.code === 11000 };
  if (isDuplicateKeyError(error) && (error as { index?: number }).index === undefined) {
    // A single-document insert's duplicate: nothing was written.
    return { index: 0, duplicate: true };
  }
  return undefined;
}

/**
 * Deletes an account's entries older than `before`, oldest first, by `_id` only (FerretDB scans the
 * collection for any other filter). Safe to run in several processes at once: deleting twice is
 * harmless. The newest entry is always kept, so the head never points below a pruned number.
 */
export async function pruneStream(c: StreamCollections, accountId: string, before: Date, batch = 200): Promise<number> {
  const head = await c.heads.findOne({ _id: accountId });
  if (!head) return 0;
  let next = (head.prunedTo ?? 0) + 1;
  let pruned = 0;
  while (next < head.seq) {
    const ids = Array.from({ length: Math.min(batch, head.seq - next) }, (_, i) => streamEntryId(accountId, next + i));
    const docs = await Promise.all(ids.map((_id) => c.entries.findOne({ _id }, { projection: { at: 1 } })));
    const old = docs.findIndex((d) => d !== null && d.at >= before);
    const count = old === -1 ? ids.length : old;
    if (count > 0) {
      await c.entries.bulkWrite(
        ids.slice(0, count).map((_id) => ({ deleteOne: { filter: { _id } } })),
        { ordered: false },
      );
      pruned += docs.slice(0, count).filter((d) => d !== null).length;
      next += count;
      await c.heads.updateOne({ _id: accountId }, { $max: { prunedTo: next - 1 } });
    }
    if (old !== -1) break;
  }
  return pruned;
}

/** How long entries are kept: SPEC promises 24 hours of `Last-Event-ID`; twice that leaves room. */
export const streamRetentionMs = 48 * 3600_000;

/**
 * Prunes every account's old entries now and then (FerretDB has no TTL index). Each worker process
 * runs one; they may overlap, which only deletes the same documents twice. Answers a stop function.
 */
export function startStreamPruner(c: StreamCollections, onError: (error: unknown) => void, everyMs = 3600_000): () => void {
  const run = async () => {
    try {
      // One document per account: small enough to read whole.
      for (const head of await c.heads.find({}, { projection: { _id: 1 } }).toArray()) {
        await pruneStream(c, head._id, new Date(Date.now() - streamRetentionMs));
      }
    } catch (error) {
      onError(error);
    }
  };
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
