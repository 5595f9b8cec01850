import fc from 'fast-check';
import type { CredentialFacts, StreamCredential, Watched } from '../../api/stream-credentials';
import { endReasonOf } from '../../api/stream-credentials';
import type { Principal } from '../../api/auth';
import { ownerKey } from '../../store/stream-subscriptions';

const now = 1_000_000;
const agent: Principal = { kind: 'user', accountId: 'a', userId: 'u', role: 'agent' };
const service: Principal = { kind: 'service', accountId: 'a', name: 'backend', keyId: 'key-backend' };
const key: StreamCredential = { kind: 'key', keyHash: 'k' };
const session: StreamCredential = { kind: 'session', sessionHash: 's' };

function facts(parts: { keys?: [string, number | undefined][]; sessions?: [string, CredentialFacts['sessions'] extends Map<string, infer V> ? V : never][]; users?: [string, boolean, string?][] }): CredentialFacts {
  return {
    keys: new Map((parts.keys ?? []).map(([id, expiresAt]) => [id, { expiresAt }])),
    sessions: new Map(parts.sessions ?? []),
    users: new Map((parts.users ?? []).map(([id, active, email]) => [id, { active, email }])),
  };
}

const liveUser: [string, boolean] = ['a/u', true];
const byKey = { end: now + 10, origin: { kind: 'key' as const, keyHash: 'k' }, user: 'a/u' };
const bySso = { end: now + 10, origin: { kind: 'oidc' as const, issuer: 'i', subject: 's', email: 'x@y' }, user: 'a/u' };

/** The rule a stream lives by is the rule a request passes by (api/auth.ts): one row per way it ends. */
describe('when an open stream must end', () => {
  test.each<[string, Watched, CredentialFacts, string | undefined]>([
    ['a live key of an active user', { principal: agent, credential: key }, facts({ keys: [['k', undefined]], users: [liveUser] }), undefined],
    ['a key rotated, still in its grace period', { principal: agent, credential: key }, facts({ keys: [['k', now + 1]], users: [liveUser] }), undefined],
    ['a revoked key (gone)', { principal: agent, credential: key }, facts({ users: [liveUser] }), 'key_revoked'],
    ['a key past its grace period', { principal: agent, credential: key }, facts({ keys: [['k', now]], users: [liveUser] }), 'key_expired'],
    ['a deactivated user', { principal: agent, credential: key }, facts({ keys: [['k', undefined]], users: [['a/u', false]] }), 'user_inactive'],
    ['a deleted user', { principal: agent, credential: key }, facts({ keys: [['k', undefined]] }), 'user_inactive'],
    ['a service key', { principal: service, credential: key }, facts({ keys: [['k', undefined]] }), undefined],
    ['a revoked service key', { principal: service, credential: key }, facts({}), 'key_revoked'],
    ['the platform key', { principal: { kind: 'platform' }, credential: { kind: 'platform' } }, facts({}), undefined],
    ['a live session opened with a live key', { principal: agent, credential: session }, facts({ sessions: [['s', byKey]], keys: [['k', undefined]], users: [liveUser] }), undefined],
    ['a signed-out session', { principal: agent, credential: session }, facts({ keys: [['k', undefined]], users: [liveUser] }), 'session_ended'],
    ['an expired session', { principal: agent, credential: session }, facts({ sessions: [['s', { ...byKey, end: now }]], keys: [['k', undefined]], users: [liveUser] }), 'session_ended'],
    ["a session whose key was revoked", { principal: agent, credential: session }, facts({ sessions: [['s', byKey]], users: [liveUser] }), 'session_ended'],
    ['a single sign-on session of a user with the same e-mail', { principal: agent, credential: session }, facts({ sessions: [['s', bySso]], users: [['a/u', true, 'x@y']] }), undefined],
    ["a single sign-on session of a user whose e-mail changed", { principal: agent, credential: session }, facts({ sessions: [['s', bySso]], users: [['a/u', true, 'z@y']] }), 'session_ended'],
    ['a session of a deactivated user', { principal: agent, credential: session }, facts({ sessions: [['s', byKey]], keys: [['k', undefined]], users: [['a/u', false]] }), 'user_inactive'],
  ])('%s', (_name, watched, given, expected) => {
    expect(endReasonOf(watched, given, now)).toBe(expected);
  });

  test('a stream lives only while its key, user and session all do (property)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.option(fc.integer({ min: now - 5, max: now + 5 }), { nil: undefined }), fc.boolean(), fc.boolean(), (keyThere, keyEnd, userActive, sessionThere) => {
        const given = facts({ keys: keyThere ? [['k', keyEnd]] : [], users: [['a/u', userActive]], sessions: sessionThere ? [['s', byKey]] : [] });
        const keyOk = keyThere && (keyEnd === undefined || keyEnd > now);
        expect(endReasonOf({ principal: agent, credential: key }, given, now) === undefined).toBe(keyOk && userActive);
        expect(endReasonOf({ principal: agent, credential: session }, given, now) === undefined).toBe(sessionThere && keyOk && userActive);
      }),
    );
  });
});

describe('whose streams count together', () => {
  test('a name with a slash never makes one owner a prefix of another', () => {
    const a = ownerKey({ kind: 'service', accountId: 'a', name: 'x/y' });
    const b = ownerKey({ kind: 'service', accountId: 'a', name: 'x' });
    expect(a.startsWith(`${b}/`)).toBe(false);
    expect(ownerKey({ kind: 'user', accountId: 'a', userId: 'u' })).not.toBe(ownerKey({ kind: 'service', accountId: 'a', name: 'u' }));
  });
});
