import type { Collection, Db } from 'mongodb';
import { insertNew } from './writes';

/**
 * The rate limiter's shared state (api/rate-limit.ts, api/DESIGN.md "Rate limits"): one document per
 * claimed chunk of a bucket's time slots. A claim is an insert of `{bucket}/{chunk}`: of racing API
 * processes exactly one wins it (insert-once, store/DESIGN.md), so no slot is ever handed out twice. A
 * counter (`$inc`, what RateLimiterMongo does) would lose increments on FerretDB and let racing
 * processes through together.
 */
export interface RateSlotChunkDoc {
  /** `{bucket}/{chunk index}`; the bucket names its tier and its credential's hash or client address. */
  _id: string;
  /** When every slot of the chunk has left the bucket's window: the purge deletes it after that. */
  expiresAt: Date;
}

export const rateSlotChunks = (db: Db): Collection<RateSlotChunkDoc> => db.collection<RateSlotChunkDoc>('rate_slot_chunks');

/** Claims a chunk; false when another process (or an earlier claim of this one) holds it. */
export function claimRateSlotChunk(collection: Collection<RateSlotChunkDoc>, bucket: string, chunk: number, expiresAt: Date): Promise<boolean> {
  return insertNew(collection, { _id: `${bucket}/${chunk}`, expiresAt });
}

/** Deletes chunks whose slots all left their window (FerretDB has no TTL indexes); deleting twice is harmless. */
export async function purgeRateSlotChunks(collection: Collection<RateSlotChunkDoc>, now: Date): Promise<number> {
  return (await collection.deleteMany({ expiresAt: { $lt: now } })).deletedCount;
}
