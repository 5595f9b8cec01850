import type { UserDoc } from '../../store/collections';
import { collections } from '../../store/collections';
import { claimUserRevision, newestProfile, userRevisionId, userRevisions } from '../../store/user-revisions';
import { testServers } from '../support/test-servers';
import type { RacingClients } from './racing-clients';
import { race, racingClients } from './racing-clients';

/** Profile changes of one user from racing clients on separate connections (as several API processes). */
describe('user profile revisions under racing writers', () => {
  const racers = 4;
  let clients: RacingClients;
  beforeAll(async () => {
    clients = await racingClients(testServers().mongoUri, racers, 'users');
  });
  afterAll(async () => {
    await clients?.close();
  });
  const users = (i: number) => collections(clients.dbs[i]!).users;
  const revisions = (i: number) => userRevisions(clients.dbs[i]!);
  const fresh = (userId: string): UserDoc => ({
    _id: `acct/${userId}`,
    accountId: 'acct',
    userId,
    name: userId,
    role: 'agent',
    active: true,
    teams: [],
    languages: [],
    maxConcurrent: null,
    createdAt: new Date(),
  });
  const read = async (i: number, id: string) => newestProfile(revisions(i), (await users(i).findOne({ _id: id }))!);

  test('of changes racing from one revision, exactly one is claimed, and the user document then holds it', async () => {
    const user = fresh('racing');
    await users(0).insertOne(user);
    for (let trial = 1; trial <= 50; trial++) {
      const base = await read(0, user._id);
      expect(base.rev ?? 0).toBe(trial - 1);
      const proposals = Array.from({ length: racers }, (_, i) => ({ ...base, teams: [`t${trial}-${i}`], active: i % 2 === 0, rev: trial }));
      const results = await race(proposals.map((p, i) => () => claimUserRevision(users(i), revisions(i), p)));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' && r.value ? [i] : []));
      expect(winners).toHaveLength(1);
      const won = proposals[winners[0]!]!;
      const stored = (await users(1).findOne({ _id: user._id }))!;
      expect({ teams: stored.teams, active: stored.active, rev: stored.rev }).toEqual({ teams: won.teams, active: won.active, rev: trial });
    }
  });

  test('a revision claimed by a writer that died before copying it is what the next change builds on', async () => {
    const user = fresh('lagging');
    await users(0).insertOne(user);
    await revisions(0).insertOne({ _id: userRevisionId(user._id, 1), userDocId: user._id, rev: 1, profile: { name: 'lagging', active: false, teams: ['a'], languages: [], maxConcurrent: null, rev: 1 }, at: new Date() });
    const newest = await read(1, user._id);
    expect(newest).toMatchObject({ active: false, teams: ['a'], rev: 1 });
    expect(await claimUserRevision(users(1), revisions(1), { ...newest, maxConcurrent: 3, rev: 2 })).toBe(true);
    expect(await users(2).findOne({ _id: user._id })).toMatchObject({ active: false, teams: ['a'], maxConcurrent: 3, rev: 2 });
    // A change made from the stale copy's revision loses: revision 1 is taken.
    expect(await claimUserRevision(users(3), revisions(3), { ...user, teams: ['b'], rev: 1 })).toBe(false);
  });
});
