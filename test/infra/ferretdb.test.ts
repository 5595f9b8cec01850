import { MongoClient } from 'mongodb';
import { startOwnFerretDB } from '../support/test-servers';
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
});
