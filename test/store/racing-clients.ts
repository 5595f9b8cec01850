import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';

/**
 * Several MongoDB clients on one database, each with its own connections, as several API or worker
 * processes would be: what they send reaches the server on separate connections at the same time.
 */
export interface RacingClients {
  dbs: Db[];
  close(): Promise<void>;
}

export async function racingClients(uri: string, count: number, prefix: string): Promise<RacingClients> {
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  const clients = await Promise.all(Array.from({ length: count }, () => MongoClient.connect(uri, { maxPoolSize: 4 })));
  const dbs = clients.map((client) => client.db(name));
  return {
    dbs,
    async close() {
      await dbs[0]?.dropDatabase().catch(() => undefined);
      await Promise.all(clients.map((client) => client.close()));
    },
  };
}

/** Starts every function at once (after one common tick) and waits for all; failures are kept as values. */
export async function race<T>(fns: (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
  let go!: () => void;
  const start = new Promise<void>((resolve) => (go = resolve));
  const running = fns.map(async (fn) => {
    await start;
    return fn();
  });
  go();
  return Promise.allSettled(running);
}
