import type { Collection } from 'mongodb';

/**
 * Browser sessions (issue 22 item 14): a random token in an HttpOnly cookie, exchanged once for an API
 * key or won through the OpenID Connect provider. Like API keys, only the token's SHA-256 is stored.
 *
 * Writes, and why each holds on FerretDB (store/DESIGN.md):
 * - sign-in `insertOne` with the token's hash as `_id` (random, so never taken);
 * - sign-out, revocation, and a session found expired: `deleteOne` by `_id`. A session is never
 *   "marked revoked" with a `$set`: a revocation racing the idle-expiry refresh below would be two
 *   `$set`s of different fields of one document, and FerretDB loses one of them (a revocation lost in
 *   silence). An update racing a delete never brings the document back, so deletion always wins;
 * - the idle-expiry refresh: `$set: { idleExpiresAt }` by `_id`, at most once per `refreshEveryMs`.
 *   Two tabs refreshing at once write nearly the same time; the later write wins, which is what a
 *   refresh means.
 */

/** What the session was won with: a user's API key (it ends when that key does) or the OIDC provider. */
export type SessionOrigin =
  | { kind: 'key'; /** The `_id` of the key's ApiKeyDoc (its SHA-256): read on every request. */ keyHash: string }
  | { kind: 'oidc'; issuer: string; subject: string; /** The e-mail the user was matched by: a user whose e-mail changed is signed out. */ email: string };

export interface SessionDoc {
  _id: string; // sha256 hex of the token
  accountId: string;
  userId: string;
  origin: SessionOrigin;
  createdAt: Date;
  /** Absolute end, whatever the use. */
  expiresAt: Date;
  /** Ends earlier when unused for `idleMs`; moved forward as the session is used. */
  idleExpiresAt: Date;
  idleMs: number;
  /** The browser that signed in, as it said (shown in the list of one's sessions). */
  userAgent: string | null;
}

/**
 * A sign-in through the OIDC provider under way: what the callback needs to check the answer
 * (state, nonce, PKCE verifier). Insert-once by the hash of its `state`; the callback deletes it, so it
 * is used once (`deleteOne` reports 1 to exactly one of racing callbacks). Expired ones are purged.
 */
export interface OidcLoginDoc {
  _id: string; // sha256 hex of the state
  nonce: string;
  codeVerifier: string;
  /** `?account=` given at login: only users of this account are matched. */
  accountId: string | null;
  expiresAt: Date;
}

/** The two collections of this file, as `Collections` (store/collections.ts) holds them. */
export interface SessionCollections {
  sessions: Collection<SessionDoc>;
  oidcLogins: Collection<OidcLoginDoc>;
}

/**
 * How often a session in use moves its idle end forward: one write per session per minute (or per tenth
 * of its idle lifetime, if shorter), not one per request.
 */
export const refreshEveryMs = 60_000;

/** The session's end now: the earlier of its absolute and its idle end. */
export const endOf = (doc: Pick<SessionDoc, 'expiresAt' | 'idleExpiresAt'>): number => Math.min(doc.expiresAt.getTime(), doc.idleExpiresAt.getTime());

/** Moves the idle end forward when it is due; never past the absolute end. */
export async function touchSession(c: SessionCollections, doc: SessionDoc, now: number): Promise<void> {
  const next = Math.min(now + doc.idleMs, doc.expiresAt.getTime());
  if (next - doc.idleExpiresAt.getTime() < Math.min(refreshEveryMs, doc.idleMs / 10)) return;
  await c.sessions.updateOne({ _id: doc._id }, { $set: { idleExpiresAt: new Date(next) } });
}

/**
 * Deletes sessions and OIDC logins past their end (FerretDB has no TTL indexes): each API process runs
 * this hourly, like the idempotency purge; two running at once only delete the same documents.
 */
export async function purgeExpiredSessions(c: SessionCollections, now = new Date()): Promise<void> {
  await c.sessions.deleteMany({ $or: [{ expiresAt: { $lte: now } }, { idleExpiresAt: { $lte: now } }] });
  await c.oidcLogins.deleteMany({ expiresAt: { $lte: now } });
}
