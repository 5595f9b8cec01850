import { seededAtOpenRank, seededConversation } from '../../bench/phases/inbox';

/**
 * The inbox bench finds its deep-page anchor from the seed, not with a skip (which FerretDB answers by
 * sorting every open view in memory). The seed's shape decides which view is at a rank.
 */
describe('the inbox bench seed', () => {
  test('the rank-th open view, newest first, is the one the seed made open at that place', () => {
    // Statuses cycle open, open, open, assigned, assigned, closed: the open ones of 12 are 0-2 and 6-8.
    expect([0, 1, 2, 3, 4, 5].map((rank) => seededAtOpenRank(12, rank))).toEqual([8, 7, 6, 2, 1, 0]);
    expect(() => seededAtOpenRank(12, 6)).toThrow('no open view at rank 6 of 12');
    expect(seededAtOpenRank(10, 0)).toBe(8);
  });

  test('matches a sort of the seeded views by activity, newest first, at every rank', () => {
    const views = Array.from({ length: 60 }, (_, i) => seededConversation('acct', i) as { _id: string; status: string; lastActivityAt: string });
    const open = views.filter((v) => v.status === 'open').sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt) || b._id.localeCompare(a._id));
    open.forEach((view, rank) => expect(views[seededAtOpenRank(60, rank)]!._id).toBe(view._id));
  });
});
