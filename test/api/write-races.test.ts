import type { Account } from '../support/scenario';
import { newCustomer, useStackWithAccount } from '../support/scenario';
import type { Stack } from '../support/stack';

/**
 * Requests racing on one document, through the real API on the embedded FerretDB, whose updates are a
 * read and then a write of the whole document (store/DESIGN.md). Each test repeats its race and asserts
 * the guarantee after every trial; none asserts a timing.
 */
describe('racing requests on one document', () => {
  const env = useStackWithAccount();
  let stack: Stack;
  let a: Account;
  beforeAll(() => ({ stack, account: a } = env));
  const all = <T>(fns: (() => Promise<T>)[]) => Promise.all(fns.map((fn) => fn()));

  test('policy changes made from one version: one answers 200 per version, the others 409, and the stored policy is the newest answered', async () => {
    const windows = ['1h', '2h', '3h', '4h'];
    let version = (await stack.http.get(`/v1/accounts/${a.id}`, a.keys.owner)).body.policy.version as number;
    for (let trial = 0; trial < 12; trial++) {
      const answers = await all(windows.map((serviceWindow) => () => stack.http.patch(`/v1/accounts/${a.id}/policy`, { serviceWindow }, a.keys.owner)));
      expect(answers.every((r) => r.status === 200 || (r.status === 409 && r.body.error.code === 'conflict'))).toBe(true);
      const won = answers.filter((r) => r.status === 200).map((r) => r.body.policy);
      const versions = won.map((p) => p.version as number);
      // Never two answers for one version: each version names one policy.
      expect(new Set(versions).size).toBe(versions.length);
      expect(won.length).toBeGreaterThan(0);
      const newest = won.find((p) => p.version === Math.max(...versions))!;
      const stored = (await stack.http.get(`/v1/accounts/${a.id}`, a.keys.owner)).body.policy;
      expect(stored).toEqual(newest);
      expect(stored.version).toBe(version + won.length);
      version = stored.version;
    }
  });

  test('a deactivation racing a presence change: the user ends inactive and with the new presence', async () => {
    const userId = 'racer-1';
    const created = await stack.http.post(`/v1/accounts/${a.id}/users`, { id: userId, name: 'Racer', role: 'agent' }, a.keys.owner);
    expect(created.status).toBe(201);
    const user = `/v1/accounts/${a.id}/users/${userId}`;
    const statuses = ['online', 'away', 'offline'] as const;
    for (let trial = 0; trial < 15; trial++) {
      expect((await stack.http.patch(user, { active: true }, a.keys.owner)).status).toBe(200);
      const status = statuses[trial % statuses.length]!;
      const [deactivated, presence] = await all([
        () => stack.http.patch(user, { active: false, maxConcurrent: trial }, a.keys.owner),
        () => stack.http.request('PUT', `${user}/presence`, { key: a.keys.owner, body: { status } }),
      ]);
      expect([deactivated!.status, presence!.status]).toEqual([200, 200]);
      const listed = (await stack.http.get(`/v1/accounts/${a.id}/users`, a.keys.owner)).body.users.find((u: { id: string }) => u.id === userId);
      expect(listed).toMatchObject({ active: false, maxConcurrent: trial, presence: status });
      // And the deactivated user's key is refused.
      expect((await stack.http.get(`/v1/me`, created.body.apiKey)).status).toBe(401);
    }
  });

  test('two profile changes of one user racing: each change answered 200 is kept, the others answer 409, and a deactivation answered 200 holds', async () => {
    const userId = 'racer-2';
    const created = await stack.http.post(`/v1/accounts/${a.id}/users`, { id: userId, name: 'Racer two', role: 'agent' }, a.keys.owner);
    expect(created.status).toBe(201);
    const user = `/v1/accounts/${a.id}/users/${userId}`;
    for (let trial = 0; trial < 15; trial++) {
      expect((await stack.http.patch(user, { active: true }, a.keys.owner)).status).toBe(200);
      const changes = [{ active: false }, { teams: [`team-${trial}`] }, { maxConcurrent: trial + 1 }, { languages: [trial % 2 ? 'en' : 'de'] }];
      const answers = await all(changes.map((change) => () => stack.http.patch(user, change, a.keys.admin)));
      expect(answers.every((r) => r.status === 200 || (r.status === 409 && r.body.error.code === 'conflict'))).toBe(true);
      expect(answers.some((r) => r.status === 200)).toBe(true);
      const listed = (await stack.http.get(`/v1/accounts/${a.id}/users`, a.keys.owner)).body.users.find((u: { id: string }) => u.id === userId);
      changes.forEach((change, i) => {
        if (answers[i]!.status === 200) expect(listed).toMatchObject(change);
      });
      if (answers[0]!.status === 200) expect((await stack.http.get(`/v1/me`, created.body.apiKey)).status).toBe(401);
    }
  });

  test('two channels saved at once with one phone number id: at most one keeps it, and only a 200 keeps it', async () => {
    const config = (phoneNumberId: string) => ({ provider: 'whatsapp_cloud', phoneNumberId, accessToken: 'access-token-0123456789', appSecret: 'app-secret-0123456789', verifyToken: 'verify-token-0123456789' });
    for (let trial = 0; trial < 15; trial++) {
      const phoneNumberId = `1555019${String(trial).padStart(3, '0')}`;
      const channels = [`ch-${trial}-a`, `ch-${trial}-b`];
      const answers = await all(channels.map((channel) => () => stack.http.request('PUT', `/v1/accounts/${a.id}/channels/${channel}`, { key: a.keys.owner, body: config(phoneNumberId) })));
      expect(answers.every((r) => r.status === 200 || (r.status === 409 && r.body.error.code === 'conflict'))).toBe(true);
      const listed = (await stack.http.get(`/v1/accounts/${a.id}/channels`, a.keys.owner)).body.items as { channel: string; phoneNumberId?: string }[];
      const holders = listed.filter((c) => c.phoneNumberId === phoneNumberId).map((c) => c.channel);
      expect(holders.length).toBeLessThanOrEqual(1);
      expect(holders).toEqual(channels.filter((_, i) => answers[i]!.status === 200));
    }
  });

  test('the first saves of one new channel racing: every one answers 200, and the channel holds one of them', async () => {
    for (let trial = 0; trial < 15; trial++) {
      const channel = `first-${trial}`;
      const urls = [0, 1, 2, 3].map((i) => `https://backend.example/hook/${trial}/${i}`);
      const answers = await all(urls.map((url) => () => stack.http.request('PUT', `/v1/accounts/${a.id}/channels/${channel}`, { key: a.keys.owner, body: { provider: 'webhook', url, secret: 'webhook-secret-0123456789' } })));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const stored = (await stack.http.get(`/v1/accounts/${a.id}/channels/${channel}`, a.keys.owner)).body;
      expect(urls).toContain(stored.url);
    }
  });

  test('campaign sends to one new customer racing: every one is accepted, and the contact exists once, not contacted', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const customer = newCustomer();
      const answers = await all(
        [0, 1, 2, 3].map((i) => () => stack.http.post(`/v1/accounts/${a.id}/campaign-messages`, { campaignId: `race-${trial}-${i}`, channel: 'wa-main', customer, template: { name: 'news' } }, a.keys.service)),
      );
      expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202]);
      const contacts = await stack.db.collection('contacts').find({ _id: `${a.id}/wa-main/${customer}` as never }).toArray();
      expect(contacts).toHaveLength(1);
      expect(contacts[0]).toMatchObject({ contacted: false });
    }
  });
});
