import type { Collections } from '../store/collections';
import { userDocId } from '../store/collections';
import type { SessionOrigin } from '../store/sessions';
import { endOf } from '../store/sessions';
import type { Principal } from './auth';

/**
 * What a stream was opened with, kept beside its principal for as long as it is open (SPEC section 12):
 * the platform key (from the environment: it ends with the process's configuration), a user's or service's
 * API key (by hash), or a browser session (by hash). A stream opened with a ticket carries the credential
 * that minted the ticket.
 */
export type StreamCredential = { kind: 'platform' } | { kind: 'key'; keyHash: string } | { kind: 'session'; sessionHash: string };

/** Why the server ended a stream: sent as the stream's last event (`end`), docs in README "The account stream". */
export type StreamEndReason = 'key_revoked' | 'key_expired' | 'user_inactive' | 'session_ended' | 'too_slow' | 'server_stopping';

export const endMessages: Record<StreamEndReason, string> = {
  key_revoked: 'the API key this stream was opened with was revoked or rotated',
  key_expired: "the API key this stream was opened with was rotated and its grace period is over",
  user_inactive: 'this user is not active',
  session_ended: 'the session this stream was opened with was signed out or has ended',
  too_slow: 'the client fell more than 1 MiB behind',
  server_stopping: 'this API process is stopping: reconnect',
};

/** One open stream as the re-check sees it. */
export interface Watched {
  principal: Principal;
  credential: StreamCredential;
}

/** What the database says now about the credentials and users of some streams, by `_id`. */
export interface CredentialFacts {
  keys: Map<string, { expiresAt: number | undefined }>;
  sessions: Map<string, { end: number; origin: SessionOrigin; user: string }>;
  users: Map<string, { active: boolean; email: string | undefined }>;
}

/**
 * Whether a stream may stay open, from the facts: a pure rule, the same one `authenticate` applies to a
 * request (api/auth.ts), so a stream lives exactly as long as a request with its credential would pass.
 * Answers why it must end, or undefined.
 */
export function endReasonOf(watched: Watched, facts: CredentialFacts, now: number): Exclude<StreamEndReason, 'too_slow' | 'server_stopping'> | undefined {
  const { principal, credential } = watched;
  const keyEnd = (hash: string) => {
    const key = facts.keys.get(hash);
    if (!key) return 'key_revoked' as const;
    return key.expiresAt !== undefined && key.expiresAt <= now ? ('key_expired' as const) : undefined;
  };
  let userId = principal.kind === 'user' ? userDocId(principal.accountId, principal.userId) : undefined;
  switch (credential.kind) {
    case 'platform':
      break;
    case 'key': {
      const ended = keyEnd(credential.keyHash);
      if (ended) return ended;
      break;
    }
    case 'session': {
      const session = facts.sessions.get(credential.sessionHash);
      if (!session || session.end <= now) return 'session_ended';
      if (session.origin.kind === 'key' && keyEnd(session.origin.keyHash)) return 'session_ended';
      userId = session.user;
      if (session.origin.kind === 'oidc' && facts.users.get(userId)?.email !== session.origin.email) return 'session_ended';
      break;
    }
  }
  if (userId !== undefined && !facts.users.get(userId)?.active) return 'user_inactive';
  return undefined;
}

/**
 * Reads the facts for a set of streams: their sessions first (a session names a user and maybe a key),
 * then every key and user at once. Two round trips per re-check, however many streams: batched `$in`
 * reads, never one per stream.
 */
export async function readCredentialFacts(c: Pick<Collections, 'apiKeys' | 'users' | 'sessions'>, watched: Iterable<Watched>): Promise<CredentialFacts> {
  const keyHashes = new Set<string>();
  const sessionHashes = new Set<string>();
  const userIds = new Set<string>();
  for (const { principal, credential } of watched) {
    if (credential.kind === 'key') keyHashes.add(credential.keyHash);
    if (credential.kind === 'session') sessionHashes.add(credential.sessionHash);
    if (principal.kind === 'user') userIds.add(userDocId(principal.accountId, principal.userId));
  }
  const facts: CredentialFacts = { keys: new Map(), sessions: new Map(), users: new Map() };
  if (sessionHashes.size > 0) {
    for (const s of await c.sessions.find({ _id: { $in: [...sessionHashes] } }).toArray()) {
      const user = userDocId(s.accountId, s.userId);
      facts.sessions.set(s._id, { end: endOf(s), origin: s.origin, user });
      userIds.add(user);
      if (s.origin.kind === 'key') keyHashes.add(s.origin.keyHash);
    }
  }
  const [keys, users] = await Promise.all([
    keyHashes.size > 0 ? c.apiKeys.find({ _id: { $in: [...keyHashes] } }, { projection: { expiresAt: 1 } }).toArray() : [],
    userIds.size > 0 ? c.users.find({ _id: { $in: [...userIds] } }, { projection: { active: 1, email: 1 } }).toArray() : [],
  ]);
  for (const k of keys) facts.keys.set(k._id, { expiresAt: k.expiresAt ? k.expiresAt.getTime() : undefined });
  for (const u of users) facts.users.set(u._id, { active: u.active, email: u.email ?? undefined });
  return facts;
}
