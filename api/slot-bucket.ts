/**
 * A token bucket as distinct time slots (api/DESIGN.md, "Rate limits"), pure: no IO, no clock of its own.
 *
 * Time is cut into slots of 1/rate seconds; slot `k` starts at `k * 1000 / rate` ms. A request at time
 * `t` is admitted by taking one slot nobody took before, among the `burst` newest: `n - burst < k <= n`
 * where `n` is the slot of `t`. Admissions in any interval [t1, t2] then take distinct slots of
 * (n(t1) - burst, n(t2)], so they number at most `burst + rate * (t2 - t1) + 1`: the token bucket's
 * bound (capacity `burst`, refilled at `rate`), not a fixed window's (which lets twice the points
 * through across a window boundary).
 *
 * Slots are claimed from the shared store `chunk` at a time (one insert per chunk, insert-once: of
 * racing processes one wins it), and handed out from memory, so most requests make no round trip. A
 * process's partly used chunks are its own: tokens they strand are lost, never given twice, so the
 * bound holds across processes and a burst may come up to `chunk - 1` short per process.
 */
export interface BucketShape {
  /** Slots per second: the refill rate. */
  rate: number;
  /** How many of the newest slots may be taken: the bucket's capacity. */
  burst: number;
  /** Slots per claimed chunk. */
  chunk: number;
}

export type BucketStep =
  | { kind: 'admit' }
  /** No slot now: the earliest one this process could take starts in `ms`. */
  | { kind: 'wait'; ms: number }
  /** Claim `chunk` in the shared store, then `settle` it and step again. */
  | { kind: 'claim'; chunk: number; expiresAtMs: number };

/** Chunks of about a twentieth of the burst: one round trip per that many requests, at most that much stranded. */
export const chunkSizeFor = (burst: number): number => Math.max(1, Math.ceil(burst / 20));

export class SlotBucket {
  /** Claimed chunks' unused slots: [next, end). */
  private owned: { next: number; end: number }[] = [];
  /** The lowest chunk not known to be claimed by anyone. */
  private frontier = Number.NEGATIVE_INFINITY;

  constructor(readonly shape: BucketShape) {}

  slotAt(nowMs: number): number {
    return Math.floor((nowMs * this.shape.rate) / 1000);
  }

  private startOf(slot: number): number {
    return (slot * 1000) / this.shape.rate;
  }

  step(nowMs: number): BucketStep {
    const { burst, chunk } = this.shape;
    const n = this.slotAt(nowMs);
    const low = n - burst + 1;
    for (const o of this.owned) o.next = Math.max(o.next, low);
    this.owned = this.owned.filter((o) => o.next < o.end);
    const ready = this.owned.find((o) => o.next <= n);
    if (ready) {
      ready.next += 1;
      return { kind: 'admit' };
    }
    const next = Math.max(this.frontier, Math.floor(low / chunk));
    if (next * chunk <= n) {
      const lastSlot = next * chunk + chunk - 1;
      // The chunk's last slot leaves every window once the slot `burst` after it starts.
      return { kind: 'claim', chunk: next, expiresAtMs: Math.ceil(this.startOf(lastSlot + burst)) };
    }
    // Everything claimable starts later: this process's own next slot, or the next chunk.
    const earliest = Math.min(next * chunk, ...this.owned.map((o) => o.next));
    return { kind: 'wait', ms: Math.max(1, Math.ceil(this.startOf(earliest) - nowMs)) };
  }

  /** The store's answer to a claim: won, its slots are this process's; lost or won, nobody else may claim it. */
  settle(chunk: number, won: boolean): void {
    if (won) this.owned.push({ next: chunk * this.shape.chunk, end: (chunk + 1) * this.shape.chunk });
    this.frontier = Math.max(this.frontier, chunk + 1);
  }
}

/** A bucket's refill rate (requests per second) and capacity (its burst). */
export interface RateTier {
  rate: number;
  burst: number;
}

/** `"50/100"`: 50 per second, burst 100. Undefined when malformed or out of range. */
export function parseRateTier(text: string): RateTier | undefined {
  const match = /^\s*(\d{1,6})\s*\/\s*(\d{1,7})\s*$/.exec(text);
  if (!match) return undefined;
  const rate = Number(match[1]);
  const burst = Number(match[2]);
  // Slot numbers are the epoch's milliseconds times the rate: kept well inside safe integers.
  return rate >= 1 && rate <= 100_000 && burst >= 1 ? { rate, burst } : undefined;
}

