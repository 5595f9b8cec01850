import { MongoClient } from 'mongodb';
import { ConfigError, loadConfig } from './config';
import { collections, ensureIndexes } from '../store/collections';
import { backfillCounts } from '../store/conversation-counts';

/**
 * `npm run backfill:counts [-- --account ID]`: counts the baseline of the inbox's tab counts
 * (store/conversation-counts.ts) for every account (or one) that has none: the accounts created before the
 * counts were kept. Run it once every worker runs a version that keeps them (each conversation's changes
 * from then on are moves); until then, and for an account it has not reached, `conversation-counts`
 * answers from a scan of the views, as before. Safe while the system runs, and again: an account that has
 * a baseline is skipped. Reads the same MONGODB_URI and MONGODB_DATABASE the API reads.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const mongoUri = config.mongo.uri;
  if (!mongoUri) throw new ConfigError('MONGODB_URI: set it to the database to backfill');
  const only = process.argv.indexOf('--account');
  const mongo = await MongoClient.connect(mongoUri);
  try {
    const db = mongo.db(config.mongo.database);
    await ensureIndexes(db);
    const c = collections(db);
    const accountIds = only >= 0 ? [process.argv[only + 1] ?? ''] : (await c.accounts.find({}, { projection: { _id: 1 } }).toArray()).map((a) => a._id);
    for (const accountId of accountIds) {
      const started = Date.now();
      const result = await backfillCounts(c, accountId);
      console.log(
        result.written
          ? `${accountId}: counted ${result.conversations} conversations (${result.moves} moves already kept) in ${((Date.now() - started) / 1000).toFixed(1)} s`
          : `${accountId}: has a baseline already, skipped`,
      );
    }
  } finally {
    await mongo.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
