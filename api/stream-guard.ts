import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Logger } from 'pino';
import type { Collections } from '../store/collections';
import type { StreamOwner, StreamSubscriptionDoc } from '../store/stream-subscriptions';
import { claimStreamLease, ownerKey, purgeExpiredStreamLeases, purgeExpiredTickets, releaseStreamLease, renewStreamLeases } from '../store/stream-subscriptions';
import type { LastKnownPrincipals, Principal } from './auth';
import { ApiError } from './errors';
import type { StreamCredential, StreamEndReason, Watched } from './stream-credentials';
import { endMessages, endReasonOf, readCredentialFacts } from './stream-credentials';

export interface StreamGuardOptions {
  /** Streams open at once per user (or service key, or the platform key), across API processes: STREAM_MAX_PER_USER. */
  maxPerUser: number;
  /** How often this process re-reads the credentials of its open streams (revocation reaches them within this plus a read). */
  recheckMs: number;
  /** How long a stream's lease counts without renewal: a dead process's streams stop counting after it. */
  leaseMs: number;
  /** How often this process deletes expired leases and expired stream tickets. */
  sweepMs: number;
}

export const defaultStreamGuardOptions: StreamGuardOptions = { maxPerUser: 5, recheckMs: 2_000, leaseMs: 30_000, sweepMs: 60_000 };

/** An admitted stream: it is told when it must end, and releases its lease when it closes. */
export interface StreamAdmission {
  /** Called at most once, when the stream must end (its credential ended, or the process stops). */
  onEnd(fn: (reason: StreamEndReason) => void): void;
  /** The stream closed: forget it and free its place in the cap. */
  release(): void;
}

interface Open extends Watched {
  end: ((reason: StreamEndReason) => void) | undefined;
  /** Set when it was ended before the stream said how to end it. */
  endedWith?: StreamEndReason;
}

const ownerOf = (principal: Principal): StreamOwner =>
  principal.kind === 'platform' ? { kind: 'platform' } : principal.kind === 'user' ? { kind: 'user', accountId: principal.accountId, userId: principal.userId } : { kind: 'service', accountId: principal.accountId, name: principal.name };

/**
 * Every stream this API process holds, with its principal and credential (SPEC section 12):
 *
 * - every `recheckMs` one batched read of their keys, sessions and users (api/stream-credentials.ts)
 *   ends each stream whose credential a request would now be refused with: revoked, rotated past its
 *   grace, expired, its user deactivated, its session signed out or over. Through the database, so a
 *   revocation made through any API process reaches the streams of every one;
 * - a lease per stream in `stream_subscriptions` (store/stream-subscriptions.ts) caps the streams of one
 *   owner across processes, renewed here while the stream is open;
 * - every `sweepMs`, expired leases and expired stream tickets are deleted;
 * - the same re-check covers the principals this process remembers for a database outage
 *   (`LastKnownPrincipals`): one that ended is forgotten, so an outage never lets it in here.
 */
export class StreamGuard {
  /** This process, as its leases name it. */
  readonly process = randomUUID();
  private readonly open = new Map<string, Open>();
  private readonly timer: NodeJS.Timeout;
  private running = false;
  private lastRenew = 0;
  private lastSweep = 0;

  constructor(
    private readonly c: Pick<Collections, 'apiKeys' | 'users' | 'sessions' | 'stream'>,
    private readonly leases: Collection<StreamSubscriptionDoc>,
    private readonly log: Logger,
    readonly options: StreamGuardOptions = defaultStreamGuardOptions,
    /** This process's memory of principals for outages (api/auth.ts): re-checked with the streams, so it never recalls an ended credential. */
    private readonly lastKnown?: LastKnownPrincipals,
  ) {
    this.timer = setInterval(() => void this.tick(), options.recheckMs);
    this.timer.unref();
  }

  /**
   * Lets a stream open: its credential must still pass (401 otherwise: a ticket minted with a key revoked
   * since), and its owner must hold fewer than `maxPerUser` streams (429 `rate_limited` otherwise).
   */
  async admit(principal: Principal, credential: StreamCredential): Promise<StreamAdmission> {
    const watched: Open = { principal, credential, end: undefined };
    const ended = endReasonOf(watched, await readCredentialFacts(this.c, [watched]), Date.now());
    if (ended) throw new ApiError({ code: 'unauthenticated', message: endMessages[ended] });
    const owner = ownerKey(ownerOf(principal));
    const now = new Date();
    const id = `${owner}/${randomUUID()}`;
    const doc: StreamSubscriptionDoc = {
      _id: id,
      owner,
      accountId: principal.kind === 'platform' ? null : principal.accountId,
      process: this.process,
      openedAt: now,
      leaseUntil: new Date(now.getTime() + this.options.leaseMs),
    };
    if (!(await claimStreamLease(this.leases, doc, this.options.maxPerUser, now))) {
      throw new ApiError({ code: 'rate_limited', message: `at most ${this.options.maxPerUser} streams may be open at once per user: close one first` });
    }
    this.open.set(id, watched);
    let released = false;
    return {
      onEnd: (fn) => {
        watched.end = fn;
        if (watched.endedWith) fn(watched.endedWith);
      },
      release: () => {
        if (released) return;
        released = true;
        this.open.delete(id);
        releaseStreamLease(this.leases, id).catch((error: unknown) => this.log.warn({ err: error }, 'stream lease not released; it expires instead'));
      },
    };
  }

  /** Streams this process holds: for tests and metrics. */
  get size(): number {
    return this.open.size;
  }

  /** One re-check: renew leases when due, end the streams whose credential ended, sweep when due. */
  async tick(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    const step = async (what: string, fn: () => Promise<void>) => {
      // The database is unreachable or slow: streams stay as they are until the next re-check can tell.
      await fn().catch((error: unknown) => this.log.warn({ err: error }, `stream ${what} failed; the next one retries`));
    };
    try {
      await step('re-check', () => this.recheck(now));
      if (now - this.lastRenew >= this.options.leaseMs / 3) {
        this.lastRenew = now;
        await step('lease renewal', () => renewStreamLeases(this.leases, [...this.open.keys()], new Date(now + this.options.leaseMs)));
      }
      if (now - this.lastSweep >= this.options.sweepMs) {
        this.lastSweep = now;
        await step('sweep', async () => {
          await purgeExpiredStreamLeases(this.leases, this.options.leaseMs, new Date(now));
          await purgeExpiredTickets(this.c.stream.tickets, new Date(now));
        });
      }
    } finally {
      this.running = false;
    }
  }

  /** One batch of reads for the open streams and the remembered principals together. */
  private async recheck(now: number): Promise<void> {
    const snapshot = [...this.open.entries()];
    const remembered = this.lastKnown?.remembered() ?? [];
    if (snapshot.length === 0 && remembered.length === 0) return;
    const facts = await readCredentialFacts(this.c, [...snapshot.map(([, w]) => w), ...remembered]);
    for (const [id, watched] of snapshot) {
      const reason = endReasonOf(watched, facts, now);
      if (reason && this.open.get(id) === watched) this.end(id, watched, reason);
    }
    for (const r of remembered) if (endReasonOf(r, facts, now)) this.lastKnown!.forget(r.hash);
  }

  private end(id: string, watched: Open, reason: StreamEndReason): void {
    this.open.delete(id);
    this.log.info({ reason, principal: watched.principal }, 'stream ended by the server');
    watched.endedWith = reason;
    watched.end?.(reason);
    releaseStreamLease(this.leases, id).catch((error: unknown) => this.log.warn({ err: error }, 'stream lease not released; it expires instead'));
  }

  /** Stops re-checking (the process stops; the hub ends the streams themselves). */
  close(): void {
    clearInterval(this.timer);
  }
}
