import type { AccountDoc } from '../../store/collections';
import { collections } from '../../store/collections';
import { accountWithNewestPolicy, claimPolicyVersion, newestPolicy, policyVersionId, policyVersions } from '../../store/policy-versions';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { testServers } from '../support/test-servers';
import type { RacingClients } from './racing-clients';
import { race, racingClients } from './racing-clients';

/**
 * Policy changes against the embedded FerretDB, from racing clients on separate connections (as several
 * API processes): each version is claimed by exactly one change, and every reader sees the newest
 * claimed policy even when the account document's copy lags or was set back.
 */
describe('policy versions under racing writers', () => {
  const racers = 4;
  let clients: RacingClients;
  beforeAll(async () => {
    clients = await racingClients(testServers().mongoUri, racers, 'policy');
  });
  afterAll(async () => {
    await clients?.close();
  });
  const accounts = (i: number) => collections(clients.dbs[i]!).accounts;
  const versions = (i: number) => policyVersions(clients.dbs[i]!);
  const windows = ['1h', '2h', '3h', '4h'];

  test('of changes racing from one version, exactly one claims it; then every client reads that one', async () => {
    const accountId = 'racing';
    await accounts(0).insertOne({ _id: accountId, name: 'Racing', policy: { ...defaultPolicy, version: 0 }, createdAt: new Date() });
    for (let trial = 1; trial <= 60; trial++) {
      const base = (await accountWithNewestPolicy(accounts(0), versions(0), accountId))!.policy;
      expect(base.version).toBe(trial - 1);
      const proposals = windows.map((serviceWindow) => applyPolicyPatch(base, { serviceWindow }));
      const results = await race(proposals.map((policy, i) => () => claimPolicyVersion(accounts(i), versions(i), accountId, policy)));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' && r.value ? [i] : []));
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      expect(winners).toHaveLength(1);
      const won = proposals[winners[0]!]!;
      for (let i = 0; i < racers; i++) expect((await accountWithNewestPolicy(accounts(i), versions(i), accountId))!.policy).toEqual(won);
      // The account document's copy is the winner's too, so readers find it with one miss.
      expect((await accounts(0).findOne({ _id: accountId }))!.policy).toEqual(won);
    }
  });

  test("a version claimed by a writer that died before copying it, or a copy set back, is still what readers see, and the next change builds on it", async () => {
    const accountId = 'lagging';
    const v0 = { ...defaultPolicy, version: 0 };
    await accounts(0).insertOne({ _id: accountId, name: 'Lagging', policy: v0, createdAt: new Date() } satisfies AccountDoc);
    // The state a writer leaves when it dies between its claim and its copy.
    const v1 = applyPolicyPatch(v0, { serviceWindow: '1h' });
    await versions(0).insertOne({ _id: policyVersionId(accountId, 1), accountId, version: 1, policy: v1, createdAt: new Date() });
    expect(await newestPolicy(versions(1), accountId, v0)).toEqual(v1);
    const v2 = applyPolicyPatch((await accountWithNewestPolicy(accounts(1), versions(1), accountId))!.policy, { serviceWindow: '2h' });
    expect(v2.version).toBe(2);
    expect(await claimPolicyVersion(accounts(1), versions(1), accountId, v2)).toBe(true);
    // A late copy of version 1 lands after version 2's: readers still see version 2.
    await accounts(2).updateOne({ _id: accountId }, { $set: { policy: v1 } });
    expect((await accountWithNewestPolicy(accounts(3), versions(3), accountId))!.policy).toEqual(v2);
    // A change made from the stale version 1 loses: version 2 is taken.
    expect(await claimPolicyVersion(accounts(3), versions(3), accountId, applyPolicyPatch(v1, { serviceWindow: '3h' }))).toBe(false);
  });
});
