import type { SearchTermDoc } from '../store/search-index';
import { termPostings } from '../store/search-index';
import { messageDocId } from '../store/ids';
import { matchesAll, maxTermLength, parseSearchQuery, snippetOf, wordsOf } from '../workflows/conversation/core/search-words';
import { iso } from '../workflows/conversation/core/view';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';

/**
 * SPEC 11 search over the text of customer and business messages and notes (every user reads the
 * account's conversations, so every user searches all of them). The driver word's postings are read
 * newest first (store/search-index.ts), and each candidate's message is read by `_id` and checked for
 * every word of the query (word prefixes, folded) and cut into a snippet.
 *
 * A page is bounded: at most `maxExamined` postings are read for it. A query whose other words are rare
 * beside a common driver may so answer fewer than `limit` items (even none) with a `nextCursor`: the
 * search went that far back; the next page goes on from there. Only `nextCursor: null` means the end.
 */
export const maxExamined = 1000;
const maxBatch = 200;

export interface SearchHit {
  conversationId: string;
  messageId: string;
  at: string;
  snippet: string;
}

const encodeCursor = (id: string) => Buffer.from(JSON.stringify({ i: id })).toString('base64url');

function decodeCursor(text: string, prefix: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as { i?: unknown };
    if (typeof parsed.i === 'string' && parsed.i.startsWith(prefix)) return parsed.i;
  } catch {
    // fall through
  }
  throw new ApiError({ code: 'validation_failed', message: 'cursor: not a cursor this search returned for this q' });
}

/** `GET .../search?q=`: `{ items: [{ conversationId, messageId, at, snippet }], nextCursor }`, newest first. */
export async function searchMessages(deps: ApiDeps, accountId: string, query: { q: string; limit: number; cursor?: string | undefined }) {
  const parsed = parseSearchQuery(query.q);
  if (!parsed.ok) throw new ApiError({ code: 'validation_failed', message: `q: ${parsed.reason}`, details: [{ path: 'q', message: parsed.reason }] });
  const { words, driver } = parsed;
  let before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, `${accountId}/${driver}/`);
  // Every posting of the driver is a hit when the query is that one word and the index holds it whole.
  const everyPostingHits = words.length === 1 && [...words[0]!].length <= maxTermLength;
  const items: SearchHit[] = [];
  let examined = 0;
  for (;;) {
    const want = query.limit - items.length;
    const size = everyPostingHits ? want + 1 : Math.min(maxBatch, want * 4 + 1);
    const postings = await termPostings(deps.collections.searchTerms, accountId, driver, before, size);
    // The messages of the postings this page may take, read at once (one point read each).
    const candidates = postings.slice(0, everyPostingHits ? want : postings.length);
    const hits = await Promise.all(candidates.map((p) => hitOf(deps, p, words)));
    for (let i = 0; i < candidates.length; i++) {
      before = candidates[i]!._id;
      examined += 1;
      const hit = hits[i];
      if (hit) items.push(hit);
      if (items.length === query.limit) return { items, nextCursor: i + 1 < postings.length || postings.length === size ? encodeCursor(before) : null };
    }
    if (postings.length < size) return { items, nextCursor: null };
    if (examined >= maxExamined) return { items, nextCursor: encodeCursor(before!) };
  }
}

/** The posting's message as a hit, or null when it does not hold every word (or is not there). */
async function hitOf(deps: ApiDeps, posting: SearchTermDoc, words: readonly string[]): Promise<SearchHit | null> {
  const message = await deps.collections.messages.findOne({ _id: messageDocId(posting.conversationId, posting.messageId) }, { projection: { text: 1 } });
  const text = message?.text;
  if (!text || !matchesAll(words, wordsOf(text))) return null;
  return { conversationId: posting.conversationId, messageId: posting.messageId, at: iso(posting.at)!, snippet: snippetOf(text, words) };
}
