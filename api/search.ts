import type { SearchTermDoc } from '../store/search-index';
import { termMembership, termPostings } from '../store/search-index';
import { messageDocId } from '../store/ids';
import { matchesAll, maxTermLength, minTermLength, parseSearchQuery, snippetOf, termOf, wordsOf } from '../workflows/conversation/core/search-words';
import { driverOf } from '../workflows/conversation/core/search-driver';
import { iso } from '../workflows/conversation/core/view';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';

/**
 * SPEC 11 search over the text of customer and business messages and notes (every user reads the
 * account's conversations, so every user searches all of them).
 *
 * 1. **The driver**: each word of 2 characters or more is one term of the index (its first 12
 *    characters). With one term, that is the driver. With several, the newest `probeSize` postings of
 *    each term are read at once and the sparsest term drives (core/search-driver.ts: the fewest
 *    postings, or when every term has more than the probe, the one whose probe reaches furthest back
 *    in time): it bounds the candidates (the longest word is not always the rarest: "pedido zebra").
 *    The driver is kept in the cursor, so the next pages read on from the same postings.
 * 2. **Candidates** are the driver's postings, newest first (store/search-index.ts). A candidate must
 *    have every other term too, decided without reading the message: for each other term, one read of
 *    its postings over the batch's range of time (store/search-index.ts `termMembership`), then, only
 *    where that term is far more common than the driver, one read by `_id` per candidate left.
 * 3. **Hits**: the messages of the candidates left are read by `_id` (for the snippet, and to check the
 *    words the terms cannot: one character, or longer than 12), as many as the page still needs.
 *
 * A page is bounded: at most `maxExamined` of the driver's postings are examined for it (and for each
 * other word, at most as many of its own, over the same time). Two words that are each common but
 * seldom meet ("alfa beta": each in half the messages, together in one in 1,000) so answer fewer than
 * `limit` items (often none) with a `nextCursor`: the search went that far back, and the next page goes
 * on from there; only `nextCursor: null` means the end. The bound is what keeps every page near 50 ms
 * on the embedded store whatever the words (bench/results/search.md); the inbox reads a few short pages
 * in a row before it shows them (inbox/src/search-box.tsx).
 */
export const maxExamined = 200;
const maxBatch = 200;
const probeSize = 50;

export interface SearchHit {
  conversationId: string;
  messageId: string;
  at: string;
  snippet: string;
}

type SearchCursor = { t: string; i: string };

const encodeCursor = (cursor: SearchCursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function decodeCursor(text: string, accountId: string, terms: readonly string[]): SearchCursor {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as Partial<SearchCursor>;
    if (typeof parsed.t === 'string' && terms.includes(parsed.t) && typeof parsed.i === 'string' && parsed.i.startsWith(`${accountId}/${parsed.t}/`)) return { t: parsed.t, i: parsed.i };
  } catch {
    // fall through
  }
  throw new ApiError({ code: 'validation_failed', message: 'cursor: not a cursor this search returned for this q' });
}

const length = (word: string) => [...word].length;

/** `GET .../search?q=`: `{ items: [{ conversationId, messageId, at, snippet }], nextCursor }`, newest first. */
export async function searchMessages(deps: ApiDeps, accountId: string, query: { q: string; limit: number; cursor?: string | undefined }) {
  const parsed = parseSearchQuery(query.q);
  if (!parsed.ok) throw new ApiError({ code: 'validation_failed', message: `q: ${parsed.reason}`, details: [{ path: 'q', message: parsed.reason }] });
  const { words } = parsed;
  const terms = [...new Set(words.filter((w) => length(w) >= minTermLength).map(termOf))];
  // Words the postings cannot confirm on their own: the message's text is checked for every word then.
  const needsText = words.some((w) => length(w) < minTermLength || length(w) > maxTermLength);
  const postings = deps.collections.searchTerms;

  let driver: string;
  let before: string | undefined;
  let batch: SearchTermDoc[] | undefined;
  let size: number;
  if (query.cursor !== undefined) {
    ({ t: driver, i: before } = decodeCursor(query.cursor, accountId, terms));
    size = Math.min(maxBatch, query.limit * 4 + 1);
  } else if (terms.length === 1) {
    driver = terms[0]!;
    size = query.limit + 1;
  } else {
    const probes = await Promise.all(terms.map((t) => termPostings(postings, accountId, t, undefined, probeSize)));
    const pick = driverOf(probes.map((probe, k) => ({ word: terms[k]!, count: probe.length, size: probeSize, oldestAt: probe.at(-1)?.at ?? null })));
    driver = terms[pick]!;
    batch = probes[pick]!;
    size = probeSize;
  }
  const others = terms.filter((t) => t !== driver);

  const items: SearchHit[] = [];
  let examined = 0;
  for (;;) {
    batch ??= await termPostings(postings, accountId, driver, before, size);
    const current = batch;
    batch = undefined;
    const memberships = await Promise.all(others.map((t) => termMembership(postings, accountId, t, current)));
    const passing = current.map((_, k) => memberships.every((m) => m[k]));
    let i = 0;
    while (i < current.length && items.length < query.limit) {
      // The next candidates that passed, as many as the page still needs, read at once.
      const slice: SearchTermDoc[] = [];
      let j = i;
      for (; j < current.length && slice.length < query.limit - items.length; j++) if (passing[j]) slice.push(current[j]!);
      const hits = await Promise.all(slice.map((p) => hitOf(deps, p, words, needsText)));
      let k = 0;
      for (; i < j && items.length < query.limit; i++) {
        before = current[i]!._id;
        examined += 1;
        if (!passing[i]) continue;
        const hit = hits[k++];
        if (hit) items.push(hit);
      }
    }
    if (items.length === query.limit) return { items, nextCursor: i < current.length || current.length === size ? encodeCursor({ t: driver, i: before! }) : null };
    if (current.length < size) return { items, nextCursor: null };
    if (examined >= maxExamined) return { items, nextCursor: encodeCursor({ t: driver, i: before! }) };
    size = Math.min(maxBatch, maxExamined - examined);
  }
}

/** The posting's message as a hit, or null when it is not there or (`check`) does not hold every word. */
async function hitOf(deps: ApiDeps, posting: SearchTermDoc, words: readonly string[], check: boolean): Promise<SearchHit | null> {
  const message = await deps.collections.messages.findOne({ _id: messageDocId(posting.conversationId, posting.messageId) }, { projection: { text: 1 } });
  const text = message?.text;
  if (!text || (check && !matchesAll(words, wordsOf(text)))) return null;
  return { conversationId: posting.conversationId, messageId: posting.messageId, at: iso(posting.at)!, snippet: snippetOf(text, words) };
}
