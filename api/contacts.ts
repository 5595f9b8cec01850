import type { ContactNamePairDoc, ContactNameTermDoc, ContactNameWordDoc, ContactProfileDoc } from '../store/contact-profiles';
import { carriesItem, editContact, longNameRows, namePairsPage, nameTermsPage, nameWordsPage, newestContact, pairsAreComplete, profileCopies, profileOf, profilesPage } from '../store/contact-profiles';
import { findView } from '../store/conversation-views';
import { contactNamePairId, contactProfileId } from '../store/ids';
import type { ContactProfile } from '../workflows/conversation/core/contact-profile';
import { nameOf } from '../workflows/conversation/core/contact-profile';
import type { PairQuery } from '../workflows/conversation/core/contact-search';
import { decisiveWords, listingPair, planPairSearch } from '../workflows/conversation/core/contact-search';
import { listedWord, parseContactQuery } from '../workflows/conversation/core/search-words';
import { iso } from '../workflows/conversation/core/view';
import { conversationWorkflowId, parseConversationId } from '../workflows/conversation/messages';
import { contactAttributeMessages } from '../store/contacts';
import { latestAttributes } from './canned-text';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';

/**
 * SPEC 11 contacts: the list and its search, a profile, and a user's edit. The profile is kept by the
 * conversations' `persist` and by edits as claimed revisions (store/contact-profiles.ts); here it is read.
 * Any user of the account reads and changes contacts.
 */

/** How many name words one page reads at most before answering with what it found and a cursor. */
const maxExaminedNameWords = 1000;

type ContactCursor = { m: 'all' | 'phone' | 'name' | 'pair'; i: string; d?: string; x?: string; y?: string };

const encodeCursor = (cursor: ContactCursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function decodeCursor(text: string, mode: ContactCursor['m'], prefix: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as Partial<ContactCursor>;
    if (parsed.m === mode && typeof parsed.i === 'string' && parsed.i.startsWith(prefix)) return parsed.i;
  } catch {
    // fall through
  }
  throw new ApiError({ code: 'validation_failed', message: 'cursor: not a cursor this list returned for this q' });
}

/** The exclusive upper end of the strings that start with `prefix`: its last character, one higher. */
function prefixEnd(prefix: string): string {
  const chars = [...prefix];
  const last = chars.pop()!;
  return chars.join('') + String.fromCodePoint(last.codePointAt(0)! + 1);
}

export const contactSummaryView = (doc: Pick<ContactProfileDoc, 'customer'> & Partial<ContactProfile>) => {
  const p = profileOf(doc);
  return { customer: doc.customer, name: nameOf(p), attributes: p.attributes, firstSeenAt: iso(p.firstSeenAt) };
};

/** `GET .../contacts?q=`: every contact by phone number, or those a query finds; `{ items, nextCursor }`. */
export async function listContacts(deps: ApiDeps, accountId: string, query: { q?: string | undefined; limit: number; cursor?: string | undefined }) {
  const c = deps.collections.contactProfiles;
  const base = `${accountId}/`;
  if (query.q === undefined) {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, 'all', base);
    const docs = await profilesPage(c, accountId, {}, after, query.limit + 1);
    const page = docs.slice(0, query.limit);
    return { items: page.map(contactSummaryView), nextCursor: docs.length > query.limit ? encodeCursor({ m: 'all', i: page.at(-1)!._id }) : null };
  }
  const parsed = parseContactQuery(query.q);
  switch (parsed.kind) {
    case 'invalid':
      throw new ApiError({ code: 'validation_failed', message: `q: ${parsed.reason}`, details: [{ path: 'q', message: parsed.reason }] });
    case 'phone': {
      // A prefix of the customer's digits is a range of `_id`s `{accountId}/{customer}`.
      const from = contactProfileId(accountId, parsed.digits);
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, 'phone', from);
      const docs = await profilesPage(c, accountId, { from, to: prefixEnd(from) }, after, query.limit + 1);
      const page = docs.slice(0, query.limit);
      return { items: page.map(contactSummaryView), nextCursor: docs.length > query.limit ? encodeCursor({ m: 'phone', i: page.at(-1)!._id }) : null };
    }
    case 'name':
      return nameSearch(deps, accountId, parsed, query.limit, query.cursor);
  }
}

/** How many name words of each query word the first page reads to pick the rarest (several words only). */
const probeSize = 100;

/** A name search's cursor: the last name word read and the query word that drives (absent: the longest). */
function decodeNameCursor(text: string, accountId: string, words: readonly string[], longest: string): { driver: string; after: string } {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as Partial<ContactCursor>;
    const driver = parsed.d ?? longest;
    if (parsed.m === 'name' && typeof parsed.i === 'string' && words.includes(driver) && parsed.i.startsWith(`${accountId}/${driver}`)) return { driver, after: parsed.i };
  } catch {
    // fall through
  }
  throw new ApiError({ code: 'validation_failed', message: 'cursor: not a cursor this list returned for this q' });
}

/** A list item from a name word or pair that carries one (store/contact-profiles.ts `writeCopy`). */
const itemOfWord = (t: ContactNameTermDoc | ContactNamePairDoc) => ({ customer: t.customer, name: t.name!, attributes: { ...(t.attributes ?? {}) }, firstSeenAt: iso(t.firstSeenAt ?? null) });

/**
 * A name search: by name pairs (`pairSearch`) when the query has two or more decisive words (none a prefix
 * of another: `decisiveWords`) and one of them prefixes fewer than `vocabularyProbe` of the account's
 * words, else by name words (`wordSearch`: one word, or words too common to expand). A cursor keeps its
 * mode. Pairs are read only for an account whose contacts all have them (`pairsAreComplete`: created
 * since, or backfilled); contacts stored before pairs are found by name words until then.
 */
async function nameSearch(deps: ApiDeps, accountId: string, query: { words: string[]; driver: string }, limit: number, cursor: string | undefined) {
  const c = deps.collections.contactProfiles;
  const decisive = decisiveWords(query.words);
  if (cursor !== undefined) {
    const pair = decodePairCursor(cursor, accountId, decisive);
    if (pair) return pairSearch(deps, accountId, pair.query, undefined, limit, pair.after);
  } else if (decisive.length >= 2 && (await pairsAreComplete(c, accountId))) {
    // Each word's expansion (up to `vocabularyProbe`) and the long rows, in one round trip.
    const [long, ...expansions] = await Promise.all([longNameRows(c, accountId, maxLongNames), ...decisive.map((w) => nameWordsPage(c, accountId, prefixRange(accountId, w), undefined, vocabularyProbe))]);
    const plan = long.length < maxLongNames ? planPairSearch(decisive, expansions.map((e) => e.length), vocabularyProbe) : null;
    if (plan) return pairSearch(deps, accountId, plan, { words: expansions[decisive.indexOf(plan.first)]!, long }, limit, undefined);
  }
  return wordSearch(deps, accountId, query, limit, cursor);
}

/** The `_id`s `{accountId}/{prefix}…`. */
function prefixRange(accountId: string, prefix: string) {
  const from = `${accountId}/${prefix}`;
  return { from, to: prefixEnd(from) };
}

/** How many of the account's words a query word's prefix is probed for: a pair search expands a word with fewer. */
const vocabularyProbe = 20;

/**
 * How many long rows (names of more than `maxPairedWords` words) a pair search reads each page: an account
 * with this many or more is searched by name words instead (a later page of a pair search started with
 * fewer reads this many).
 */
const maxLongNames = 200;

/** A pair search's cursor (`m: 'pair'`): the last pair read, and the two query words read by; null for another mode's cursor. */
function decodePairCursor(text: string, accountId: string, decisive: readonly string[]): { query: PairQuery; after: string } | null {
  let parsed: Partial<ContactCursor>;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as Partial<ContactCursor>;
  } catch {
    return null;
  }
  if (parsed.m !== 'pair') return null;
  const { x, y, i } = parsed;
  if (typeof x === 'string' && typeof y === 'string' && typeof i === 'string' && x !== y && decisive.includes(x) && decisive.includes(y) && i.startsWith(`${accountId}/${x}`)) {
    return { query: { words: decisive, first: x, second: y }, after: i };
  }
  throw new ApiError({ code: 'validation_failed', message: 'cursor: not a cursor this list returned for this q' });
}

/**
 * A search of several words by name pairs (workflows/conversation/core/contact-search.ts): `first`, the
 * query word that prefixes the fewest of the account's words, is expanded into those words (in order,
 * `vocabularyProbe` at a time), and for each word W the pairs `{accountId}/{W}/{second}…` are read in
 * `_id` order: exactly the contacts with W and a word `second` prefixes, each checked for the other query
 * words on the name the pair carries and listed at its listing pair only. The long rows (names of more
 * than `maxPairedWords` words, which have no pairs) are read whole and merged in at their listing pair.
 *
 * So the order is (the contact's smallest word `first` prefixes, its smallest word `second` prefixes,
 * customer), and a page of 25 reads about 26 pairs and one expansion, whatever the account's size. A page
 * reads at most `maxExaminedNameWords` pairs and `maxPairReads` ranges, then answers with a cursor.
 */
async function pairSearch(deps: ApiDeps, accountId: string, query: PairQuery, first: { words: ContactNameWordDoc[]; long: ContactNamePairDoc[] } | undefined, limit: number, cursor: string | undefined) {
  const c = deps.collections.contactProfiles;
  const firstRange = prefixRange(accountId, query.first);
  // On a later page the expansion starts at the cursor's first word (`_id`s are `{accountId}/{W}/…`).
  const cursorWord = cursor?.slice(accountId.length + 1).split('/')[0];
  const [words, long] = first
    ? [first.words, first.long]
    : await Promise.all([nameWordsPage(c, accountId, { from: `${accountId}/${cursorWord}`, to: firstRange.to }, undefined, vocabularyProbe), longNameRows(c, accountId, maxLongNames)]);
  // The long rows that match, at their listing pair's `_id`, after the cursor, in order.
  const longHits = long
    .flatMap((row) => {
      const at = listingPair(row.name, query);
      return at ? [{ _id: contactNamePairId(accountId, at.first, at.second, row.customer), doc: row, long: true }] : [];
    })
    .filter((hit) => cursor === undefined || hit._id > cursor)
    .sort(byId);
  const found: { _id: string; item: ReturnType<typeof itemOfWord> }[] = [];
  const page = (next: string | null) => ({ items: found.slice(0, limit).map((f) => f.item), nextCursor: next === null ? null : encodeCursor({ m: 'pair', i: next, x: query.first, y: query.second }) });
  let after = cursor;
  let reads = 0;
  let examined = 0;
  let chunk = words;
  for (;;) {
    for (const { word } of chunk) {
      const range = prefixRange(accountId, `${word}/${query.second}`);
      if (after !== undefined && range.to <= after) continue;
      for (;;) {
        if (reads >= maxPairReads || examined >= maxExaminedNameWords) return page(after!);
        // Two words: nearly every pair read lists its contact. More: the others are checked, so read more.
        const size = Math.min(200, (limit + 1 - found.length) * (query.words.length > 2 ? 4 : 1));
        const pairs = await namePairsPage(c, accountId, range, after, size);
        reads += 1;
        examined += pairs.length;
        // What this read covers: up to its last pair, or the whole range when it ended there.
        const end = pairs.length === size ? pairs.at(-1)!._id : range.to;
        const merged = pairs.map((doc) => ({ _id: doc._id, doc, long: false }));
        while (longHits.length > 0 && longHits[0]!._id <= end) merged.push(longHits.shift()!);
        for (const { _id, doc, long } of merged.sort(byId)) {
          const at = long ? null : listingPair(doc.name, query);
          if (long || (at && at.first === doc.first && at.second === doc.second)) found.push({ _id, item: itemOfWord(doc) });
          if (found.length > limit) return page(found[limit - 1]!._id);
        }
        // Past this read: its last pair, or the range's end (no `_id` equals it: they end with a customer).
        after = end;
        if (pairs.length < size) break;
      }
    }
    if (chunk.length < vocabularyProbe) return page(null);
    chunk = await nameWordsPage(c, accountId, firstRange, chunk.at(-1)!._id, vocabularyProbe);
  }
}

const byId = (a: { _id: string }, b: { _id: string }) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

/** How many pair ranges one page reads at most before answering with what it found and a cursor. */
const maxPairReads = 60;

/**
 * The search by name words (one word, or several a pair search does not serve: `planPairSearch`). Name
 * words of the driver's prefix, in (word, customer) order, each contact listed once, at the smallest
 * of its name's words the driver prefixes (`listedWord`), when its name has every query word.
 *
 * - **The driver**: with one word, that word. With several, the first `probeSize` words of each query
 *   word's range are read at once and the word with the fewest drives ("silva ana": whichever name is
 *   rarer bounds what is read); the driver is kept in the cursor, so later pages read on from it.
 * - **A word carries its contact's list item** (name, attributes, first seen; written with every copy of
 *   the profile, and an older name's words deleted: store/contact-profiles.ts `writeCopy`), so a page is
 *   answered from the words alone: one indexed read per batch, no read per contact. A word written before
 *   words carried the item is checked on the profile (one point read each), as before.
 * - A page reads at most `maxExaminedNameWords` words, then answers what it found with a cursor.
 */
async function wordSearch(deps: ApiDeps, accountId: string, query: { words: string[]; driver: string }, limit: number, cursor: string | undefined) {
  const c = deps.collections.contactProfiles;
  const rangeOf = (word: string) => prefixRange(accountId, word);
  let driver: string;
  let after: string | undefined;
  let batch: ContactNameTermDoc[] | undefined;
  let size = 0;
  if (cursor !== undefined) ({ driver, after } = decodeNameCursor(cursor, accountId, query.words, query.driver));
  else if (query.words.length === 1) driver = query.words[0]!;
  else {
    const probes = await Promise.all(query.words.map((w) => nameTermsPage(c, accountId, rangeOf(w), undefined, probeSize)));
    let pick = 0;
    for (let i = 1; i < query.words.length; i++) {
      const fewer = probes[i]!.length < probes[pick]!.length;
      if (fewer || (probes[i]!.length === probes[pick]!.length && [...query.words[i]!].length > [...query.words[pick]!].length)) pick = i;
    }
    driver = query.words[pick]!;
    batch = probes[pick]!;
    size = probeSize;
  }
  const listed = { words: query.words, driver };
  const range = rangeOf(driver);
  const items: ReturnType<typeof contactSummaryView>[] = [];
  let examined = 0;
  for (;;) {
    if (batch === undefined) {
      // One word: nearly every name word is a hit (a contact with two such words is listed at one of them).
      // Several: as many as the share of hits so far says the page still needs, at least four per item.
      const needed = limit - items.length;
      const expected = examined > 0 ? Math.ceil((needed * examined) / Math.max(1, items.length)) : 0;
      size = Math.min(200, Math.max(needed * (query.words.length === 1 ? 1 : 4), expected) + 1);
      batch = await nameTermsPage(c, accountId, range, after, size);
    }
    const terms = batch;
    batch = undefined;
    // Checked on the name the word carries (no read); a word without one is checked on the profile.
    const passing = terms.map((t) => t.name === undefined || listedWord(t.name, listed) === t.word);
    let i = 0;
    while (i < terms.length && items.length < limit) {
      // The next words that passed, as many as the page still needs; those without an item read at once.
      const slice: number[] = [];
      let j = i;
      for (; j < terms.length && slice.length < limit - items.length; j++) if (passing[j]) slice.push(j);
      const toRead = slice.filter((k) => !carriesItem(terms[k]!));
      const read = await profileCopies(
        c,
        accountId,
        toRead.map((k) => terms[k]!.customer),
      );
      const profiles = new Map(toRead.map((k, n) => [k, read[n]]));
      for (; i < j && items.length < limit; i++) {
        const term = terms[i]!;
        after = term._id;
        examined += 1;
        if (!passing[i]) continue;
        if (carriesItem(term)) {
          items.push(itemOfWord(term));
          continue;
        }
        const profile = profiles.get(i);
        if (profile && listedWord(nameOf(profileOf(profile)), listed) === term.word) items.push(contactSummaryView(profile));
      }
    }
    const next = () => encodeCursor({ m: 'name', i: after!, d: driver });
    if (items.length === limit) return { items, nextCursor: i < terms.length || terms.length === size ? next() : null };
    if (terms.length < size) return { items, nextCursor: null };
    if (examined >= maxExaminedNameWords) return { items, nextCursor: next() };
  }
}

/** `GET .../contacts/{customer}`: the profile with every conversation of the customer; 404 for one the account does not know. */
export async function getContact(deps: ApiDeps, accountId: string, customer: string) {
  const profile = /^\d{1,20}$/.test(customer) ? await newestContact(deps.collections.contactProfiles, accountId, customer) : null;
  if (!profile || profile.rev === 0) throw notFound('contact');
  return profileView(deps, accountId, customer, profile);
}

/** `PATCH .../contacts/{customer}`: merges the name and attributes given (each the latest value now); the profile after it. */
export async function patchContact(deps: ApiDeps, accountId: string, customer: string, body: { name?: string | undefined; attributes?: Record<string, string | null> | undefined }) {
  const profile = /^\d{1,20}$/.test(customer) ? await editContact(deps.collections.contactProfiles, accountId, customer, { at: Date.now(), ...body }) : null;
  if (!profile) throw notFound('contact');
  return profileView(deps, accountId, customer, profile);
}

/** The profile answer: the conversations are the customer's on each channel they wrote on (point reads of their views). */
async function profileView(deps: ApiDeps, accountId: string, customer: string, profile: ContactProfile) {
  const views = await Promise.all(profile.channels.map((channel) => findView(deps.collections, conversationWorkflowId({ accountId, channel, customer }))));
  const conversations = views.flatMap((v) => (v ? [{ conversationId: v._id, channel: v.channel, status: v.status, episodes: v.episode }] : []));
  const lastSeen = views.map((v) => v?.lastCustomerMessageAt ?? null).filter((t): t is string => t !== null);
  return {
    ...contactSummaryView({ customer, ...profile }),
    lastSeenAt: lastSeen.length > 0 ? lastSeen.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b)) : null,
    conversations,
  };
}

/**
 * A conversation's contact as canned responses fill it (SPEC 10 pinned details, one profile read for both):
 * `{{customer.name}}` is the contact's name (a user's correction over the provider's profile name) and
 * `{{attributes.<key>}}` its attributes, which customer messages and `PATCH .../contacts` keep. A customer
 * with no profile yet (its messages all came before profiles were kept, and the contact backfill has not
 * run: README "Contacts and search") has no name here (the caller takes the view's) and, when `attributes`
 * is asked for, the attributes of its customer messages, as before.
 */
export async function contactForReply(deps: ApiDeps, conversationId: string, want: { attributes: boolean }): Promise<{ name: string | null; attributes: Record<string, string> }> {
  const ref = parseConversationId(conversationId);
  if (!ref) return { name: null, attributes: {} };
  const profile = await newestContact(deps.collections.contactProfiles, ref.accountId, ref.customer);
  if (profile.rev > 0) return { name: nameOf(profile), attributes: profile.attributes };
  return { name: null, attributes: want.attributes ? latestAttributes(await contactAttributeMessages(deps.collections, conversationId)) : {} };
}
