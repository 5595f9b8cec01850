import { MongoNetworkError } from 'mongodb';
import type { Stack } from '../support/stack';
import { untilPast } from '../support/stack';
import type { Account } from '../support/scenario';
import { createAccount, useStackWithAccount } from '../support/scenario';

/**
 * Issue 11 item 4: rank checks on user changes, the last active owner, listing, revoking and rotating
 * keys, and creating a user and its key so that a failure in between never leaves a user whose key
 * nobody has seen.
 */
describe('keys and roles', () => {
  const env = useStackWithAccount();
  let stack: Stack;
  let a: Account;
  beforeAll(() => ({ stack, account: a } = env));

  const conversations = (key: string) => stack.http.get(`/v1/accounts/${a.id}/conversations`, key);
  const addUser = async (id: string, role: string) => {
    const res = await stack.http.post(`/v1/accounts/${a.id}/users`, { id, name: id, role }, stack.platformKey);
    expect(res.status).toBe(201);
    return res.body.apiKey as string;
  };
  const del = (path: string, key: string) => stack.http.request('DELETE', path, { key });
  const userKeys = (userId: string) => `/v1/accounts/${a.id}/users/${userId}/keys`;

  describe('ranks', () => {
    test('an admin cannot deactivate, or change, an owner: 403 forbidden and the owner stays active', async () => {
      const deactivate = await stack.http.patch(`/v1/accounts/${a.id}/users/${a.users.owner}`, { active: false }, a.keys.admin);
      expect([deactivate.status, deactivate.body.error.code]).toEqual([403, 'forbidden']);
      expect((await stack.http.patch(`/v1/accounts/${a.id}/users/${a.users.owner}`, { maxConcurrent: 1 }, a.keys.admin)).status).toBe(403);
      expect((await conversations(a.keys.owner)).status).toBe(200);
    });

    test('supervisors act on users of a lower or equal rank', async () => {
      const otherAdmin = 'admin-peer';
      await addUser(otherAdmin, 'admin');
      expect((await stack.http.patch(`/v1/accounts/${a.id}/users/${otherAdmin}`, { teams: ['t1'] }, a.keys.admin)).status).toBe(200);
      expect((await stack.http.patch(`/v1/accounts/${a.id}/users/${a.users.manager}`, { teams: ['t1'] }, a.keys.admin)).status).toBe(200);
      // Presence: a manager sets an agent's, not an admin's.
      const presence = (userId: string, key: string) => stack.http.request('PUT', `/v1/accounts/${a.id}/users/${userId}/presence`, { key, body: { status: 'away' } });
      expect((await presence(a.users.agent, a.keys.manager)).status).toBe(200);
      expect((await presence(a.users.admin, a.keys.manager)).body.error?.code).toBe('forbidden');
    });

    test('the last active owner cannot be deactivated, by themself or by the platform: 409 conflict', async () => {
      const b = await createAccount(stack);
      const self = await stack.http.patch(`/v1/accounts/${b.id}/users/${b.users.owner}`, { active: false }, b.keys.owner);
      expect([self.status, self.body.error.code]).toEqual([409, 'conflict']);
      expect((await stack.http.patch(`/v1/accounts/${b.id}/users/${b.users.owner}`, { active: false }, stack.platformKey)).status).toBe(409);
      // With a second owner, one may go; the other is then the last.
      const second = await stack.http.post(`/v1/accounts/${b.id}/users`, { id: 'owner-2', name: 'o2', role: 'owner' }, b.keys.owner);
      expect(second.status).toBe(201);
      expect((await stack.http.patch(`/v1/accounts/${b.id}/users/${b.users.owner}`, { active: false }, second.body.apiKey)).status).toBe(200);
      expect((await stack.http.patch(`/v1/accounts/${b.id}/users/owner-2`, { active: false }, stack.platformKey)).status).toBe(409);
      expect((await stack.http.get(`/v1/accounts/${b.id}/conversations`, second.body.apiKey)).status).toBe(200);
    });
  });

  describe("a user's keys", () => {
    test('are listed by id and dates, never the key or its hash', async () => {
      const key = await addUser('lister', 'agent');
      const res = await stack.http.get(userKeys('lister'), a.keys.admin);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [{ id: expect.stringMatching(/^[0-9a-f]{16}$/), kind: 'user', userId: 'lister', name: 'lister', createdAt: expect.any(String), expiresAt: null }], nextCursor: null });
      expect(JSON.stringify(res.body)).not.toContain(key);
      // The user lists their own; another agent may not.
      expect((await stack.http.get(userKeys('lister'), key)).status).toBe(200);
      expect((await stack.http.get(userKeys('lister'), a.keys.agent2)).body.error.code).toBe('forbidden');
      expect((await stack.http.get(userKeys(a.users.owner), a.keys.admin)).body.error.code).toBe('forbidden');
    });

    test('a revoked key stops working at once', async () => {
      const key = await addUser('revoked', 'agent');
      expect((await conversations(key)).status).toBe(200);
      const [listed] = (await stack.http.get(userKeys('revoked'), a.keys.admin)).body.items;
      const res = await del(`${userKeys('revoked')}/${listed.id}`, a.keys.admin);
      expect(res.status).toBe(200);
      expect(res.body.key.id).toBe(listed.id);
      expect((await conversations(key)).status).toBe(401);
      expect((await del(`${userKeys('revoked')}/${listed.id}`, a.keys.admin)).status).toBe(404);
    });

    test("a deactivated user's key stops working at once, though this API process has seen it", async () => {
      const key = await addUser('deactivated', 'agent');
      expect((await conversations(key)).status).toBe(200);
      expect((await conversations(key)).status).toBe(200);
      expect((await stack.http.patch(`/v1/accounts/${a.id}/users/deactivated`, { active: false }, a.keys.admin)).status).toBe(200);
      expect((await conversations(key)).body.error.code).toBe('unauthenticated');
    });

    test('rotation shows the new key once and the old one stops at once', async () => {
      const old = await addUser('rotated', 'agent');
      const res = await stack.http.post(`${userKeys('rotated')}/rotate`, {}, old); // the user rotates their own
      expect(res.status).toBe(201);
      expect(res.body.apiKey).toMatch(/^cf_u_/);
      expect(res.body.previous).toHaveLength(1);
      expect((await conversations(old)).status).toBe(401);
      expect((await conversations(res.body.apiKey)).status).toBe(200);
      expect((await stack.http.get(userKeys('rotated'), res.body.apiKey)).body.items.map((k: { id: string }) => k.id)).toEqual([res.body.key.id]);
    });

    test('rotation with a grace period keeps the old key working until it ends', async () => {
      const old = await addUser('graceful', 'agent');
      const res = await stack.http.post(`${userKeys('graceful')}/rotate`, { gracePeriod: '2s' }, a.keys.admin);
      expect(res.status).toBe(201);
      expect(new Date(res.body.previous[0].expiresAt).getTime()).toBeGreaterThan(Date.now());
      expect((await conversations(old)).status).toBe(200);
      expect((await conversations(res.body.apiKey)).status).toBe(200);
      await untilPast(Date.parse(res.body.previous[0].expiresAt)); // the grace period's end, no margin
      expect((await conversations(old)).status).toBe(401);
      expect((await conversations(res.body.apiKey)).status).toBe(200);
      expect((await stack.http.post(`${userKeys('graceful')}/rotate`, { gracePeriod: '30d' }, a.keys.admin)).body.error.code).toBe('validation_failed');
    });

    test("an admin cannot rotate or revoke another admin's key (the rotation would answer a key acting as them); an owner can, as an admin can a manager's", async () => {
      const peerKey = await addUser('admin-keys-peer', 'admin');
      const rotate = (userId: string, key: string) => stack.http.post(`${userKeys(userId)}/rotate`, {}, key);
      const byPeer = await rotate('admin-keys-peer', a.keys.admin);
      expect([byPeer.status, byPeer.body.error?.code, byPeer.body.apiKey]).toEqual([403, 'forbidden', undefined]);
      const [listed] = (await stack.http.get(userKeys('admin-keys-peer'), a.keys.admin)).body.items; // listing stays allowed
      expect([(await del(`${userKeys('admin-keys-peer')}/${listed.id}`, a.keys.admin)).status]).toEqual([403]);
      expect((await stack.http.get('/v1/me', peerKey)).body).toMatchObject({ userId: 'admin-keys-peer', role: 'admin' });

      const byOwner = await rotate('admin-keys-peer', a.keys.owner);
      expect(byOwner.status).toBe(201);
      expect((await stack.http.get('/v1/me', byOwner.body.apiKey)).body.userId).toBe('admin-keys-peer');
      expect((await conversations(peerKey)).status).toBe(401);

      await addUser('manager-keys', 'manager');
      const managerRotated = await rotate('manager-keys', a.keys.admin);
      expect(managerRotated.status).toBe(201);
      const [managerKey] = (await stack.http.get(userKeys('manager-keys'), a.keys.admin)).body.items;
      expect((await del(`${userKeys('manager-keys')}/${managerKey.id}`, a.keys.admin)).status).toBe(200);
      expect((await conversations(managerRotated.body.apiKey)).status).toBe(401);
    });

    test("an admin cannot rotate or revoke an owner's key", async () => {
      expect((await stack.http.post(`${userKeys(a.users.owner)}/rotate`, {}, a.keys.admin)).status).toBe(403);
      const [ownerKey] = (await stack.http.get(userKeys(a.users.owner), a.keys.owner)).body.items;
      expect((await del(`${userKeys(a.users.owner)}/${ownerKey.id}`, a.keys.admin)).status).toBe(403);
      expect((await conversations(a.keys.owner)).status).toBe(200);
    });
  });

  describe('service keys', () => {
    test('are listed, rotated (with a grace period) and revoked by owners and admins', async () => {
      const created = await stack.http.post(`/v1/accounts/${a.id}/service-keys`, { name: 'rotating-backend' }, a.keys.admin);
      let sent = 0;
      const send = (key: string) =>
        stack.http.post(`/v1/accounts/${a.id}/messages`, { channel: 'wa-main', customer: '4915100000099', messageId: `wamid.k${++sent}`, text: 'hi' }, key);
      expect((await send(created.body.apiKey)).status).toBe(202);
      const list = await stack.http.get(`/v1/accounts/${a.id}/service-keys`, a.keys.owner);
      const listed = list.body.items.find((k: { name: string }) => k.name === 'rotating-backend');
      expect(listed).toEqual({ id: expect.any(String), kind: 'service', name: 'rotating-backend', createdAt: expect.any(String), expiresAt: null });
      expect(JSON.stringify(list.body)).not.toContain(created.body.apiKey);
      expect((await stack.http.get(`/v1/accounts/${a.id}/service-keys`, a.keys.manager)).status).toBe(403);

      const rotated = await stack.http.post(`/v1/accounts/${a.id}/service-keys/${listed.id}/rotate`, { gracePeriod: '1h' }, a.keys.admin);
      expect(rotated.status).toBe(201);
      expect(rotated.body).toMatchObject({ name: 'rotating-backend', apiKey: expect.stringMatching(/^cf_s_/) });
      expect((await send(created.body.apiKey)).status).toBe(202); // within its grace period
      expect((await send(rotated.body.apiKey)).status).toBe(202);

      expect((await del(`/v1/accounts/${a.id}/service-keys/${listed.id}`, a.keys.admin)).status).toBe(200);
      expect((await send(created.body.apiKey)).status).toBe(401);
      expect((await send(rotated.body.apiKey)).status).toBe(202);
    });
  });

  describe('creating a user and its key', () => {
    /** Makes the next `insertOne` on a collection fail as a dropped MongoDB connection would. */
    function failNextInsert(collection: 'users' | 'apiKeys') {
      const target = stack.apiDeps.collections[collection];
      const original = target.insertOne;
      target.insertOne = (async () => {
        target.insertOne = original;
        throw new MongoNetworkError('connection reset (test)');
      }) as never;
    }

    test.each(['apiKeys', 'users'] as const)('a failed %s write answers 503 and a retry creates the user with a working key', async (collection) => {
      const id = `retry-${collection.toLowerCase()}`;
      failNextInsert(collection);
      const first = await stack.http.post(`/v1/accounts/${a.id}/users`, { id, name: id, role: 'agent' }, stack.platformKey);
      expect([first.status, first.body.error.code]).toEqual([503, 'unavailable']);
      const retry = await stack.http.post(`/v1/accounts/${a.id}/users`, { id, name: id, role: 'agent' }, stack.platformKey);
      expect(retry.status).toBe(201);
      expect((await conversations(retry.body.apiKey)).status).toBe(200);
      expect((await stack.http.get(userKeys(id), stack.platformKey)).body.items).toHaveLength(1);
    });
  });
});
