/**
 * Every conversation view `persist` stores is a "plain" row to the FerretDB top-N pushdown
 * (dev/ferretdb-pushdown/README.md) under the indexes FerretDB gets, so an inbox page reads only its page
 * from the index. The `tags` and `waitingSince` indexes (2026-12-06) made every view odd (an array in a
 * key; null in a sort key), and every page read the whole collection: 3 to 5 s a page at 10,000
 * conversations, no answer within 30 s at 100,000 (store/collections.ts `mongoOnlyIndexes`).
 */
import fc from 'fast-check';
import { storeIndexes } from '../../store/collections';
import { toView } from '../../workflows/conversation/core/view';
import { historyArb, policies, replay } from './lifecycle-arbitraries';

const conversationIndexes = storeIndexes({ onFerretDB: true }).filter(([collection]) => collection === 'conversations');

/** Why a stored view's field would make its row odd (the README's rule), or null when it is plain. */
function oddness(doc: Record<string, unknown>): string | null {
  for (const [, key, name] of conversationIndexes) {
    const keys = Object.keys(key);
    const sortKeys = keys.slice(-2);
    for (const field of keys) {
      const value = field === '_id' ? doc._id : doc[field];
      if (Array.isArray(value)) return `${name}: ${field} is an array`;
      if (typeof value === 'string' && /[ !\\<>&\u2028\u2029]/.test(JSON.stringify(value))) return `${name}: ${field} ${JSON.stringify(value)} needs escaping`;
      if (sortKeys.includes(field) && value !== undefined && typeof value !== 'boolean' && typeof value !== 'string') return `${name}: sort key ${field} is ${JSON.stringify(value)}`;
    }
  }
  return null;
}

describe('stored conversation views and the FerretDB pushdown', () => {
  test('on FerretDB no index has `tags` or `waitingSince`; MongoDB keeps both', () => {
    const keys = (indexes: typeof conversationIndexes) => indexes.flatMap(([, key]) => Object.keys(key));
    expect(keys(conversationIndexes)).not.toContain('tags');
    expect(keys(conversationIndexes)).not.toContain('waitingSince');
    expect(keys(storeIndexes({ onFerretDB: false }))).toEqual(expect.arrayContaining(['tags', 'waitingSince']));
  });

  test.each(policies)('under %s, every view a conversation with activity reaches is stored plain', (_name, policy) => {
    fc.assert(
      fc.property(historyArb, (history) => {
        replay(
          policy,
          history,
          ({ after }) => {
            // A conversation no message has reached has `lastActivityAt` null, an odd row: read on every
            // page, which costs little while there are few (the workflow starts with a message or a send).
            if (!after || after.lastActivityAt === null) return;
            const { id: _id, ...fields } = toView(after, policy);
            expect(oddness({ _id, ...fields })).toBeNull();
          },
          false,
        );
      }),
      { numRuns: 100 },
    );
  });
});
