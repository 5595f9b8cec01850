/**
 * Words for search (SPEC 11): message and note search, and the contacts' name search. Pure: the persist
 * activity indexes a message's terms with these, and the API parses a query, checks candidates and cuts
 * snippets with the same functions, so the index and the check can never disagree about what a word is.
 *
 * - **Fold** (case and accent insensitive): NFKD, lower case, NFKD again, combining marks dropped.
 *   NFKD rather than NFD so that compatibility forms fold too (full-width "Ｈｉ", the ligature "ﬁ"); the
 *   second NFKD catches a lower-casing that brings marks of its own ("İ" lowers to "i" + U+0307); a final
 *   sigma becomes a sigma (lower-casing "Σ" depends on where it is in a word).
 * - **Words**: the letters and digits of a text once folded, split at everything else (`wordSpans`), each
 *   knowing where it is in the original (snippets).
 * - **Terms** (the index): every prefix of a word from `minTermLength` to `maxTermLength` characters.
 *   A query word of 2 to 12 characters is then one exact term whose postings are already in time order
 *   (store/search-index.ts), and a longer one is found by its 12-character prefix and checked on the
 *   candidates. Words of one character are not indexed: they are checked, never looked up.
 */

export const minTermLength = 2;
export const maxTermLength = 12;

const marks = /\p{M}/gu;
const wordChar = /[\p{L}\p{N}]/u;

/** Case and accent folding: "Ação" and "ACAO" fold to "acao" (and a final sigma to a sigma). */
export function fold(text: string): string {
  return text.normalize('NFKD').toLowerCase().normalize('NFKD').replace(marks, '').replace(/ς/g, 'σ');
}

/** A folded word and where it is in the original text (UTF-16 offsets), for snippets. */
export interface WordSpan {
  word: string;
  start: number;
  end: number;
}

/**
 * The words of a text with their places, one character at a time: each character's fold (so ASCII is
 * cheap, and a mark, which folds to nothing, joins the word it is in) adds letters and digits to the
 * current word, and anything else ends it. A character that folds into several ("½" to "1⁄2", "ﬁ" to
 * "fi") gives what its fold gives.
 */
export function wordSpans(text: string): WordSpan[] {
  const spans: WordSpan[] = [];
  let word = '';
  let start = 0;
  let end = 0;
  const close = () => {
    if (word !== '') spans.push({ word, start, end });
    word = '';
  };
  let offset = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    const folded = code < 0x80 ? (/[A-Za-z0-9]/.test(char) ? char.toLowerCase() : ' ') : /\p{M}/u.test(char) ? '' : fold(char);
    for (const f of folded) {
      if (wordChar.test(f)) {
        if (word === '') start = offset;
        word += f;
        end = offset + char.length;
      } else close();
    }
    if (folded === '' && word !== '') end = offset + char.length;
    offset += char.length;
  }
  close();
  return spans;
}

/** The folded words of a text, in order (repeats kept). */
export const wordsOf = (text: string): string[] => wordSpans(text).map((s) => s.word);

/** The prefix of a word the index keeps for it: at most `maxTermLength` characters (code points). */
export function termOf(word: string): string {
  const chars = [...word];
  return chars.length <= maxTermLength ? word : chars.slice(0, maxTermLength).join('');
}

/** Every term a text is found by: each prefix of each word, 2 to 12 characters, each once, sorted. */
export function termsOf(text: string): string[] {
  const terms = new Set<string>();
  for (const word of wordsOf(text)) {
    const chars = [...word];
    for (let n = minTermLength; n <= Math.min(chars.length, maxTermLength); n++) terms.add(chars.slice(0, n).join(''));
  }
  return [...terms].sort();
}

/** A search query: its folded words, and the one term its candidates are read by. */
export type SearchQuery = { ok: true; words: string[]; driver: string } | { ok: false; reason: string };

/**
 * Parses `q`: at least 2 characters, and at least one word of 2 or more (a word of one character cannot
 * be looked up, only checked). The driver is the longest word (the first of the longest): the longer a
 * prefix, the fewer messages carry it, so the fewer candidates the others are checked on.
 */
export function parseSearchQuery(q: string): SearchQuery {
  if (q.trim().length < minTermLength) return { ok: false, reason: `at least ${minTermLength} characters` };
  const words = [...new Set(wordsOf(q))];
  let longest = '';
  for (const w of words) if ([...w].length > [...longest].length) longest = w;
  if ([...longest].length < minTermLength) return { ok: false, reason: `at least one word of ${minTermLength} or more letters or digits` };
  return { ok: true, words, driver: termOf(longest) };
}

/** SPEC 11: every query word is a prefix of some word of the text. */
export function matchesAll(queryWords: readonly string[], textWords: readonly string[]): boolean {
  return queryWords.every((q) => textWords.some((w) => w.startsWith(q)));
}

export const snippetLength = 160;

/**
 * A part of the text around the first word a query word is a prefix of, at most `snippetLength`
 * characters plus an ellipsis on each side that was cut, on whitespace where there is some. The text
 * itself when it is short enough; its start when no word matches (a caller checks `matchesAll` first).
 */
export function snippetOf(text: string, queryWords: readonly string[], length: number = snippetLength): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= length) return flat;
  const hit = wordSpans(flat).find((s) => queryWords.some((q) => s.word.startsWith(q)));
  const centre = hit ? Math.floor((hit.start + hit.end) / 2) : 0;
  let start = Math.max(0, Math.min(centre - Math.floor(length / 2), flat.length - length));
  let end = Math.min(flat.length, start + length);
  // Move the cuts to word boundaries, never past the hit.
  if (start > 0) {
    const space = flat.indexOf(' ', start);
    if (space !== -1 && space < (hit?.start ?? end) && space < end) start = space + 1;
  }
  if (end < flat.length) {
    const space = flat.lastIndexOf(' ', end);
    if (space > (hit?.end ?? start) && space > start) end = space;
  }
  // Never cut a surrogate pair in two.
  if (start > 0 && isLowSurrogate(flat.charCodeAt(start))) start -= 1;
  if (end < flat.length && isLowSurrogate(flat.charCodeAt(end))) end -= 1;
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}

const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/**
 * The contacts' query (SPEC 11): phone digits when `q` is digits once spaces, `+`, `-`, `.` and brackets
 * are left out (a prefix of the customer's WhatsApp id), else name words (each a prefix of a word of the
 * name; the longest drives, as for messages).
 */
export type ContactQuery = { kind: 'phone'; digits: string } | { kind: 'name'; words: string[]; driver: string } | { kind: 'invalid'; reason: string };

export function parseContactQuery(q: string): ContactQuery {
  if (q.trim().length < minTermLength) return { kind: 'invalid', reason: `at least ${minTermLength} characters` };
  const digits = q.replace(/[\s+().-]/g, '');
  if (/^\d+$/.test(digits)) {
    return digits.length >= minTermLength ? { kind: 'phone', digits } : { kind: 'invalid', reason: `at least ${minTermLength} digits` };
  }
  const words = [...new Set(wordsOf(q))];
  let longest = '';
  for (const w of words) if ([...w].length > [...longest].length) longest = w;
  if (longest === '') return { kind: 'invalid', reason: 'no letters or digits' };
  return { kind: 'name', words, driver: longest };
}

/**
 * The name word under which a contact is listed for a name query: the smallest word of its name that
 * starts with the driver, so a contact whose name has several ("Mar" in "Maria Mariana") is listed once.
 * Null when the name does not match every query word.
 */
export function listedWord(name: string | null, query: { words: readonly string[]; driver: string }): string | null {
  if (name === null) return null;
  const words = wordsOf(name);
  if (!matchesAll(query.words, words)) return null;
  const starting = words.filter((w) => w.startsWith(query.driver)).sort();
  return starting[0] ?? null;
}
