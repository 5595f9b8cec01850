import fc from 'fast-check';
import { Binary, BSON, BSONRegExp, MongoClient, ObjectId } from 'mongodb';
import type { Db, Document, Filter, Sort } from 'mongodb';
import { ensureIndexes } from '../../store/collections';
import { startOwnFerretDB, testServers } from '../support/test-servers';
import type { OwnFerretDB } from '../support/test-servers';

/**
 * The ordered top-N pushdown of our FerretDB build (dev/ferretdb-pushdown/) against FerretDB's own
 * evaluation of the same query (the same build with `--test-disable-pushdown`: every document read and
 * decoded, filtered, sorted and limited in Go) on the same generated documents, for every find with a sort
 * and a limit that the API issues. The documents hold what the pushdown must get right: arrays (an
 * equality matches an element), missing fields, null, Date vs number vs string vs ObjectId vs bool in the
 * sort keys, strings whose JSON text sorts unlike the string (spaces, `!`, escaped characters), ties.
 */

const missing = Symbol('missing');
type Field = unknown;

// Values the queries ask for (acc1, open, u1, wa1) too, so that arrays and odd types can match them.
const strings = ['a', 'b', 'ab', 'a b', 'a!', 'a<', 'a"b', 'a\\b', 'é', '\u2028', '', 'acc1', 'open', 'u1', 'wa1', '0123456789abcdef01234567'];
const isoTimes = ['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:01.000Z', '2025-01-02T00:00:00.000Z', '2025-01-02T00:00:00.000Z '];
const scalar: fc.Arbitrary<Field> = fc.oneof(
  fc.constantFrom(...strings, ...isoTimes),
  fc.integer({ min: -2, max: 3 }),
  fc.constantFrom(1.5, -0.5),
  fc.constantFrom(new Date(0), new Date(Date.UTC(2025, 0, 1))),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(new ObjectId('0123456789abcdef01234567'), new ObjectId('fedcba987654321001234567')),
  // Stored as JSON strings too (base64, the pattern): only the document's schema tells them from strings.
  fc.constantFrom(new Binary(Buffer.from('acc1')), new BSONRegExp('acc1'), new BSONRegExp('2025-01-02T00:00:00.000Z')),
);
/** Any value a field may hold: mostly scalars, sometimes an array or an object. */
const anyValue: fc.Arbitrary<Field> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 2, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: scalar.map((x) => ({ x })) },
);
/** What the workflows write (usually), or an array holding it, or anything, or nothing. */
const field = (usual: fc.Arbitrary<Field>) =>
  fc.oneof(
    { weight: 6, arbitrary: usual },
    { weight: 1, arbitrary: fc.tuple(usual, fc.array(scalar, { maxLength: 2 })).map(([v, rest]) => [...rest, v]) },
    { weight: 3, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.constant(missing) },
  );

const accounts = ['acc1', 'acc1', 'acc1', 'acc2'];
const statuses = ['open', 'assigned', 'closed'];
const ids = ['acc1/c1', 'acc1/c2', 'acc1/c3', 'acc1/c10', 'acc1/c 4', 'acc1/c!5', 'acc1/c<6', 'acc2/c1', 'acc2/c2'];
const idArb: fc.Arbitrary<Field> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ids) },
  // Not a Date: FerretDB's unique index sees Date(0) and 0 as the same `_id` (both are stored as the number 0).
  { weight: 2, arbitrary: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(null), fc.boolean(), fc.constant(new ObjectId('0123456789abcdef01234567'))) },
);
/** `_id`s are unique by their value. */
const uniqueIds = fc.uniqueArray(idArb, { minLength: 5, maxLength: 40, selector: (v) => BSON.EJSON.stringify({ v }) });

const conversation = (id: Field) =>
  fc
    .record({
      accountId: field(fc.constantFrom(...accounts)),
      status: field(fc.constantFrom(...statuses)),
      archived: field(fc.boolean()),
      tags: field(fc.array(fc.constantFrom('vip', 'billing', 'a b'), { maxLength: 2 })),
      channel: field(fc.constantFrom('wa1', 'wa2')),
      assigneeId: field(fc.constantFrom('u1', 'u2', null)),
      lastActivityAt: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...isoTimes) }, { weight: 1, arbitrary: field(fc.constantFrom(...isoTimes, null)) }),
    })
    .map((fields) => withoutMissing({ _id: id, ...fields }));

const contact = (id: Field) =>
  fc.record({ accountId: field(fc.constantFrom(...accounts)), contacted: field(fc.boolean()) }).map((fields) => withoutMissing({ _id: id, ...fields }));

function withoutMissing(doc: Record<string, Field>): Document {
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== missing));
}

type Query = { collection: 'conversations' | 'contacts'; filter: Record<string, unknown>; sort: Sort; limit: number; skip?: number };

/** An optional filter: absent two times in three, so that pages have documents to show. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const someString = fc.constantFrom(...strings, ...isoTimes, ...ids, ...accounts, ...statuses);
const limit = fc.integer({ min: 1, max: 10 });

/**
 * GET /v1/accounts/{accountId}/conversations (api/routes/conversations.ts): every optional filter, and a
 * cursor, mostly the sort keys of a stored conversation (what a next-page cursor holds), so ties occur.
 */
const inboxQuery = (docs: Document[]): fc.Arbitrary<Query> => {
  const stored = docs.map((d) => ({ a: d.lastActivityAt as unknown, i: d._id as unknown }));
  const cursor = fc.oneof(
    ...(stored.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...stored) }] : []),
    { weight: 1, arbitrary: fc.record({ a: fc.oneof(fc.constantFrom(...isoTimes), someString, fc.constant(null)), i: fc.oneof(fc.constantFrom(...ids), someString) }) },
  );
  return fc
  .record({
    accountId: fc.oneof(fc.constantFrom(...accounts), someString),
    status: sometimes(fc.oneof(fc.constantFrom(...statuses), someString)),
    archived: fc.constantFrom<'true' | 'false' | 'any'>('true', 'false', 'any'),
    tag: sometimes(fc.constantFrom('vip', 'billing', 'a b')),
    channel: sometimes(fc.constantFrom('wa1', 'wa2', 'a<')),
    assignee: sometimes(fc.constantFrom('u1', 'u2')),
    cursor: sometimes(cursor),
    limit,
  })
  .map((q) => {
    const filter: Record<string, unknown> = { accountId: q.accountId };
    if (q.status !== undefined) filter.status = q.status;
    if (q.archived !== 'any') filter.archived = q.archived === 'true' ? true : { $ne: true };
    if (q.tag !== undefined) filter.tags = q.tag;
    if (q.channel !== undefined) filter.channel = q.channel;
    if (q.assignee !== undefined) filter.assigneeId = q.assignee;
    if (q.cursor) filter.$or = [{ lastActivityAt: { $lt: q.cursor.a } }, { lastActivityAt: q.cursor.a, _id: { $lt: q.cursor.i } }];
    return { collection: 'conversations', filter, sort: { lastActivityAt: -1, _id: -1 }, limit: q.limit + 1 } satisfies Query;
  });
};

/** The bench's deep-page anchor: the same filter, skipped into. */
const skipQuery: fc.Arbitrary<Query> = fc
  .record({ accountId: fc.constantFrom(...accounts), status: fc.constantFrom(...statuses), skip: fc.integer({ min: 0, max: 10 }), limit })
  .map(({ skip, limit, ...filter }) => ({ collection: 'conversations', filter, sort: { lastActivityAt: -1, _id: -1 }, skip, limit }));

/** The "not contacted" list (notContacted in api/routes/conversations.ts). */
const contactsQuery: fc.Arbitrary<Query> = fc
  .record({ accountId: fc.oneof(fc.constantFrom(...accounts), someString), after: sometimes(fc.oneof(fc.constantFrom(...ids), someString)), limit })
  .map(({ accountId, after, limit }) => {
    const filter: Record<string, unknown> = { accountId, contacted: false };
    if (after !== undefined) filter._id = { $gt: after };
    return { collection: 'contacts', filter, sort: { _id: 1 }, limit: limit + 1 };
  });

const dataset = fc
  .record({ conversations: uniqueIds.chain((list) => documentsFor(list, conversation)), contacts: uniqueIds.chain((list) => documentsFor(list, contact)) })
  .chain((docs) =>
    fc
      .array(fc.oneof({ weight: 5, arbitrary: inboxQuery(docs.conversations) }, { weight: 1, arbitrary: skipQuery }, { weight: 2, arbitrary: contactsQuery }), {
        minLength: 1,
        maxLength: 12,
      })
      .map((queries) => ({ ...docs, queries })),
  );

function documentsFor(list: Field[], doc: (id: Field) => fc.Arbitrary<Document>): fc.Arbitrary<Document[]> {
  return list.length === 0 ? fc.constant([]) : fc.tuple(...list.map(doc)).map((docs) => [...docs]);
}

const asText = (docs: Document[]) => docs.map((d) => BSON.EJSON.stringify(d, { relaxed: false }));

describe('FerretDB ordered top-N pushdown (our build) against FerretDB with pushdown off', () => {
  let reference: OwnFerretDB;
  let patchedClient: MongoClient;
  let referenceClient: MongoClient;
  let run = 0;

  beforeAll(async () => {
    reference = await startOwnFerretDB({ extraArgs: ['--test-disable-pushdown'] });
    [patchedClient, referenceClient] = await Promise.all([MongoClient.connect(testServers().mongoUri), MongoClient.connect(reference.uri)]);
  });

  afterAll(async () => {
    await Promise.all([patchedClient?.close(), referenceClient?.close()]);
    await reference?.dispose();
  });

  async function load(client: MongoClient, name: string, data: { conversations: Document[]; contacts: Document[] }): Promise<Db> {
    const db = client.db(name);
    await ensureIndexes(db); // the project's indexes, before the documents, as in production
    // The insert command as is: insertMany would replace an `_id` of null with a new ObjectId.
    if (data.conversations.length > 0) await db.command({ insert: 'conversations', documents: data.conversations });
    if (data.contacts.length > 0) await db.command({ insert: 'contacts', documents: data.contacts });
    return db;
  }

  it('answers every inbox, cursor, skip and contacts page with the same documents in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(dataset, async (data) => {
        const name = `pushdown_${process.pid}_${run++}`;
        const [patched, plain] = await Promise.all([load(patchedClient, name, data), load(referenceClient, name, data)]);
        try {
          for (const q of data.queries) {
            // A query both builds refuse (a cursor key that is a regex: "Can't have RegEx as arg to
            // predicate") must be refused alike; the answer compared is the documents or the refusal.
            const read = (db: Db) =>
              db
                .collection(q.collection)
                .find(q.filter as Filter<Document>)
                .sort(q.sort)
                .skip(q.skip ?? 0)
                .limit(q.limit)
                .toArray()
                .then(
                  (docs) => ({ docs: asText(docs) }),
                  (error: unknown) => ({ refused: (error as { code?: unknown }).code ?? String(error) }),
                );
            const [got, want] = await Promise.all([read(patched), read(plain)]);
            expect({ query: q, ...got }).toEqual({ query: q, ...want });
          }
        } finally {
          await Promise.all([patched.dropDatabase(), plain.dropDatabase()]);
        }
      }),
      { numRuns: 100 },
    );
  }, 300_000);

  it('answers every `_id` `$in` with the same documents (read from the _id index when it holds only strings or ObjectIds)', async () => {
    // No sort: FerretDB's order is then its own business, so the answers are compared as sets.
    const inQuery = fc.array(fc.oneof({ weight: 6, arbitrary: idArb }, { weight: 1, arbitrary: fc.constantFrom('acc1/c1 ', 'acc1/nope', 'acc1/C1') }), { minLength: 1, maxLength: 8 });
    const data = uniqueIds.chain((list) => fc.record({ conversations: documentsFor(list, conversation), queries: fc.array(inQuery, { minLength: 1, maxLength: 6 }) }));
    await fc.assert(
      fc.asyncProperty(data, async ({ conversations, queries }) => {
        const name = `pushdown_in_${process.pid}_${run++}`;
        const [patched, plain] = await Promise.all([load(patchedClient, name, { conversations, contacts: [] }), load(referenceClient, name, { conversations, contacts: [] })]);
        try {
          for (const values of queries) {
            const read = async (db: Db) => asText(await db.collection('conversations').find({ _id: { $in: values } } as Filter<Document>).toArray()).sort();
            const [got, want] = await Promise.all([read(patched), read(plain)]);
            expect({ values, got }).toEqual({ values, got: want });
          }
        } finally {
          await Promise.all([patched.dropDatabase(), plain.dropDatabase()]);
        }
      }),
      { numRuns: 60 },
    );
  }, 300_000);

  it('finds rows the index order would misplace or miss: arrays, null, non-strings, escaped strings', async () => {
    const docs: Document[] = [
      { _id: 'acc1/c1', accountId: 'acc1', status: 'open', lastActivityAt: '2025-01-01T00:00:00.000Z' },
      { _id: 'acc1/c2', accountId: ['acc1', 'acc2'], status: 'open', lastActivityAt: '2025-01-01T00:00:01.000Z' },
      { _id: 'acc1/c3', accountId: 'acc1', status: 'open', lastActivityAt: null },
      { _id: 'acc1/c4', accountId: 'acc1', status: 'open', lastActivityAt: new Date(0) },
      { _id: 'acc1/c5', accountId: 'acc1', status: 'open', lastActivityAt: new ObjectId('0123456789abcdef01234567') },
      { _id: 'acc1/c6', accountId: 'acc1', status: 'open', lastActivityAt: '2025-01-01T00:00:00.000Z ' },
      { _id: 'acc1/c7', accountId: 'acc1', status: 'open', lastActivityAt: true },
      { _id: null, accountId: 'acc1', status: 'open', lastActivityAt: '2025-01-01T00:00:00.000Z' },
      { _id: 'acc1/c8', accountId: 'acc1', status: 'open' },
      { _id: 'acc1/c9', accountId: 'acc1', status: 'open', lastActivityAt: false },
      { _id: 'acc1/c10', accountId: 'acc1', status: 'open', lastActivityAt: '2025-01-03T00:00:00.000Z' },
      { _id: 'acc1/c11', accountId: 'acc1', status: 'open', lastActivityAt: '2025-01-03T00:00:00.000Z' },
      { _id: 'acc1/c12', accountId: 'acc1', status: 'open', lastActivityAt: '2025-01-02T00:00:00.000Z ' },
      { _id: 'acc1/c13', accountId: 'acc1', status: 'open', lastActivityAt: '2025-01-02T00:00:00.000Z' },
    ];
    const name = `pushdown_fixed_${process.pid}`;
    const [patched, plain] = await Promise.all([load(patchedClient, name, { conversations: docs, contacts: [] }), load(referenceClient, name, { conversations: docs, contacts: [] })]);
    try {
      const read = (db: Db, n: number) => db.collection('conversations').find({ accountId: 'acc1', status: 'open' }).sort({ lastActivityAt: -1, _id: -1 }).limit(n).toArray();
      for (let n = 1; n <= docs.length; n++) expect(asText(await read(patched, n))).toEqual(asText(await read(plain, n)));
      // The next page after each conversation, as the API asks for it.
      const after = (db: Db, d: Document) =>
        db
          .collection('conversations')
          .find({ accountId: 'acc1', status: 'open', $or: [{ lastActivityAt: { $lt: d.lastActivityAt } }, { lastActivityAt: d.lastActivityAt, _id: { $lt: d._id } }] })
          .sort({ lastActivityAt: -1, _id: -1 })
          .limit(3)
          .toArray();
      for (const d of docs) expect({ after: d._id, page: asText(await after(patched, d)) }).toEqual({ after: d._id, page: asText(await after(plain, d)) });
      expect((await after(patched, docs.find((d) => d._id === 'acc1/c11')!)).map((d) => d._id)).toEqual(['acc1/c10', 'acc1/c12', 'acc1/c13']);
      expect((await after(patched, docs.find((d) => d._id === 'acc1/c12')!)).map((d) => d._id)).toEqual(['acc1/c13', 'acc1/c2', 'acc1/c6']);
      // FerretDB's order, spelled out: Date, bool, ObjectId, then strings (longest first on a common prefix), then null.
      expect((await read(patched, docs.length)).map((d) => d._id)).toEqual(['acc1/c4', 'acc1/c7', 'acc1/c9', 'acc1/c5', 'acc1/c11', 'acc1/c10', 'acc1/c12', 'acc1/c13', 'acc1/c2', 'acc1/c6', 'acc1/c1', null, 'acc1/c8', 'acc1/c3']);
    } finally {
      await Promise.all([patched.dropDatabase(), plain.dropDatabase()]);
    }
  });
});
