import type { Collection, Db, Filter } from 'mongodb';
import type { MessageRecord } from '../workflows/conversation/core/model';
import { termsOf } from '../workflows/conversation/core/search-words';
import { searchTermId } from './ids';

/**
 * The search index of SPEC 11 (`GET .../search`): one posting per term of each message, note and business
 * message with text, written by the conversation's `persist` with the message (store/DESIGN.md, "Search").
 *
 * Why our own index: FerretDB has no text index, and a `$regex` over `messages` reads and decodes the
 * whole collection on FerretDB (only an exact `_id` or, with our top-N pushdown, an indexed equality plus
 * a sort on `_id` is served from an index: dev/ferretdb-pushdown/README.md). MongoDB's `$text` would
 * serve MongoDB only, matches whole stemmed words rather than prefixes, and cannot give newest first
 * without reading every match. A posting per term prefix (workflows/conversation/core/search-words.ts)
 * turns "word prefix, newest first" into an equality on `term` read in `_id` order, which both stores
 * serve from `account_term_newest` `{ accountId, term, _id: -1 }`, stopping after one page: the cost of a
 * page does not grow with the number of messages.
 */
export interface SearchTermDoc {
  _id: string;
  accountId: string;
  term: string;
  conversationId: string;
  messageId: string;
  /** The message's time, epoch ms (the workflow's clock, as the message's `at`). */
  at: number;
}

export function searchTerms(db: Db): Collection<SearchTermDoc> {
  return db.collection<SearchTermDoc>('search_terms');
}

/** The postings a batch's messages ask for: every term of every message with text, once per message. */
export function searchTermDocsOf(accountId: string, conversationId: string, messages: readonly MessageRecord[]): SearchTermDoc[] {
  return messages.flatMap((m) =>
    m.text
      ? termsOf(m.text).map((term) => ({ _id: searchTermId(accountId, term, m.at, conversationId, m.messageId), accountId, term, conversationId, messageId: m.messageId, at: m.at }))
      : [],
  );
}

/** The postings of one term, newest first, after `before` (the last `_id` read), at most `limit`. */
export function termPostings(terms: Collection<SearchTermDoc>, accountId: string, term: string, before: string | undefined, limit: number): Promise<SearchTermDoc[]> {
  const filter: Filter<SearchTermDoc> = { accountId, term, ...(before === undefined ? {} : { _id: { $lt: before } }) };
  return terms.find(filter).sort({ _id: -1 }).limit(limit).toArray();
}

/**
 * Which of `candidates` (postings of one term, newest first, as `termPostings` reads them) have a message
 * that also has `term`. Within a term, `_id` order is the order of `{time}/{conversationId}/{messageId}`,
 * the same for every term, so the candidates' postings of `term` lie in one range of `_id`s, from the
 * oldest candidate's to the newest's. That range is read at once (at most `2n + 1` postings, in index
 * order: one indexed read however many candidates), and decides every candidate down to where the read
 * stopped; the older ones, when `term` is much more common there than the candidates' own term, are one
 * read by `_id` each (their posting `_id` for `term` is known). So two common words that seldom meet in a
 * message cost a few range reads per page instead of one read per candidate, and a common word checked
 * on a rare word's candidates costs at most one short range read more than before.
 */
export async function termMembership(terms: Collection<SearchTermDoc>, accountId: string, term: string, candidates: readonly SearchTermDoc[]): Promise<boolean[]> {
  if (candidates.length === 0) return [];
  const idOf = (p: SearchTermDoc) => searchTermId(accountId, term, p.at, p.conversationId, p.messageId);
  const newest = idOf(candidates[0]!);
  const oldest = idOf(candidates.at(-1)!);
  const limit = 2 * candidates.length + 1;
  // Both ends included; bounds the FerretDB pushdown carries into its index scan (plain strings).
  const read = await terms
    .find({ accountId, term, _id: { $gte: oldest, $lte: newest } }, { projection: { _id: 1 } })
    .sort({ _id: -1 })
    .limit(limit)
    .toArray();
  const found = new Set(read.map((d) => d._id));
  // Every posting of `term` from `decidedDown` up to `newest` was read.
  const decidedDown = read.length < limit ? oldest : read.at(-1)!._id;
  return Promise.all(
    candidates.map((p) => {
      const id = idOf(p);
      return id >= decidedDown ? found.has(id) : messageHasTerm(terms, p, term);
    }),
  );
}

/** Whether the message of `posting` also has `term`: one read by `_id` (its posting's `_id` is known). */
export async function messageHasTerm(terms: Collection<SearchTermDoc>, posting: SearchTermDoc, term: string): Promise<boolean> {
  const id = searchTermId(posting.accountId, term, posting.at, posting.conversationId, posting.messageId);
  return (await terms.findOne({ _id: id }, { projection: { _id: 1 } })) !== null;
}
