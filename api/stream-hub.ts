import type { Logger } from 'pino';
import type { PresenceOptions } from './presence-rule';
import type { StreamGuardOptions } from './stream-guard';
import { defaultPresenceOptions } from './presence-rule';
import type { StreamCollections, StreamEntryDoc, StreamNotice } from '../store/stream-log';
import { StreamAppender, readHead, streamEntryId } from '../store/stream-log';

export interface StreamHubOptions {
  /** How often an account with connected clients is asked for its next entry. */
  pollMs?: number;
  /** How long to wait after a failed read before asking again. */
  retryMs?: number;
  /** Entries kept in memory per account, so clients that reconnect soon read nothing from the database. */
  recent?: number;
  /** A comment line this often keeps proxies and load balancers from closing an idle stream. */
  heartbeatMs?: number;
  /** How presence follows the tabs whose streams this process holds, and its sweep (api/presence.ts). */
  presence?: Partial<PresenceOptions>;
  /** A `Last-Event-ID` more entries back than this gets `reset` instead of a replay (SPEC section 12). */
  maxCatchUp?: number;
  /** A client this many bytes behind (buffered, unsent) is disconnected (SPEC section 12). */
  maxBehindBytes?: number;
  /** The caps and re-checks of api/stream-guard.ts: STREAM_MAX_PER_USER, and how often credentials are re-read. */
  guard?: Partial<StreamGuardOptions>;
}

/** What a subscriber gets: entries in sequence order, or word that what it asked for is gone. */
export interface StreamSubscriber {
  entry(doc: StreamEntryDoc): void;
  /** The entries after the client's last one were pruned: it must reload what it shows. */
  reset(seq: number): void;
  /** The hub is closing (the process stops). */
  end(): void;
}

/**
 * One poller per account with connected clients, per API process: it reads the account's next entry
 * by `_id` every `pollMs` and hands it to every client of the account here. So 100 clients of one
 * account cost one point read per interval, and a client of any API process sees every entry, because
 * the database is the only source (store/STREAM.md).
 */
export class StreamHub {
  private readonly feeds = new Map<string, AccountFeed>();
  private readonly closers: (() => void)[] = [];
  private closed = false;
  /**
   * This process's writer of notices (read marks, presence). The same claim as the worker's batches
   * (insert of the account's next number, store/STREAM.md), so API processes and workers share one
   * dense, ordered log; an appender per process groups its own appends like the worker's.
   */
  readonly appender: StreamAppender;
  readonly pollMs: number;
  readonly retryMs: number;
  readonly recent: number;
  readonly heartbeatMs: number;
  readonly presence: PresenceOptions;
  readonly maxCatchUp: number;
  readonly maxBehindBytes: number;

  constructor(
    readonly c: StreamCollections,
    readonly log: Logger,
    options: StreamHubOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 100;
    this.retryMs = options.retryMs ?? 1_000;
    this.recent = options.recent ?? 512;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.presence = { ...defaultPresenceOptions, ...options.presence };
    this.maxCatchUp = options.maxCatchUp ?? 10_000;
    this.maxBehindBytes = options.maxBehindBytes ?? 1024 * 1024;
    this.appender = new StreamAppender(c, undefined, (error) => log.warn({ err: error }, 'stream head hint not written; the next append corrects it'));
  }

  /**
   * Appends a notice to the account's stream: every client of the account, on any API process, gets it.
   * Answers its sequence number.
   */
  publish(accountId: string, notice: StreamNotice): Promise<number> {
    return this.appender.append(accountId, { at: new Date(), notice });
  }

  /** Resolves once every notice published so far is written, head hints included (tests, shutdown). */
  settled(): Promise<void> {
    return this.appender.settled();
  }

  /** Runs `fn` when the hub closes (the process stops): for the process's periodic jobs tied to it. */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closers.push(fn);
  }

  /**
   * Delivers every entry after `after` (a sequence number; undefined: from now on) and then each new
   * one, until the returned function is called. Answers the sequence number the client is at.
   */
  async subscribe(accountId: string, after: number | undefined, subscriber: StreamSubscriber): Promise<{ at: number; unsubscribe: () => void }> {
    if (this.closed) throw new Error('the stream hub is closed');
    let feed = this.feeds.get(accountId);
    if (!feed) {
      feed = new AccountFeed(this, accountId);
      this.feeds.set(accountId, feed);
    }
    try {
      await feed.ready;
    } catch (error) {
      if (this.feeds.get(accountId) === feed) this.feeds.delete(accountId);
      throw error;
    }
    let cursor = after ?? feed.next - 1;
    // Replaying more than `maxCatchUp` entries costs the database and this process more than a reload
    // costs the client: it gets `reset` and goes on from now, as if what it missed had been pruned.
    if (feed.next - 1 - cursor > this.maxCatchUp) {
      cursor = feed.next - 1;
      subscriber.reset(cursor);
    }
    // Catch up from the database (or memory) until this client is where the poller is; then every
    // entry the poller reads reaches it. The check and the attach happen with no await between them.
    while (cursor + 1 < feed.next) {
      const upTo = Math.min(feed.next - 1, cursor + 32);
      const docs = await Promise.all(range(cursor + 1, upTo).map((seq) => feed.read(seq)));
      for (const doc of docs) {
        if (!doc) {
          cursor = feed.next - 1;
          subscriber.reset(cursor);
          break;
        }
        subscriber.entry(doc);
        cursor = doc.seq;
      }
    }
    const listener = (doc: StreamEntryDoc) => {
      if (doc.seq > cursor) {
        cursor = doc.seq;
        subscriber.entry(doc);
      }
    };
    const member = { listener, end: () => subscriber.end() };
    feed.members.add(member);
    const current = feed;
    return {
      at: cursor,
      unsubscribe: () => {
        current.members.delete(member);
        if (current.members.size === 0 && this.feeds.get(accountId) === current) {
          current.stop();
          this.feeds.delete(accountId);
        }
      },
    };
  }

  /** Ends every client's stream and stops polling: for a process that stops. */
  close(): void {
    this.closed = true;
    for (const fn of this.closers.splice(0)) fn();
    for (const feed of this.feeds.values()) {
      feed.stop();
      for (const member of feed.members) member.end();
    }
    this.feeds.clear();
  }

  /** The last entry of an account this process handed to its clients (0: none, or no client here): for tests and metrics. */
  handedOut(accountId: string): number {
    const feed = this.feeds.get(accountId);
    return feed ? feed.next - 1 : 0;
  }

  /** Accounts polled by this process, and their clients: for tests and metrics. */
  stats(): { accounts: number; clients: number } {
    let clients = 0;
    for (const feed of this.feeds.values()) clients += feed.members.size;
    return { accounts: this.feeds.size, clients };
  }
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

class AccountFeed {
  /** The next sequence number to read: every entry below it has been handed out. */
  next = 1;
  readonly members = new Set<{ listener: (doc: StreamEntryDoc) => void; end: () => void }>();
  readonly ready: Promise<void>;
  private readonly cache = new Map<number, StreamEntryDoc>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly hub: StreamHub,
    private readonly accountId: string,
  ) {
    this.ready = this.start();
    // A failed start is reported to the subscriber awaiting it; the feed is dropped for the next one.
    this.ready.catch(() => undefined);
  }

  private async start(): Promise<void> {
    this.next = (await readHead(this.hub.c, this.accountId)) + 1;
    // The head may lag: move past entries already written, without handing them to anyone.
    while (await this.fetch(this.next)) this.next++;
    this.schedule(this.hub.pollMs);
  }

  /** An entry by number, from memory when it is recent. */
  async read(seq: number): Promise<StreamEntryDoc | null> {
    return this.cache.get(seq) ?? this.fetch(seq);
  }

  private async fetch(seq: number): Promise<StreamEntryDoc | null> {
    const doc = await this.hub.c.entries.findOne({ _id: streamEntryId(this.accountId, seq) });
    if (doc) this.remember(doc);
    return doc;
  }

  private remember(doc: StreamEntryDoc): void {
    this.cache.set(doc.seq, doc);
    if (this.cache.size > this.hub.recent) this.cache.delete(this.cache.keys().next().value!);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    try {
      for (;;) {
        const doc = await this.fetch(this.next);
        if (!doc || this.stopped) break;
        this.next++;
        for (const member of this.members) member.listener(doc);
      }
      this.schedule(this.hub.pollMs);
    } catch (error) {
      this.hub.log.warn({ err: error, accountId: this.accountId }, 'stream poll failed; retrying');
      this.schedule(this.hub.retryMs);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
