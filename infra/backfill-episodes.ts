/**
 * `npm run backfill:episodes -- [--dry-run] [--account <id>]`: writes the SPEC 11 episode rows of
 * episodes recorded before rows existed, from their stored events and messages (store/episode-backfill.ts).
 * Reads MONGODB_URI and MONGODB_DATABASE like the worker. Safe beside a running worker: it only inserts
 * rows that do not exist. Run it with `--dry-run` first: that writes nothing and prints every row it would write.
 */
import { MongoClient } from 'mongodb';
import { ConfigError, loadConfig } from './config';
import { ensureIndexes } from '../store/collections';
import { backfillEpisodes } from '../store/episode-backfill';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dryRun = args.includes('--dry-run');
  const at = args.indexOf('--account');
  const accountId = at >= 0 ? args[at + 1] : undefined;
  const unknown = args.filter((a, i) => a !== '--dry-run' && a !== '--account' && !(at >= 0 && i === at + 1));
  if (unknown.length > 0 || (at >= 0 && accountId === undefined)) {
    console.error('usage: npm run backfill:episodes -- [--dry-run] [--account <accountId>]');
    process.exit(2);
  }
  const config = loadConfig();
  if (!config.mongo.uri) throw new ConfigError('MONGODB_URI: required for the backfill');
  const client = await MongoClient.connect(config.mongo.uri);
  try {
    const db = client.db(config.mongo.database);
    if (!dryRun) await ensureIndexes(db);
    const result = await backfillEpisodes(db, { dryRun, accountId, report: (line) => console.log(line) });
    console.log(
      `${dryRun ? 'dry run: would write' : 'wrote'} ${result.written} episode rows over ${result.conversations} conversations ` +
        `(${result.existing} had a row${result.raced > 0 ? `, ${result.raced} written meanwhile by their conversations` : ''})`,
    );
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
