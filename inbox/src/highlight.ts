/**
 * Search results in the inbox (SPEC 11): which queries go to the API, and which parts of a snippet the
 * query matched. Pure, and built on the very word rules the API searches with
 * (workflows/conversation/core/search-words.ts), so what is marked is what was found: a word of the
 * text is marked where a query word is a prefix of it (case and accents ignored). The page renders the
 * parts as text and `<mark>` elements, never as HTML, so a customer's text cannot inject markup.
 */
import { parseContactQuery, parseSearchQuery, wordSpans, wordsOf } from '../../workflows/conversation/core/search-words';

/** Whether the message search would take `q` (the API answers 400 otherwise: under 2 characters, no word of 2). */
export const searchable = (q: string): boolean => parseSearchQuery(q).ok;

/** Whether the contacts search would take `q` (a name word or 2 phone digits). */
export const contactSearchable = (q: string): boolean => parseContactQuery(q).kind !== 'invalid';

export interface Part {
  text: string;
  hit: boolean;
}

/**
 * The snippet cut into plain and matched parts, in order; joined they are the snippet. The matched part
 * is the prefix the query word covers ("ped" in "pedido"), or the whole word for a query word whose fold
 * is longer than the text's characters can be cut at.
 */
export function highlightParts(snippet: string, q: string): Part[] {
  const queryWords = [...new Set(wordsOf(q))];
  if (queryWords.length === 0) return snippet === '' ? [] : [{ text: snippet, hit: false }];
  const parts: Part[] = [];
  let at = 0;
  for (const span of wordSpans(snippet)) {
    const longest = queryWords.filter((w) => span.word.startsWith(w)).sort((a, b) => b.length - a.length)[0];
    // A character that folds into several words ("½" is "1⁄2") starts two spans: it is marked once.
    if (longest === undefined || span.start < at) continue;
    const end = markEnd(snippet, span.start, span.end, longest);
    if (span.start > at) parts.push({ text: snippet.slice(at, span.start), hit: false });
    parts.push({ text: snippet.slice(span.start, end), hit: true });
    at = end;
  }
  if (at < snippet.length) parts.push({ text: snippet.slice(at), hit: false });
  return parts;
}

/**
 * Where the mark of a prefix ends in the original text: after the fewest characters of the word whose
 * fold starts with the query word (so "ped" marks "Ped" of "Pedido" and "açã" marks "açã" of "ação").
 */
function markEnd(text: string, start: number, end: number, queryWord: string): number {
  let offset = start;
  for (const char of text.slice(start, end)) {
    offset += char.length;
    if (wordsOf(text.slice(start, offset)).join('').startsWith(queryWord)) {
      // Combining marks after the last letter belong to it ("a" + U+0303 is one "ã").
      while (offset < end && /\p{M}/u.test(String.fromCodePoint(text.codePointAt(offset)!))) offset += text.codePointAt(offset)! > 0xffff ? 2 : 1;
      return offset;
    }
  }
  return end;
}
