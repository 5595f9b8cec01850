import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { IdempotencyDoc } from '../store/collections';
import { insertNew } from '../store/collections';
import type { Principal } from './auth';
import { ApiError, errorBody, toApiError } from './errors';

/**
 * `Idempotency-Key` on every mutating route (issue 11, item 3), kept in MongoDB so it holds across a
 * conversation's continue-as-new (Temporal deduplicates an update id only within one run), across API
 * processes and restarts, for 24 hours from the first request.
 *
 * One record per (account, principal, key): `_id` = sha256 of the three. FerretDB has no transactions
 * and its filtered updates are not atomic, so every record has exactly one writer: the request whose
 * insert of a `pending` record succeeded (a duplicate insert fails with 11000). That request acts, then
 * writes the answer (status and body) into its own record by `_id`. Another request with the same key:
 * - same request fingerprint (method, path, body), answer stored: the first answer, replayed;
 * - same fingerprint, still pending: waits up to `waitMs` for the answer, then 409 `conflict` ("in
 *   progress"), so two concurrent requests never both act;
 * - another fingerprint: 409 `conflict` (the key names a different request; 409 rather than 422 because
 *   the SPEC's error codes stop at 409 `conflict`, and a client handles both the same way: a new key).
 * A 5xx answer is not stored: the owner deletes its pending record so a retry acts (the Workflow Update
 * id, which is still derived from the key, makes that retry land once within the run).
 *
 * A record nobody can finish (its API process died mid-request: pending for longer than `leaseMs`), or
 * one older than `retentionMs`, is dead. Its `_id` cannot be reused by a compare-and-set on FerretDB, so
 * the next request claims the next generation of the key (`<hash>.1`, `<hash>.2`, ...), again insert-once.
 * No TTL index either: answers older than 24 h are ignored, and `purgeExpiredIdempotency` (run hourly by
 * the API process) deletes them.
 *
 * An answer that holds a secret (a key shown once, a stream ticket: routes marked `answersSecret`) is
 * never stored in plaintext: it is sealed (AES-256-GCM) under a key derived (HKDF) from the caller's own
 * credential, the bearer key or session token, of which the database holds only a SHA-256. A retry with
 * the same credential gets the same answer (the same new key, not a second one); anyone reading the
 * database, or the same caller with another credential, cannot open it: the latter gets 409 `conflict`
 * and nothing acts again.
 */

export interface StoredAnswer {
  status: number;
  body: unknown;
  replayed: boolean;
}

export interface IdempotencyOptions {
  retentionMs: number;
  leaseMs: number;
  waitMs: number;
  pollMs: number;
  maxGenerations: number;
  clock: () => number;
}

export const defaultIdempotencyOptions: IdempotencyOptions = {
  retentionMs: 24 * 3_600_000,
  // Longer than any request can take (Temporal calls time out at 15 s; a broadcast waits 10 s).
  leaseMs: 2 * 60_000,
  waitMs: 10_000,
  pollMs: 100,
  maxGenerations: 8,
  clock: Date.now,
};

/**
 * Who is calling, as the idempotency scope and the Workflow Update id name them: the caller's identity,
 * never a name two callers may share. A user is their account and id (every key and session of theirs;
 * with the account, since routes without one in their path, `/v1/sessions/...`, are scoped by this alone);
 * a service key is its stable id (api/keys.ts serviceKeyIdOf: two keys named alike are two callers, a
 * rotated key the same one). Stable across key rotation.
 */
export function principalScope(principal: Principal): string {
  if (principal.kind === 'user') return `user:${principal.accountId}:${principal.userId}`;
  if (principal.kind === 'service') return `service:${principal.accountId}:${principal.keyId}`;
  return 'platform';
}

const keyPattern = /^[\x21-\x7e]{1,255}$/;

/** The header's value, checked: printable ASCII without spaces, 1-255 characters. */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!keyPattern.test(header)) throw new ApiError({ code: 'validation_failed', message: 'Idempotency-Key: 1-255 printable ASCII characters, no spaces' });
  return header;
}

export function recordIdOf(accountId: string, principal: string, key: string): string {
  return createHash('sha256').update(JSON.stringify([accountId, principal, key])).digest('hex');
}

/** What makes two requests "the same": method, path and body (key order ignored). */
export function fingerprintOf(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(JSON.stringify([method.toUpperCase(), path, canonical(body)])).digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export interface IdempotentRequest {
  accountId: string;
  principal: string;
  key: string;
  fingerprint: string;
  /** The caller's credential, for a route whose answer holds a secret: the answer is stored sealed under it. */
  sealWith?: string;
}

const sealInfo = 'convoflow idempotency answer v1';

function answerKey(credential: string, recordId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', credential, recordId, sealInfo, 32));
}

/** `text` encrypted for record `recordId` under `credential`: base64 of iv (12), tag (16), ciphertext. */
export function sealAnswer(credential: string, recordId: string, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', answerKey(credential, recordId), iv);
  cipher.setAAD(Buffer.from(recordId));
  const encrypted = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), encrypted]).toString('base64');
}

/** The text `sealAnswer` sealed, or undefined for another credential or record (or altered data). */
export function openAnswer(credential: string, recordId: string, sealed: string): string | undefined {
  try {
    const bytes = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', answerKey(credential, recordId), bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(recordId));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function replayOf(doc: IdempotencyDoc & { response: NonNullable<IdempotencyDoc['response']> }, request: IdempotentRequest): StoredAnswer {
  const { status, body, sealed } = doc.response;
  const text = !sealed ? body : request.sealWith === undefined ? undefined : openAnswer(request.sealWith, doc._id, body);
  if (text === undefined) {
    throw new ApiError({
      code: 'conflict',
      message:
        'this Idempotency-Key was used with another credential of yours (another key or a session), and its answer held a secret shown only to the credential that asked; nothing was done again: retry with that credential, or use a new Idempotency-Key',
    });
  }
  return { status, body: JSON.parse(text), replayed: true };
}

/**
 * Runs `act` at most once per (account, principal, key) within the retention, and answers every request
 * with that key with its first answer. `act` answers a status and body, or throws (a 4xx it throws is
 * stored as its error body and rethrown for the error handler to render the same way).
 */
export async function withIdempotency(
  collection: Collection<IdempotencyDoc>,
  request: IdempotentRequest,
  act: () => Promise<{ status: number; body: unknown }>,
  options: IdempotencyOptions = defaultIdempotencyOptions,
): Promise<StoredAnswer> {
  const base = recordIdOf(request.accountId, request.principal, request.key);
  const now = () => options.clock();
  let released = 0;
  for (let generation = 0; generation < options.maxGenerations; generation++) {
    const id = generation === 0 ? base : `${base}.${generation}`;
    const claimed = await insertNew(collection, {
      _id: id,
      accountId: request.accountId,
      principal: request.principal,
      fingerprint: request.fingerprint,
      state: 'pending',
      response: null,
      createdAt: new Date(now()),
    });
    if (claimed) return own(collection, id, act, request.sealWith);

    let doc = await collection.findOne({ _id: id });
    // Released between our insert and our read (its owner got a 5xx): claim it on the next pass.
    if (!doc) {
      generation -= released++ < 20 ? 1 : 0;
      continue;
    }
    if (isDead(doc, now(), options)) continue;
    if (doc.fingerprint !== request.fingerprint) {
      throw new ApiError({ code: 'conflict', message: 'Idempotency-Key was already used for a different request (method, path or body); use a new key' });
    }
    const waitUntil = now() + options.waitMs;
    while (doc && doc.state === 'pending' && !isDead(doc, now(), options) && now() < waitUntil) {
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
      doc = await collection.findOne({ _id: id });
    }
    if (doc?.state === 'done' && doc.response) return replayOf({ ...doc, response: doc.response }, request);
    if (!doc || isDead(doc, now(), options)) {
      // Released (5xx) while we waited: claim it; abandoned: the next generation.
      if (!doc) generation -= released++ < 20 ? 1 : 0;
      continue;
    }
    throw new ApiError({ code: 'conflict', message: 'a request with this Idempotency-Key is still in progress; retry shortly' });
  }
  throw new ApiError({ code: 'conflict', message: 'this Idempotency-Key was abandoned too many times; use a new key' });
}

function isDead(doc: IdempotencyDoc, now: number, options: IdempotencyOptions): boolean {
  const age = now - doc.createdAt.getTime();
  return age > options.retentionMs || (doc.state === 'pending' && age > options.leaseMs);
}

/** The one writer of record `id`: acts, then stores the answer (never a 5xx) by `_id`, sealed when `sealWith` is given. */
async function own(collection: Collection<IdempotencyDoc>, id: string, act: () => Promise<{ status: number; body: unknown }>, sealWith: string | undefined): Promise<StoredAnswer> {
  let answer: { status: number; body: unknown };
  try {
    answer = await act();
  } catch (error) {
    const apiError = toApiError(error);
    if (apiError.status >= 500) {
      await collection.deleteOne({ _id: id }).catch(() => undefined);
    } else {
      await store(collection, id, apiError.status, errorBody(apiError), sealWith);
    }
    throw error;
  }
  await store(collection, id, answer.status, answer.body, sealWith);
  return { ...answer, replayed: false };
}

async function store(collection: Collection<IdempotencyDoc>, id: string, status: number, body: unknown, sealWith: string | undefined): Promise<void> {
  // Stored as JSON text: the answer comes back byte for byte (FerretDB drops some nulls of nested documents).
  // If this write fails the action still happened; the record stays pending and a retry after the lease acts
  // again, landing once within the conversation's run through the Workflow Update id.
  const text = JSON.stringify(body ?? null);
  const response = sealWith === undefined ? { status, body: text } : { status, body: sealAnswer(sealWith, id, text), sealed: true };
  await collection
    .updateOne({ _id: id }, { $set: { state: 'done', response, answeredAt: new Date() } })
    .catch(() => undefined);
}

/** Deletes records past the retention (no TTL indexes on FerretDB): the API process runs it hourly. */
export async function purgeExpiredIdempotency(collection: Collection<IdempotencyDoc>, options: Pick<IdempotencyOptions, 'retentionMs' | 'leaseMs' | 'clock'> = defaultIdempotencyOptions): Promise<number> {
  const before = new Date(options.clock() - options.retentionMs - options.leaseMs);
  const result = await collection.deleteMany({ createdAt: { $lt: before } });
  return result.deletedCount;
}
