/**
 * Issue 28: the inbox's tab counts kept as moves and packs (core/conversation-counts.ts), so the
 * `conversation-counts` route reads a pack and a short tail instead of every view of the account.
 */
import fc from 'fast-check';
import type { Bucket, ChainedMove } from '../../workflows/conversation/core/conversation-counts';
import { afterExistingMove, applyMoves, baselineBucket, bucketOf, bucketParts, isTransition, tabCounts } from '../../workflows/conversation/core/conversation-counts';
import type { Status } from '../../workflows/conversation/core/model';
import { toView } from '../../workflows/conversation/core/view';
import type { MoveStore } from '../../store/conversation-counts';
import { recordMoveWith } from '../../store/conversation-counts';
import { historyArb, policies, replay } from './lifecycle-arbitraries';

const statuses: Status[] = ['open', 'assigned', 'closed', 'in_flow', 'resolved', 'waiting', 'wrap_up', 'snoozed'];
const bucketArb: fc.Arbitrary<Bucket> = fc.oneof(
  fc.constant(null),
  fc.record({ status: fc.constantFrom(...statuses), assigneeId: fc.constantFrom(null, 'agent-a', 'agent-b') }).map(bucketOf),
);

describe('buckets', () => {
  test.each([
    [{ status: 'open' as const, assigneeId: null }, 'open/'],
    [{ status: 'assigned' as const, assigneeId: 'agent-a' }, 'assigned/agent-a'],
    [{ status: 'closed' as const, assigneeId: 'agent-a', archived: true }, null],
    [{ status: 'closed' as const, assigneeId: 'agent-a', archived: false }, 'closed/agent-a'],
    [null, null],
  ])('%j is in %j', (view, bucket) => expect(bucketOf(view)).toBe(bucket));

  test('a bucket gives back its status and assignee, whatever the assignee id holds', () => {
    fc.assert(
      fc.property(fc.constantFrom(...statuses), fc.option(fc.string({ minLength: 1 }), { nil: null }), (status, assigneeId) => {
        expect(bucketParts(bucketOf({ status, assigneeId })!)).toEqual({ status, assigneeId });
      }),
    );
  });

  test('only transitions can move a bucket: SLA warnings and breaches cannot', () => {
    expect(isTransition({})).toBe(true);
    expect(isTransition({ type: 'transition' })).toBe(true);
    expect(isTransition({ type: 'sla_warning' })).toBe(false);
    expect(isTransition({ type: 'sla_breached' })).toBe(false);
  });

  // `persist` skips the move's read when the bucket stays and the batch holds no transition: sound only
  // if every decision that changes the bucket records a transition.
  test.each(policies)('under %s, every decision that moves the bucket records a transition', (_name, policy) => {
    fc.assert(
      fc.property(historyArb, (history) => {
        replay(
          policy,
          history,
          ({ before, after, decision }) => {
            if (!after || !decision.ok) return;
            if (bucketOf(toView(before, policy)) === bucketOf(toView(after, policy))) return;
            expect(decision.effects.some((e) => e.type === 'recordEvent' && isTransition(e.event))).toBe(true);
          },
          false,
        );
      }),
      { numRuns: 150 },
    );
  });
});

describe('counts', () => {
  test('moves add to one bucket and take from another, in any order; archived and empty buckets are not listed', () => {
    expect(applyMoves({ 'open/': 2 }, [{ from: 'open/', to: 'assigned/a' }, { from: null, to: 'open/' }, { from: 'assigned/a', to: null }])).toEqual({ 'open/': 2 });
    expect(applyMoves({}, [{ from: 'open/', to: 'open/' }])).toEqual({});
    fc.assert(
      fc.property(fc.array(fc.record({ from: bucketArb, to: bucketArb })), fc.nat(), (moves, seed) => {
        const shuffled = [...moves].sort((a, b) => ((JSON.stringify(a).length * 31 + seed) % 7) - ((JSON.stringify(b).length * 31 + seed) % 7));
        expect(applyMoves({}, shuffled)).toEqual(applyMoves({}, moves));
      }),
    );
  });

  test('the tabs: per status, and the caller\'s own', () => {
    const counts = { 'open/': 3, 'assigned/agent-a': 2, 'assigned/agent-b': 1, 'snoozed/agent-a': 1 };
    expect(tabCounts(counts, 'agent-a')).toEqual([
      { status: 'assigned', count: 3, mine: 2 },
      { status: 'open', count: 3, mine: 0 },
      { status: 'snoozed', count: 1, mine: 1 },
    ]);
    expect(tabCounts(counts, null).map((t) => t.mine)).toEqual([0, 0, 0]);
    expect(tabCounts({}, 'agent-a')).toEqual([]);
  });
});

describe('a conversation\'s chain of moves', () => {
  const move = (from: Bucket, to: Bucket, fromVersion: number, toVersion: number): ChainedMove => ({ from, to, fromVersion, toVersion });

  test.each([
    ['the stored move reaches the wanted version: nothing more', move('open/', 'assigned/a', 3, 5), move('open/', 'closed/a', 3, 5), null],
    ['it reaches past it (a later, larger batch): nothing more', move('open/', 'assigned/a', 3, 4), move('open/', 'closed/a', 3, 6), null],
    ['it stopped short: from where it ended', move('open/', 'closed/a', 3, 7), move('open/', 'assigned/a', 3, 5), move('assigned/a', 'closed/a', 5, 7)],
    ['it stopped short where the batch ends up: look further on', move('open/', 'assigned/a', 3, 7), move('open/', 'assigned/a', 3, 5), move('assigned/a', 'assigned/a', 5, 7)],
  ])('%s', (_name, wanted, existing, next) => expect(afterExistingMove(wanted, existing)).toEqual(next));

  /** An in-memory store of moves with `insertNew`'s contract. */
  const memoryStore = () => {
    const moves = new Map<string, ChainedMove>();
    const store: MoveStore = {
      insert: async ({ _id, ...doc }) => (moves.has(_id) ? false : (moves.set(_id, doc), true)),
      find: async (_id) => moves.get(_id) ?? null,
    };
    return { moves, store };
  };

  /**
   * A conversation through versions 1..K (bucket `buckets[i]`; 0 is "no view yet"), flushed by batches the
   * way the workflow flushes them: an attempt reads the stored view, records its move as `persist` does,
   * and then either writes the view or dies first; after a death the batch is retried, possibly larger
   * (a workflow task retried with more signals). Whatever the deaths, the moves add up to the conversation's
   * one bucket at the end.
   */
  test('deaths between the move and the view neither lose nor double a move', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(bucketArb, { minLength: 1, maxLength: 12 }), fc.array(fc.boolean(), { maxLength: 13 }), fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), async (later, extraTransitions, choices) => {
        const buckets: Bucket[] = [null, ...later];
        const last = buckets.length - 1;
        let c = 0;
        const pick = (n: number) => choices[c++ % choices.length]! % n;
        const { moves, store } = memoryStore();
        let stored = 0;
        const hasTransition = (from: number, to: number) => {
          for (let v = from + 1; v <= to; v++) if (buckets[v] !== buckets[v - 1] || extraTransitions[v]) return true;
          return false;
        };
        for (let deaths = 0; stored < last; ) {
          let target = stored + 1 + pick(last - stored);
          for (;;) {
            // `persist`'s countMove, from the view it read.
            const wanted = move(buckets[stored]!, buckets[target]!, stored, target);
            if (wanted.from !== wanted.to || hasTransition(stored, target)) await recordMoveWith(store, 'conv-1', wanted);
            if (deaths < 30 && pick(3) === 0) {
              deaths++;
              target += pick(last - target + 1);
              continue;
            }
            stored = target;
            break;
          }
        }
        const final = buckets[last]!;
        expect(applyMoves({}, moves.values())).toEqual(final === null ? {} : { [final]: 1 });
      }),
      { numRuns: 500 },
    );
  });

  /**
   * An account that had conversations before the moves were kept: the backfill scans each view at some
   * point of its history (moves are kept from version `keptFrom` on) and counts it where its chain
   * starts; the baseline plus every move is where the conversations are.
   */
  test('the baseline plus the moves is every conversation where it is, wherever the scan fell', () => {
    const conversation = fc.record({
      buckets: fc.array(bucketArb, { minLength: 1, maxLength: 10 }),
      keptFrom: fc.nat(),
      scannedAt: fc.nat(),
      createdSince: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(conversation, { maxLength: 8 }), (conversations) => {
        let baseline = {};
        const moves: ChainedMove[] = [];
        const expected: ChainedMove[] = [];
        for (const conv of conversations) {
          const buckets: Bucket[] = [null, ...conv.buckets];
          const last = buckets.length - 1;
          // Created since the moves are kept: its first move is from version 0.
          const keptFrom = conv.createdSince ? 0 : 1 + (conv.keptFrom % last);
          const convMoves: ChainedMove[] = [];
          for (let v = keptFrom; v < last; v++) if (buckets[v] !== buckets[v + 1]) convMoves.push(move(buckets[v]!, buckets[v + 1]!, v, v + 1));
          // The scan reads a version written after the moves were kept from (every worker writes them).
          const scanned = Math.max(1, keptFrom) + (conv.scannedAt % (last - Math.max(1, keptFrom) + 1));
          const first = convMoves[0];
          baseline = applyMoves(baseline, [{ from: null, to: baselineBucket({ version: scanned, bucket: buckets[scanned]! }, first) }]);
          moves.push(...convMoves);
          expected.push(move(null, buckets[last]!, 0, last));
        }
        expect(applyMoves(baseline, moves)).toEqual(applyMoves({}, expected));
      }),
      { numRuns: 500 },
    );
  });
});
