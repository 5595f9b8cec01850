/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS on purpose, see below */
'use strict';
/**
 * Preloaded (node --require) into the worker and API processes the bench and chaos runs start, and
 * nowhere else. Plain CommonJS because Node also preloads it into the workers' workflow threads, where
 * tsx does not run (it does nothing there).
 *
 * FerretDB 1.24.2 (SQLite) panics and drops the connection when one createIndexes command names two or
 * more indexes that already exist ("runtime error: slice bounds out of range [:3:2]" in its log).
 * store/collections.ts ensureIndexes does exactly that in both worker/main.ts and api/main.ts, so
 * whichever of the two starts second exits with "connection N closed". Until the product creates its
 * indexes one per command, this splits every createIndexes call into single-index commands, which
 * FerretDB accepts again and again. BENCH_NO_INDEX_SHIM=1 turns it off.
 */
const { isMainThread } = require('node:worker_threads');

if (isMainThread) {
  const { Collection } = require('mongodb');
  const original = Collection.prototype.createIndexes;
  Collection.prototype.createIndexes = async function createIndexesOneByOne(specs, options) {
    const names = [];
    for (const spec of specs) names.push(...(await original.call(this, [spec], options)));
    return names;
  };
}
