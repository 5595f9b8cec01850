import { MongoClient } from 'mongodb';
import { ConfigError, loadConfig } from './config';
import { collections, ensureIndexes } from '../store/collections';
import { backfillSearchAndContacts } from '../store/search-backfill';

/**
 * `npm run backfill:search [-- --write]`: indexes for search, and tells contacts about, the messages
 * recorded before SPEC 11's search and contacts were kept (store/search-backfill.ts), with the same
 * MONGODB_URI and MONGODB_DATABASE the API reads. Without `--write` it is a dry run: it reads every message
 * once and reports what it would write (messages, postings, conversations), writing nothing. Safe to run
 * while the system runs, and again.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const mongoUri = config.mongo.uri;
  if (!mongoUri) throw new ConfigError('MONGODB_URI: set it to the database to backfill');
  const dryRun = !process.argv.includes('--write');
  const mongo = await MongoClient.connect(mongoUri);
  try {
    const db = mongo.db(config.mongo.database);
    if (!dryRun) await ensureIndexes(db);
    let lastLine = 0;
    const report = await backfillSearchAndContacts(collections(db), {
      dryRun,
      onProgress: (r) => {
        if (Date.now() - lastLine < 5_000) return;
        lastLine = Date.now();
        console.log(`... ${r.messages} messages read, ${r.postings} postings`);
      },
    });
    console.log(
      `${dryRun ? 'dry run (add --write to write): would write' : 'wrote'} ${report.postings} postings for ${report.messages} messages; ` +
        `${report.conversations} conversations with customer messages${dryRun ? '' : `, ${report.contactsChanged} contacts changed`}`,
    );
  } finally {
    await mongo.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
