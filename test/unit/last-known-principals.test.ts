import { LastKnownPrincipals } from '../../api/auth';
import type { Principal } from '../../api/auth';

describe('principals remembered for a MongoDB outage', () => {
  const service = (name: string): Principal => ({ kind: 'service', accountId: 'a', name, keyId: `key-${name}` });

  test('recalls a key seen within maxAgeMs, and not one seen longer ago', () => {
    let now = 0;
    const known = new LastKnownPrincipals(60_000, 10, () => now);
    known.remember('h1', service('one'));
    now = 60_000;
    expect(known.recall('h1')).toEqual(service('one'));
    now = 60_001;
    expect(known.recall('h1')).toBeUndefined();
    expect(known.recall('never')).toBeUndefined();
  });

  test('keeps at most maxEntries, dropping the least recently resolved', () => {
    const known = new LastKnownPrincipals(60_000, 2, () => 0);
    known.remember('h1', service('one'));
    known.remember('h2', service('two'));
    known.remember('h1', service('one again')); // resolved again: now the newest
    known.remember('h3', service('three'));
    expect(known.recall('h2')).toBeUndefined();
    expect(known.recall('h1')).toEqual(service('one again'));
    expect(known.recall('h3')).toEqual(service('three'));
  });

  test("does not recall a key past its own expiry (a rotation's grace period), nor one forgotten on revocation", () => {
    let now = 0;
    const known = new LastKnownPrincipals(60_000, 10, () => now);
    known.remember('rotated', service('old'), 1_000);
    known.remember('revoked', service('gone'));
    known.forget('revoked');
    expect(known.recall('rotated')).toEqual(service('old'));
    now = 1_000;
    expect(known.recall('rotated')).toBeUndefined();
    expect(known.recall('revoked')).toBeUndefined();
  });

  test('says whose a key was however long ago (where to look), while recall refuses it', () => {
    let now = 0;
    const known = new LastKnownPrincipals(60_000, 10, () => now);
    known.remember('h1', service('one'), 1_000);
    now = 120_000;
    expect(known.recall('h1')).toBeUndefined();
    expect(known.ownerOf('h1')).toEqual(service('one'));
    expect(known.ownerOf('never')).toBeUndefined();
  });

  test('lists what it could still recall, keys and sessions, for the re-check that forgets ended ones', () => {
    let now = 0;
    const known = new LastKnownPrincipals(60_000, 10, () => now);
    known.remember('k1', service('one'));
    known.remember('s1', service('two'), undefined, 'k1', 'session');
    now = 30_000;
    known.remember('k2', service('three'));
    now = 61_000;
    expect(known.remembered()).toEqual([{ hash: 'k2', principal: service('three'), credential: { kind: 'key', keyHash: 'k2' } }]);
    now = 30_000;
    expect(known.remembered().map((r) => r.credential)).toEqual([
      { kind: 'key', keyHash: 'k1' },
      { kind: 'session', sessionHash: 's1' },
      { kind: 'key', keyHash: 'k2' },
    ]);
  });
});
