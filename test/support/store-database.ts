import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { collections, ensureIndexes } from '../../store/collections';
import type { Collections } from '../../store/collections';
import { testServers } from './test-servers';

/**
 * A database of its own on the shared FerretDB for a store test file, with the product's indexes: made
 * before the file's tests, dropped after. Read `db` and `c` inside tests (they are set by `beforeAll`).
 */
export function useStoreDatabase(prefix: string): { db: Db; c: Collections } {
  const env = {} as { db: Db; c: Collections };
  let client: MongoClient | undefined;
  beforeAll(async () => {
    client = await MongoClient.connect(testServers().mongoUri);
    env.db = client.db(`${prefix}_${randomUUID().slice(0, 8)}`);
    await ensureIndexes(env.db);
    env.c = collections(env.db);
  });
  afterAll(async () => {
    await env.db?.dropDatabase();
    await client?.close();
  });
  return env;
}
