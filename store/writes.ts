import type { Collection, OptionalUnlessRequiredId } from 'mongodb';

/**
 * The write helpers every store module uses, and why each holds on FerretDB as on MongoDB (store/DESIGN.md).
 */

/** Inserts a new document; false when one with the same `_id` exists (the caller answers 409). */
export async function insertNew<T extends { _id: string }>(collection: Collection<T>, doc: T): Promise<boolean> {
  try {
    await collection.insertOne(doc as Parameters<Collection<T>['insertOne']>[0]);
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/** Inserts each document unless one with its `_id` exists: a retried write records nothing twice. */
export async function insertOnce<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    // Unordered: a document that is already there (an earlier attempt wrote it) does not stop the rest.
    await collection.insertMany(docs.map((doc) => doc as OptionalUnlessRequiredId<T>), { ordered: false });
  } catch (error) {
    // A duplicate `_id` means the document is there, which is exactly what this write wants.
    if (!onlyDuplicateKeys(error)) throw error;
  }
}

function onlyDuplicateKeys(error: unknown): boolean {
  if (isDuplicateKeyError(error)) return true;
  const writeErrors = (error as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((e) => e.code === 11000);
}

export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Writes a document whole by `_id` (last writer wins). Two first writes racing: FerretDB answers the
 * later upsert's insert with 11000 (MongoDB retries it itself); then the document exists, and it replaces.
 */
export async function replaceWhole<T extends { _id: string }>(collection: Collection<T>, doc: T): Promise<void> {
  const filter = { _id: doc._id } as Parameters<Collection<T>['replaceOne']>[0];
  const replacement = doc as Parameters<Collection<T>['replaceOne']>[1];
  try {
    await collection.replaceOne(filter, replacement, { upsert: true });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    await collection.replaceOne(filter, replacement, { upsert: true });
  }
}
