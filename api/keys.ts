import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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

export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
