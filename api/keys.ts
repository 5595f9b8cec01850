import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyDoc } from '../store/collections';

/** API keys: 32 random bytes, shown once; only their SHA-256 is stored. */
export function newApiKey(kind: 'user' | 'service'): string {
  return `cf_${kind === 'user' ? 'u' : 's'}_${randomBytes(32).toString('base64url')}`;
}

/**
 * A browser session's token (api/routes/sessions.ts): 32 random bytes, only ever in the session cookie;
 * like a key, only its SHA-256 is stored.
 */
export function newSessionToken(): string {
  return `cf_c_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Compares two secrets in time that depends on neither: both are hashed to 32-byte digests first, so
 * neither their content nor their lengths show (a plain timingSafeEqual must refuse unequal lengths
 * before it compares, which tells an attacker the length).
 */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** A key's public id: the first 16 hex digits of its hash, which name it without revealing anything usable. */
export const keyIdOf = (doc: Pick<ApiKeyDoc, '_id'>): string => doc._id.slice(0, 16);

/**
 * A service key's stable id: the id of the first key of its rotations (`lineage`), or its own for a key
 * nobody rotated into. Two service keys that share a name are two callers (their Idempotency-Keys never
 * collide); a rotated key stays the same caller, so a retry sent with the new key replays the first answer.
 */
export const serviceKeyIdOf = (doc: Pick<ApiKeyDoc, '_id' | 'lineage'>): string => doc.lineage ?? keyIdOf(doc);

/**
 * True when `given` equals one of `secrets` (a WhatsApp verify token against every channel's): each is
 * compared as sameSecret does, all of them with no early exit, so the time taken tells neither which
 * one matched nor any length. An empty secret matches nothing.
 */
export function matchesAnySecret(given: string, secrets: readonly string[]): boolean {
  let found = false;
  for (const secret of secrets) found = (sameSecret(given, secret) && secret.length > 0) || found;
  return found;
}
