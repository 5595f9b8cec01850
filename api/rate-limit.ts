import { isIP } from 'node:net';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Collection } from 'mongodb';
import type { Logger } from 'pino';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateSlotChunkDoc } from '../store/rate-slots';
import { claimRateSlotChunk, purgeRateSlotChunks } from '../store/rate-slots';
import type { Principal } from './auth';
import { bearerKeyOf, sessionHashOf } from './auth';
import { cookieOf, sessionCookieName } from './cookies';
import { ApiError, UnreadableBody } from './errors';
import { hashApiKey } from './keys';
import type { RateTier } from './slot-bucket';
import { SlotBucket, chunkSizeFor } from './slot-bucket';

export type { RateTier } from './slot-bucket';
export { parseRateTier } from './slot-bucket';

/**
 * SPEC section 12 "Rate limits": a token bucket per credential, and per client address for requests
 * without one. The design (why slots, why not RateLimiterMongo, what an outage does) is in api/DESIGN.md,
 * "Rate limits".
 */

/** User keys and browser sessions; service keys and the platform key; requests with no credential, per client address. */
export interface RateLimitSettings {
  user: RateTier;
  service: RateTier;
  anonymous: RateTier;
}

export type TierName = keyof RateLimitSettings;

/** SPEC section 12's defaults (RATE_LIMIT_USER, RATE_LIMIT_SERVICE, RATE_LIMIT_ANONYMOUS). */
export const defaultRateLimits: RateLimitSettings = {
  user: { rate: 50, burst: 100 },
  service: { rate: 500, burst: 1_000 },
  anonymous: { rate: 20, burst: 40 },
};

export type Verdict = { ok: true } | { ok: false; retryAfterMs: number };

/** How long a claim may take before this request is decided by the in-memory insurance instead. */
const claimTimeoutMs = 1_000;
/** After a failed or slow claim, the store is left alone this long (every request would wait on it otherwise). */
const storeRestMs = 5_000;
/** Buckets this process keeps in memory; the least recently used go first (their unused slots are lost, never doubled). */
const maxBuckets = 50_000;
/** Chunks are purged this long after their window passed, so processes whose clocks differ by less never claim one again. */
const purgeMarginMs = 60_000;
/** Claims one request may make or wait for when racing processes keep winning the chunk it tries. */
const maxClaimsPerRequest = 20;

interface LocalBucket {
  slots: SlotBucket;
  claiming: Promise<void> | undefined;
}

export class RateLimits {
  private readonly buckets = new Map<string, LocalBucket>();
  private readonly insurance: Record<TierName, BurstyRateLimiter>;
  private storeRestsUntil = 0;
  private readonly purge: NodeJS.Timeout;

  constructor(
    private readonly collection: Collection<RateSlotChunkDoc>,
    readonly settings: RateLimitSettings,
    private readonly log: Logger,
    private readonly refused: (tier: TierName) => void = () => undefined,
    private readonly clock: () => number = Date.now,
  ) {
    this.insurance = { user: insuranceFor(settings.user), service: insuranceFor(settings.service), anonymous: insuranceFor(settings.anonymous) };
    // FerretDB has no TTL indexes: every process deletes chunks whose slots all left their window.
    this.purge = setInterval(() => {
      purgeRateSlotChunks(this.collection, new Date(this.clock() - purgeMarginMs)).catch((error: unknown) => this.log.warn({ err: error }, 'rate-limit purge failed'));
    }, 60_000);
    this.purge.unref();
  }

  close(): void {
    clearInterval(this.purge);
  }

  /** Takes one token from the bucket `{tier}:{key}`. */
  async consume(tier: TierName, key: string): Promise<Verdict> {
    const verdict = await this.take(tier, key);
    if (!verdict.ok) this.refused(tier);
    return verdict;
  }

  private async take(tier: TierName, key: string): Promise<Verdict> {
    const id = `${tier}:${key}`;
    const local = this.bucketOf(id, tier);
    // The request is charged at its arrival: a claim that takes longer than a chunk lasts (a twentieth
    // of the burst's window, 100 ms for the defaults) must not age the slots it brings out of the window
    // of the requests that waited for it, or a slow store refuses every request it was asked for.
    const arrivedAt = this.clock();
    for (let claims = 0; claims < maxClaimsPerRequest; ) {
      const step = local.slots.step(arrivedAt);
      if (step.kind === 'admit') return { ok: true };
      if (step.kind === 'wait') return { ok: false, retryAfterMs: step.ms };
      if (this.clock() < this.storeRestsUntil) return this.insured(tier, id);
      // One claim at a time per bucket in this process: the others wait for it, then take its slots.
      // Rounds joined count as well as rounds started: no request waits on more than maxClaimsPerRequest claims.
      claims += 1;
      if (!local.claiming) {
        local.claiming = this.claim(id, local.slots, step.chunk, step.expiresAtMs).finally(() => (local.claiming = undefined));
      }
      if (!(await settledWithin(local.claiming, claimTimeoutMs))) {
        this.rest('a rate-limit claim took longer than 1 s');
        return this.insured(tier, id);
      }
    }
    return { ok: false, retryAfterMs: 1_000 };
  }

  private async claim(id: string, slots: SlotBucket, chunk: number, expiresAtMs: number): Promise<void> {
    try {
      slots.settle(chunk, await claimRateSlotChunk(this.collection, id, chunk, new Date(expiresAtMs)));
    } catch (error) {
      this.rest('a rate-limit claim failed', error);
    }
  }

  private rest(message: string, error?: unknown): void {
    if (this.clock() >= this.storeRestsUntil) this.log.warn({ err: error }, `${message}: limits are per process for ${storeRestMs / 1000} s`);
    this.storeRestsUntil = this.clock() + storeRestMs;
  }

  /** The store is away or slow: this process's own bucket decides, so the API keeps answering. */
  private async insured(tier: TierName, id: string): Promise<Verdict> {
    try {
      await this.insurance[tier].consume(id);
      return { ok: true };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return { ok: false, retryAfterMs: rejection.msBeforeNext };
      throw rejection;
    }
  }

  private bucketOf(id: string, tier: TierName): LocalBucket {
    const found = this.buckets.get(id);
    if (found) {
      this.buckets.delete(id);
      this.buckets.set(id, found);
      return found;
    }
    const { rate, burst } = this.settings[tier];
    const made: LocalBucket = { slots: new SlotBucket({ rate, burst, chunk: chunkSizeFor(burst) }), claiming: undefined };
    this.buckets.set(id, made);
    if (this.buckets.size > maxBuckets) this.buckets.delete(this.buckets.keys().next().value!);
    return made;
  }

  // --- what the HTTP layer calls ---

  /** Charges the request's client address once (later calls for the same request do nothing); throws 429 past it. */
  async chargeAddress(req: Request, res: Response): Promise<void> {
    if (chargedAlready(res)) return;
    await this.enforce(await this.consume('anonymous', clientAddress(req)));
  }

  /** Charges the credential the request was authenticated with: its key's or session's own bucket. */
  async chargePrincipal(req: Request, res: Response, principal: Principal): Promise<void> {
    if (chargedAlready(res)) return;
    const tier: TierName = principal.kind === 'user' ? 'user' : 'service';
    await this.enforce(await this.consume(tier, credentialOf(req, principal)));
  }

  private enforce(verdict: Verdict): Promise<void> {
    if (verdict.ok) return Promise.resolve();
    return Promise.reject(tooManyRequests(verdict.retryAfterMs));
  }

  /**
   * Before any body is read: a request with no credential is charged to its client address here. Requests
   * to /v1 with a key or session cookie are charged to that credential once it is authenticated (or to the
   * address if it is not: api/route.ts); webhook POSTs to the address only when unsigned or badly signed.
   */
  readonly beforeBodies: RequestHandler = (req, res, next) => {
    const credentialed = req.path.startsWith('/v1/') && (req.headers.authorization !== undefined || cookieOf(req, sessionCookieName) !== undefined);
    const webhookPost = req.method === 'POST' && req.path.startsWith('/webhooks/');
    if (credentialed || webhookPost) return next();
    this.chargeAddress(req, res).then(() => next(), next);
  };

  /**
   * A body that could not be read (item 6: 400 or 413) never reaches authentication: charged to the client
   * address, so a flood of bad bodies behind a made-up key is limited like anonymous requests.
   */
  readonly unreadableBodies: ErrorRequestHandler = (error, req, res, next) => {
    if (!(error instanceof UnreadableBody)) return next(error);
    this.chargeAddress(req, res).then(() => next(error), next);
  };

  /** Anything not charged yet by the time it reaches the 404/405 handlers (a /v1 path that is no route). */
  readonly uncharged: RequestHandler = (req, res, next) => {
    this.chargeAddress(req, res).then(() => next(), next);
  };
}

const charged = new WeakSet<Response>();
function chargedAlready(res: Response): boolean {
  if (charged.has(res)) return true;
  charged.add(res);
  return false;
}

export function tooManyRequests(retryAfterMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError({
    code: 'rate_limited',
    message: `too many requests; try again in ${seconds} s`,
    headers: { 'retry-after': String(seconds) },
  });
}

/**
 * Rate and burst with rate-limiter-flexible's fixed windows, for a process on its own (the store away):
 * `rate` points a second, and when those are spent `burst - rate` more per 10 s. It admits the burst at
 * once and about the rate after; across a window edge it may let twice a window's points through, which
 * is why it is only the insurance.
 */
function insuranceFor({ rate, burst }: RateTier): BurstyRateLimiter {
  return new BurstyRateLimiter(new RateLimiterMemory({ points: rate, duration: 1 }), new RateLimiterMemory({ points: Math.max(1, burst - rate), duration: 10 }));
}

/**
 * The bucket of an authenticated request: the hash of its bearer key or session token (the same hash the
 * database keys them by), the platform key's own, or for a stream ticket (single use) its user.
 */
function credentialOf(req: Request, principal: Principal): string {
  if (principal.kind === 'platform') return 'platform';
  const bearer = bearerKeyOf(req);
  if (bearer !== undefined) return hashApiKey(bearer);
  const session = sessionHashOf(req);
  if (session) return session;
  return principal.kind === 'user' ? `user/${principal.accountId}/${principal.userId}` : `service/${principal.accountId}/${principal.name}`;
}

/**
 * The client address a request is limited by: `req.ip`, which is the socket's peer unless `trust proxy`
 * (TRUST_PROXY) names proxies whose X-Forwarded-For to believe. IPv4-mapped IPv6 is the IPv4 address; an
 * IPv6 address counts by its /64, the smallest block one subscriber is given (else each of its 2^64
 * addresses would be a bucket of its own).
 */
export function clientAddress(req: Request): string {
  const ip = (req.ip ?? req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return isIP(ip) === 6 ? `${ipv6Prefix64(ip)}::/64` : ip;
}

/** The first four groups of an IPv6 address, expanded (`2001:db8::1` is `2001:db8:0:0`). */
export function ipv6Prefix64(ip: string): string {
  const [head = '', tail] = ip.split('%')[0]!.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailGroups];
  return groups
    .slice(0, 4)
    .map((g) => (g.includes('.') ? g : g.replace(/^0+(?=.)/, '').toLowerCase()))
    .join(':');
}

/** Resolves true once `promise` settles, false if `ms` passes first. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
