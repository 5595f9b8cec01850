import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { applyPatch, ferretdbIdLookupPatch, sjsonDecodingWithGoJson } from '../../dev/tool-installers';
import { ensureIndexes } from '../../store/collections';
import { ferretdbGoRuntime, ferretdbMemoryShare } from '../../dev/local-servers';
import { startOwnFerretDB, testServers } from '../support/test-servers';
import type { OwnFerretDB } from '../support/test-servers';

describe('FerretDB', () => {
  let first: OwnFerretDB | undefined;
  let second: OwnFerretDB | undefined;

  afterEach(async () => {
    await second?.stop();
    await first?.dispose();
  });

  it('keeps documents across a stop and a start on the same data folder and port', async () => {
    first = await startOwnFerretDB();
    const client = new MongoClient(first.uri);
    await client.db('restart').collection('things').insertOne({ _id: 'a' as never, n: 1 });
    await client.close();
    await first.stop();

    second = await startOwnFerretDB({ dataDir: first.dataDir, port: first.port });
    expect(second.uri).toBe(first.uri);
    const again = new MongoClient(second.uri);
    try {
      await expect(again.db('restart').collection('things').findOne({})).resolves.toEqual({ _id: 'a', n: 1 });
    } finally {
      await again.close();
    }
  });

  it('refuses connections once stopped', async () => {
    first = await startOwnFerretDB();
    await first.stop();
    const client = new MongoClient(first.uri, { serverSelectionTimeoutMS: 500 });
    try {
      await expect(client.db('admin').command({ ping: 1 })).rejects.toThrow();
    } finally {
      await client.close();
    }
  });

  it('finds a document by `_id` through the `_id` index, not by scanning the table (the build patch)', async () => {
    const client = await MongoClient.connect(testServers().mongoUri);
    const db = client.db(`explain_${randomUUID().slice(0, 8)}`);
    try {
      await db.collection('things').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `t${i}` as never, n: i })));
      const explained = await db.command({ explain: { find: 'things', filter: { _id: 't7' } } });
      // FerretDB answers with SQLite's EXPLAIN QUERY PLAN for the query it runs.
      expect(JSON.stringify(explained.queryPlanner)).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
      await expect(db.collection('things').findOne({ _id: 't7' as never })).resolves.toEqual({ _id: 't7', n: 7 });
      // And an `_id` `$in` of strings (the build's in.go), which FerretDB 1.24 answers by reading the table.
      const inPlan = await db.command({ explain: { find: 'things', filter: { _id: { $in: ['t7', 't9', 'nope'] } } } });
      expect(JSON.stringify(inPlan.queryPlanner)).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
      await expect(db.collection('things').find({ _id: { $in: ['t9', 't7', 'nope'] as never[] } }).sort({ n: 1 }).toArray()).resolves.toEqual([{ _id: 't7', n: 7 }, { _id: 't9', n: 9 }]);
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });

  it('answers an inbox page and the next from the index, in its order, without reading the collection (the top-N pushdown)', async () => {
    const client = await MongoClient.connect(testServers().mongoUri);
    const db = client.db(`explain_${randomUUID().slice(0, 8)}`);
    try {
      await ensureIndexes(db);
      const at = (i: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();
      await db.collection('conversations').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `a/c${i}` as never, accountId: 'a', status: 'open', archived: false, lastActivityAt: at(i) })));
      const sort = { lastActivityAt: -1, _id: -1 } as const;
      const cursor = { $or: [{ lastActivityAt: { $lt: at(20) } }, { lastActivityAt: at(20), _id: { $lt: 'a/c20' } }] };
      for (const filter of [{ accountId: 'a', status: 'open', archived: { $ne: true } }, { accountId: 'a', status: 'open', archived: { $ne: true }, ...cursor }]) {
        const explained = await db.command({ explain: { find: 'conversations', filter, sort, limit: 26 } });
        const plan = explained.queryPlanner.Plan as string[];
        // SQLite's plans of the pushdown's queries; the last is the ordered scan of the inbox index.
        expect(plan.at(-1)).toMatch(/^SEARCH \S+ USING INDEX \S+_account_status_newest \(<expr>=\? AND <expr>=\? AND <expr>>\? AND <expr><\?\)$/);
        expect(plan.filter((line) => /TEMP B-TREE|^SCAN \S+$/.test(line))).toEqual([]);
      }
      const page = await db.collection<{ _id: string }>('conversations').find({ accountId: 'a', status: 'open', ...cursor }).sort(sort).limit(3).toArray();
      expect(page.map((d) => d._id)).toEqual(['a/c19', 'a/c18', 'a/c17']);
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });

  it('has no index on `tags` or `waitingSince` (an array, and null in a sort key, make a row odd to the pushdown), and drops those earlier versions made', async () => {
    const client = await MongoClient.connect(testServers().mongoUri);
    const db = client.db(`explain_${randomUUID().slice(0, 8)}`);
    try {
      await db.collection('conversations').createIndex({ accountId: 1, tags: 1, lastActivityAt: -1, _id: -1 }, { name: 'account_tag_newest' });
      await db.collection('conversations').createIndex({ accountId: 1, waitingSince: 1, _id: 1 }, { name: 'account_waiting_oldest' });
      await ensureIndexes(db);
      const names = (await db.collection('conversations').indexes()).map((i) => i.name);
      expect(names).toContain('account_status_newest');
      expect(names).not.toContain('account_tag_newest');
      expect(names).not.toContain('account_waiting_oldest');
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });

  it('keeps the pushdown as indexes are dropped and created (the odd index follows the eligible indexes)', async () => {
    const client = await MongoClient.connect(testServers().mongoUri);
    const db = client.db(`explain_${randomUUID().slice(0, 8)}`);
    try {
      await ensureIndexes(db);
      const c = db.collection('conversations');
      await c.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: `a/c${i}` as never, accountId: 'a', status: 'open', channel: i % 2 ? 'wa' : 'sms', lastActivityAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() })));
      const sort = { lastActivityAt: -1, _id: -1 } as const;
      const lastPlanLine = async (filter: Record<string, unknown>) => {
        const explained = await db.command({ explain: { find: 'conversations', filter, sort, limit: 3 } });
        return (explained.queryPlanner.Plan as string[]).at(-1);
      };
      await c.dropIndex('account_status_newest');
      expect(await lastPlanLine({ accountId: 'a', status: 'open' })).toMatch(/USING INDEX \S+_account_newest /);
      for (const name of ['account_newest', 'account_assignee_newest', 'account_channel_newest']) await c.dropIndex(name);
      expect(await lastPlanLine({ accountId: 'a', status: 'open' })).toMatch(/SCAN \S+$/); // no index serves it: FerretDB's own path
      await c.createIndex({ accountId: 1, channel: 1, lastActivityAt: -1, _id: -1 }, { name: 'account_channel_newest' });
      expect(await lastPlanLine({ accountId: 'a', channel: 'wa' })).toMatch(/USING INDEX \S+_account_channel_newest /);
      const page = await c.find({ accountId: 'a', channel: 'wa' }).sort(sort).limit(3).toArray();
      expect(page.map((d) => d._id)).toEqual(['a/c29', 'a/c27', 'a/c25']);
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});

describe('applyPatch', () => {
  const patch = { file: 'f.go', from: 'a->b', to: 'a->c' };
  it('replaces the one occurrence', () => expect(applyPatch('x a->b y', patch)).toBe('x a->c y'));
  it('refuses a source without it, or with it twice', () => {
    expect(() => applyPatch('nothing', patch)).toThrow(/exactly one/);
    expect(() => applyPatch('a->b a->b', patch)).toThrow(/exactly one/);
  });
  it('names a line FerretDB 1.24.2 has', () => expect(ferretdbIdLookupPatch.from).toBe(`IDColumn = DefaultColumn + "->'$._id'"`));
});

describe('sjsonDecodingWithGoJson', () => {
  const file = (imports: string, body: string) => `package sjson\n\nimport (\n${imports})\n\n${body}\n`;
  it('decodes with go-json and keeps every Marshal on encoding/json', () => {
    const source = file('\t"bytes"\n\t"encoding/json"\n', 'func f(b []byte) { json.NewDecoder(bytes.NewReader(b)); json.Marshal(b); sjsonMarshal(b) }');
    expect(sjsonDecodingWithGoJson(source)).toBe(
      file('\t"bytes"\n\tjson "github.com/goccy/go-json"\n\tstdjson "encoding/json"\n', 'func f(b []byte) { json.NewDecoder(bytes.NewReader(b)); stdjson.Marshal(b); sjsonMarshal(b) }'),
    );
  });
  it('adds no go-json import where nothing needs it', () => {
    const onlyMarshal = file('\t"encoding/json"\n', 'func g(v any) { json.Marshal(v) }');
    expect(sjsonDecodingWithGoJson(onlyMarshal)).toBe(onlyMarshal);
    const decodesOnly = file('\t"encoding/json"\n', 'var _ json.RawMessage');
    expect(sjsonDecodingWithGoJson(decodesOnly)).toBe(file('\tjson "github.com/goccy/go-json"\n', 'var _ json.RawMessage'));
  });
});

describe('ferretdbGoRuntime', () => {
  const gib = 2 ** 30;
  test('GOGC 200 and a soft memory limit of 40 % of the machine, unless the environment sets its own', () => {
    expect(ferretdbGoRuntime({}, 24 * gib)).toEqual({ GOGC: '200', GOMEMLIMIT: `${Math.floor(24 * 1024 * ferretdbMemoryShare)}MiB` });
    expect(ferretdbMemoryShare).toBe(0.4);
    // An operator's own values win; a GOMEMLIMIT of the environment is inherited by the process, not set again.
    expect(ferretdbGoRuntime({ GOGC: '100', GOMEMLIMIT: '4GiB' }, 24 * gib)).toEqual({ GOGC: '100' });
    expect(ferretdbGoRuntime({ GOGC: 'off' }, 2 * gib)).toEqual({ GOGC: 'off', GOMEMLIMIT: '819MiB' });
  });
});
