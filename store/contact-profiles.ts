import type { Collection, Db, Filter } from 'mongodb';
import type { ContactChange, ContactProfile } from '../workflows/conversation/core/contact-profile';
import { applyContactChange, nameOf, unknownContact } from '../workflows/conversation/core/contact-profile';
import { namePairsOf } from '../workflows/conversation/core/contact-search';
import { wordsOf } from '../workflows/conversation/core/search-words';
import { contactNamePairId, contactNameTermId, contactNameWordId, contactProfileId, contactRevisionId } from './ids';
import type { Revisions } from './revisions';
import { copyForwards, decideAndClaim, readForwards } from './revisions';
import { insertNew, insertOnce, replaceWhole } from './writes';

/**
 * SPEC 11 contacts: one profile per customer of an account (`{accountId}/{customer}`), across the channels
 * they wrote on. Its writers are every conversation of the customer (one per channel, each persisting on
 * its own) and users' `PATCH .../contacts/{customer}`, so it is not a one-writer document: each change is
 * a claimed revision (store/revisions.ts, store/DESIGN.md "Contacts"), decided by the pure merge of
 * workflows/conversation/core/contact-profile.ts from the newest revision and claimed insert-once; a
 * change that lost the claim reads again and decides again. `contact_profiles` is the copy readers start
 * from; `contact_name_terms` holds one document per word of the name, for the name search, and
 * `contact_name_pairs` one per ordered pair of its words, for a search of several words (with
 * `contact_name_words`, the account's words, which expand a query word's prefix into whole words).
 *
 * (The older `contacts` collection, per channel, is seed 002's "not contacted" list: store/contacts.ts.)
 */
export interface ContactProfileDoc extends ContactProfile {
  _id: string;
  accountId: string;
  customer: string;
  /** The name shown (`nameOf`), kept for readers that list. */
  name: string | null;
  updatedAt: Date;
}

export interface ContactRevisionDoc {
  _id: string;
  accountId: string;
  customer: string;
  rev: number;
  profile: ContactProfile;
  at: Date;
}

export interface ContactNameTermDoc {
  _id: string;
  accountId: string;
  word: string;
  customer: string;
  /**
   * The contact's name when this word was written, so a search checks its other words without reading
   * the profile. Rewritten with every copy of the profile.
   */
  name?: string;
  /**
   * The rest of the list item at the revision written (`rev`): a search answers a page from the words
   * alone, one indexed read (store/DESIGN.md "Contacts"). Absent on words written before they carried
   * it: those are checked on the profile, as before.
   */
  rev?: number;
  attributes?: Record<string, string>;
  firstSeenAt?: number | null;
}

/**
 * An ordered pair of two distinct words of a contact's name (`first`, `second`), or the name's one long
 * row (both empty: a name of more than `maxPairedWords` distinct words), with the list item as a name
 * word carries it. Written with every copy of the profile, an older name's deleted (`writeCopy`).
 */
export interface ContactNamePairDoc {
  _id: string;
  accountId: string;
  first: string;
  second: string;
  customer: string;
  name: string;
  rev: number;
  attributes: Record<string, string>;
  firstSeenAt: number | null;
}

/** A word some name of the account had (`{accountId}/{word}`), insert-once, never deleted. */
export interface ContactNameWordDoc {
  _id: string;
  accountId: string;
  word: string;
}

/**
 * That every contact of an account has its name pairs (`{_id: accountId}`, insert-once, never deleted):
 * written when the account is created (it has no contact from before pairs) and by a complete
 * `npm run backfill:search -- --write` for every account. Until then a search of several words reads
 * name words, which every contact has (api/contacts.ts).
 */
export interface ContactPairsMarkDoc {
  _id: string;
  at: Date;
}

/** Whether a name word carries its contact's list item (written with `writeCopy` since it does). */
export const carriesItem = (t: ContactNameTermDoc): boolean => t.rev !== undefined && t.name !== undefined;

export interface ContactCollections {
  profiles: Collection<ContactProfileDoc>;
  revisions: Collection<ContactRevisionDoc>;
  nameTerms: Collection<ContactNameTermDoc>;
  namePairs: Collection<ContactNamePairDoc>;
  nameWords: Collection<ContactNameWordDoc>;
  pairsMarks: Collection<ContactPairsMarkDoc>;
}

export function contactCollections(db: Db): ContactCollections {
  return {
    profiles: db.collection<ContactProfileDoc>('contact_profiles'),
    revisions: db.collection<ContactRevisionDoc>('contact_revisions'),
    nameTerms: db.collection<ContactNameTermDoc>('contact_name_terms'),
    namePairs: db.collection<ContactNamePairDoc>('contact_name_pairs'),
    nameWords: db.collection<ContactNameWordDoc>('contact_name_words'),
    pairsMarks: db.collection<ContactPairsMarkDoc>('contact_pairs_marks'),
  };
}

/** Marks the accounts' contacts as all having their name pairs (`ContactPairsMarkDoc`). */
export async function markPairsComplete(c: ContactCollections, accountIds: readonly string[]): Promise<void> {
  await insertOnce(
    c.pairsMarks,
    accountIds.map((accountId) => ({ _id: accountId, at: new Date() })),
  );
}

/** Accounts known here to have every contact's pairs: a mark is never deleted, so a yes is kept. */
const pairsComplete = new Set<string>();

/** Whether every contact of the account has its name pairs (one read by `_id` until it does). */
export async function pairsAreComplete(c: ContactCollections, accountId: string): Promise<boolean> {
  if (pairsComplete.has(accountId)) return true;
  if ((await c.pairsMarks.findOne({ _id: accountId })) === null) return false;
  pairsComplete.add(accountId);
  return true;
}

/** A stored profile as the merge reads it: FerretDB drops null fields an upsert inserts, so absent is null. */
export function profileOf(stored: Partial<ContactProfile> | null | undefined): ContactProfile {
  if (!stored) return unknownContact;
  return {
    rev: stored.rev ?? 0,
    editedName: stored.editedName ?? null,
    editedNameAt: stored.editedNameAt ?? null,
    providerName: stored.providerName ?? null,
    providerNameAt: stored.providerNameAt ?? null,
    attributes: { ...(stored.attributes ?? {}) },
    attributeAt: { ...(stored.attributeAt ?? {}) },
    firstSeenAt: stored.firstSeenAt ?? null,
    channels: [...(stored.channels ?? [])],
  };
}

const revisionsOf = (c: ContactCollections, accountId: string, customer: string): Revisions<ContactProfile> => ({
  rev: (p) => p.rev,
  next: async (after) => {
    const found = await c.revisions.findOne({ _id: contactRevisionId(accountId, customer, after.rev + 1) });
    return found ? profileOf(found.profile) : null;
  },
});

/**
 * Writes the copy readers start from, after the name's words: a writer that dies before the copy leaves
 * it behind its revision, which the next reader of the contact writes again (`newestContact`), words
 * included.
 *
 * 1. The name's words are inserted once into the account's words (`contact_name_words`), before any pair
 *    starts with them: a pair search expands a query word into these.
 * 2. Each word of the name, and each pair of its words (or its long row), is replaced whole, carrying the
 *    list item (name, attributes, first seen, rev), so the name search answers from them alone.
 * 3. Every other word and pair of this customer (an older name's, listed from `account_customer`, one
 *    indexed read each) is deleted by `_id`: a renamed contact is no longer found by its old name.
 * 4. The copy.
 *
 * Why deleting is enough although several writers copy one contact: each writer reads forwards after its
 * copy and copies again while a newer revision appears (copyForwards), so every writer's last words and
 * deletions are the newest revision's. An older writer whose words land after a newer writer finished
 * then finds the newer revision and writes it again, deleting its own late words in step 2. The one
 * window left: a writer that dies between writing an older revision's words and that read forwards,
 * after the newer writer finished, leaves those words until the contact's next copy (stated in
 * store/DESIGN.md "Contacts").
 */
async function writeCopy(c: ContactCollections, accountId: string, customer: string, profile: ContactProfile): Promise<void> {
  const { copy, words, pairs, vocabulary } = contactCopyDocs(accountId, customer, profile, new Date());
  await addToVocabulary(c, vocabulary);
  await Promise.all([...words.map((word) => replaceWhole(c.nameTerms, word)), ...pairs.map((pair) => replaceWhole(c.namePairs, pair))]);
  const keep = new Set([...words, ...pairs].map((doc) => doc._id));
  const [storedWords, storedPairs] = await Promise.all([customerNameTerms(c, accountId, customer), customerNamePairs(c, accountId, customer)]);
  await Promise.all([
    ...storedWords.filter((t) => !keep.has(t._id)).map((t) => c.nameTerms.deleteOne({ _id: t._id })),
    ...storedPairs.filter((p) => !keep.has(p._id)).map((p) => c.namePairs.deleteOne({ _id: p._id })),
  ]);
  await replaceWhole(c.profiles, copy);
}

/**
 * Words this process has seen in an account's vocabulary (inserted or found there), per collection
 * object: the vocabulary is insert-once and never deleted, so a word seen once is there for good, and a
 * copy of a name whose words are all known writes nothing for them. FerretDB on SQLite has one writer, so
 * every write a copy saves counts (a first name "Ana Silva" seen before costs its 2 words, 2 pairs and
 * the copy, not 2 more). Forgotten past `maxKnownWords`: then they are inserted again, duplicates ignored.
 */
const knownWords = new WeakMap<Collection<ContactNameWordDoc>, Set<string>>();
const maxKnownWords = 100_000;

async function addToVocabulary(c: ContactCollections, vocabulary: readonly ContactNameWordDoc[]): Promise<void> {
  let known = knownWords.get(c.nameWords);
  if (!known || known.size > maxKnownWords) knownWords.set(c.nameWords, (known = new Set()));
  const missing = vocabulary.filter((word) => !known.has(word._id));
  await insertOnce(c.nameWords, missing);
  for (const word of missing) known.add(word._id);
}

/**
 * The documents a copy of `profile` consists of: the copy readers start from, its name's words and pairs
 * (or long row) with the list item, and the words for the account's vocabulary.
 */
export function contactCopyDocs(
  accountId: string,
  customer: string,
  profile: ContactProfile,
  now: Date,
): { copy: ContactProfileDoc; words: ContactNameTermDoc[]; pairs: ContactNamePairDoc[]; vocabulary: ContactNameWordDoc[] } {
  const name = nameOf(profile);
  const words = name === null ? [] : [...new Set(wordsOf(name))];
  const item = { name: name!, rev: profile.rev, attributes: profile.attributes, firstSeenAt: profile.firstSeenAt };
  const paired = namePairsOf(name);
  const pairWords: [string, string][] = paired.kind === 'long' ? [['', '']] : paired.pairs;
  return {
    copy: { _id: contactProfileId(accountId, customer), accountId, customer, ...profile, name, updatedAt: now },
    words: words.map((word) => ({ _id: contactNameTermId(accountId, word, customer), accountId, word, customer, ...item })),
    pairs: pairWords.map(([first, second]) => ({ _id: contactNamePairId(accountId, first, second, customer), accountId, first, second, customer, ...item })),
    vocabulary: words.map((word) => ({ _id: contactNameWordId(accountId, word), accountId, word })),
  };
}

/**
 * Many contacts' copies at once, insert-once, in the order `writeCopy` writes them (the account's words,
 * the name words and pairs, the copies): the bench and the by-hand measures seed with it, since writing
 * one contact at a time through its revision would take most of an hour at 100,000.
 */
export async function insertContactCopies(c: ContactCollections, copies: readonly ReturnType<typeof contactCopyDocs>[]): Promise<void> {
  const vocabulary = new Map(copies.flatMap((docs) => docs.vocabulary.map((word) => [word._id, word] as const)));
  await insertOnce(c.nameWords, [...vocabulary.values()]);
  await insertOnce(c.nameTerms, copies.flatMap((docs) => docs.words));
  await insertOnce(c.namePairs, copies.flatMap((docs) => docs.pairs));
  await insertOnce(c.profiles, copies.map((docs) => docs.copy));
}

/**
 * The name words of one customer (every name it had whose words are still there), by `_id` from
 * `account_customer` (an equality then `_id`: the FerretDB pushdown's shape). A name has at most a few
 * dozen words, and a limit keeps a pathological one bounded: the rest go at the next copy.
 */
export function customerNameTerms(c: ContactCollections, accountId: string, customer: string): Promise<ContactNameTermDoc[]> {
  return c.nameTerms.find({ accountId, customer }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(500).toArray();
}

/** The name pairs of one customer, as `customerNameTerms` (a copy writes at most 56, or one long row). */
function customerNamePairs(c: ContactCollections, accountId: string, customer: string, whole = false): Promise<ContactNamePairDoc[]> {
  return c.namePairs.find({ accountId, customer }, whole ? {} : { projection: { _id: 1 } }).sort({ _id: 1 }).limit(500).toArray();
}

/**
 * The newest claimed profile of a customer (rev 0: unknown), from the copy forwards. A copy found behind
 * (its writer died after claiming) is written again, so the list and the name search catch up.
 */
export async function newestContact(c: ContactCollections, accountId: string, customer: string): Promise<ContactProfile> {
  const copy = profileOf(await c.profiles.findOne({ _id: contactProfileId(accountId, customer) }));
  const revisions = revisionsOf(c, accountId, customer);
  const newest = await readForwards(revisions, copy);
  if (newest.rev > copy.rev) await copyForwards(revisions, newest, (p) => writeCopy(c, accountId, customer, p));
  return newest;
}

/**
 * Writes a contact's name words and pairs (and copy) again from its newest revision when they are not
 * what `writeCopy` leaves: a word without the list item (written before words carried it), a name
 * without its pairs (written before pairs were), or a word or pair of an older name. The backfill calls
 * it for every contact (store/search-backfill.ts); true when it wrote.
 */
export async function refreshContactWords(c: ContactCollections, accountId: string, customer: string): Promise<boolean> {
  const profile = await newestContact(c, accountId, customer);
  if (profile.rev === 0) return false;
  const { words, pairs } = contactCopyDocs(accountId, customer, profile, new Date());
  const [storedWords, storedPairs] = await Promise.all([
    c.nameTerms.find({ accountId, customer }).sort({ _id: 1 }).limit(500).toArray(),
    customerNamePairs(c, accountId, customer, true),
  ]);
  const same = (stored: readonly (ContactNameTermDoc | ContactNamePairDoc)[], wanted: readonly { _id: string }[]) => {
    const ids = new Set(wanted.map((doc) => doc._id));
    return stored.length === ids.size && stored.every((t) => ids.has(t._id) && t.name !== undefined && t.rev === profile.rev);
  };
  if (same(storedWords, words) && same(storedPairs, pairs)) return false;
  await copyForwards(revisionsOf(c, accountId, customer), profile, (p) => writeCopy(c, accountId, customer, p));
  return true;
}

/** Applies a change as the next claimed revision (again, from the newest, while another claims first); null: nothing changed. */
async function change(c: ContactCollections, accountId: string, customer: string, decide: (current: ContactProfile) => ContactProfile | null) {
  const revisions = revisionsOf(c, accountId, customer);
  return decideAndClaim(revisions, {
    newest: () => newestContact(c, accountId, customer),
    decide: (current) => {
      const next = decide(current);
      return next && { ...next, rev: current.rev + 1 };
    },
    claim: (next) => insertNew(c.revisions, { _id: contactRevisionId(accountId, customer, next.rev), accountId, customer, rev: next.rev, profile: next, at: new Date() }),
    writeCopy: (p) => writeCopy(c, accountId, customer, p),
  });
}

/**
 * A conversation's customer messages tell the contact about itself (the conversation's `persist`): the
 * provider name, attributes, when, and the channel. Idempotent: a retried batch decides "no change".
 */
export async function recordContactMessages(
  c: ContactCollections,
  ref: { accountId: string; channel: string; customer: string },
  providerName: string | null,
  messages: readonly { at: number; attributes: Record<string, string> | null }[],
): Promise<void> {
  if (messages.length === 0) return;
  const told: ContactChange = { kind: 'messages', channel: ref.channel, providerName, messages };
  await change(c, ref.accountId, ref.customer, (current) => applyContactChange(current, told));
}

/** `PATCH .../contacts/{customer}`: the profile after the edit; null for a customer the account does not know. */
export async function editContact(
  c: ContactCollections,
  accountId: string,
  customer: string,
  edit: { at: number; name?: string | undefined; attributes?: Record<string, string | null> | undefined },
): Promise<ContactProfile | null> {
  let known = true;
  const { before, after } = await change(c, accountId, customer, (current) => {
    known = current.rev > 0;
    return known ? applyContactChange(current, { kind: 'edit', ...edit }) : null;
  });
  return known ? (after ?? before) : null;
}

/** Profiles (the copies) by `_id` after `after`, within `[from, to)` when given, at most `limit`: the list and the phone search. */
export function profilesPage(c: ContactCollections, accountId: string, range: { from?: string; to?: string }, after: string | undefined, limit: number): Promise<ContactProfileDoc[]> {
  const bounds: { $gte?: string; $gt?: string; $lt?: string } = {};
  if (after !== undefined && (range.from === undefined || after >= range.from)) bounds.$gt = after;
  else if (range.from !== undefined) bounds.$gte = range.from;
  if (range.to !== undefined) bounds.$lt = range.to;
  const filter: Filter<ContactProfileDoc> = { accountId, ...(Object.keys(bounds).length > 0 ? { _id: bounds } : {}) };
  return c.profiles.find(filter).sort({ _id: 1 }).limit(limit).toArray();
}

/** Name words by `_id` (word, then customer) within `[from, to)`, after `after`, at most `limit`: the name search. */
export function nameTermsPage(c: ContactCollections, accountId: string, range: { from: string; to: string }, after: string | undefined, limit: number): Promise<ContactNameTermDoc[]> {
  return idRangePage(c.nameTerms, accountId, range, after, limit);
}

/** Name pairs by `_id` (first word, second word, customer) within `[from, to)`, after `after`, at most `limit`: the pair search. */
export function namePairsPage(c: ContactCollections, accountId: string, range: { from: string; to: string }, after: string | undefined, limit: number): Promise<ContactNamePairDoc[]> {
  return idRangePage(c.namePairs, accountId, range, after, limit);
}

/** The account's name words within `[from, to)`, after `after`, at most `limit`, in order: a query word's expansion. */
export function nameWordsPage(c: ContactCollections, accountId: string, range: { from: string; to: string }, after: string | undefined, limit: number): Promise<ContactNameWordDoc[]> {
  return idRangePage(c.nameWords, accountId, range, after, limit);
}

/** The account's long rows (names of more than `maxPairedWords` words), at most `limit`: `{accountId}///…`, before every pair. */
export function longNameRows(c: ContactCollections, accountId: string, limit: number): Promise<ContactNamePairDoc[]> {
  return idRangePage(c.namePairs, accountId, { from: `${accountId}//`, to: `${accountId}/0` }, undefined, limit);
}

/** Documents of an account by `_id` within `[from, to)` after `after`: an equality and a range on `_id`, the pushdown's shape. */
function idRangePage<T extends { _id: string; accountId: string }>(collection: Collection<T>, accountId: string, range: { from: string; to: string }, after: string | undefined, limit: number): Promise<T[]> {
  const lower = after !== undefined && after >= range.from ? { $gt: after } : { $gte: range.from };
  const filter = { accountId, _id: { ...lower, $lt: range.to } } as Filter<T>;
  return collection.find(filter).sort({ _id: 1 }).limit(limit).toArray() as Promise<T[]>;
}

/** Copies by `_id`, one point read each (the filter FerretDB serves from its index). */
export function profileCopies(c: ContactCollections, accountId: string, customers: readonly string[]): Promise<(ContactProfileDoc | null)[]> {
  return Promise.all(customers.map((customer) => c.profiles.findOne({ _id: contactProfileId(accountId, customer) })));
}
