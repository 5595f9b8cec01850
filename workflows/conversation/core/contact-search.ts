import { matchesAll, wordsOf } from './search-words';

/**
 * The contacts' name search by word pairs (SPEC 11; store/DESIGN.md "Contacts"). Pure: the store writes a
 * name's pairs with `namePairsOf`, and the API plans a query and decides which pair lists a contact with
 * the functions here, so what is written and what is read can never disagree.
 *
 * - **Pairs**: a name of at most `maxPairedWords` distinct words is written as every ordered pair of two
 *   of its distinct words; a longer name is one "long" row instead (read whole by every pair search: few).
 * - **Decisive words**: a query word that is a prefix of another adds nothing (the name word the longer one
 *   prefixes has it too), so it is dropped. Then no name word starts with two query words (one would be a
 *   prefix of the other), and a name has every query word exactly when, for any two of them `first` and
 *   `second`, it has a pair (word starting with `first`, another word starting with `second`) and the rest.
 * - **The listing pair**: a contact is listed once, at the pair of its smallest word that starts with
 *   `first` and its smallest word that starts with `second`.
 */

/** The most distinct words of a name written as pairs (at most 8 × 7 = 56 pairs a copy). */
export const maxPairedWords = 8;

/** A name's pair rows: every ordered pair of distinct words, or one long row (more than `maxPairedWords` words). */
export type NamePairs = { kind: 'pairs'; pairs: [string, string][] } | { kind: 'long' };

export function namePairsOf(name: string | null): NamePairs {
  const words = name === null ? [] : [...new Set(wordsOf(name))];
  if (words.length > maxPairedWords) return { kind: 'long' };
  return { kind: 'pairs', pairs: words.flatMap((a) => words.filter((b) => b !== a).map((b): [string, string] => [a, b])) };
}

/** The query words that decide a match: distinct, and none a prefix of another, in the order given. */
export function decisiveWords(words: readonly string[]): string[] {
  const distinct = [...new Set(words)];
  return distinct.filter((w) => !distinct.some((other) => other !== w && other.startsWith(w)));
}

/** A pair search: `first` is expanded into the account's words it prefixes, `second` is a prefix within each. */
export interface PairQuery {
  words: readonly string[];
  first: string;
  second: string;
}

/**
 * Which two query words a pair search reads by, from how many of the account's distinct name words each
 * prefixes (counted up to `cap`): `first` the one with the fewest (each of its words is one range read),
 * `second` the next fewest (ties: the longer word, then the earlier). Null, and the search reads name
 * words instead, when there are fewer than two decisive words, when each prefixes `cap` words or more
 * (too many ranges), or when one prefixes none (the answer is then empty, and a name word search finds
 * that from one empty read; it also keeps contacts written before pairs were found until the backfill).
 */
export function planPairSearch(words: readonly string[], vocabularyCounts: readonly number[], cap: number): PairQuery | null {
  if (words.length < 2 || vocabularyCounts.some((n) => n === 0)) return null;
  const order = words.map((w, i) => ({ w, n: vocabularyCounts[i]!, len: [...w].length, i }));
  order.sort((a, b) => a.n - b.n || b.len - a.len || a.i - b.i);
  if (order[0]!.n >= cap) return null;
  return { words, first: order[0]!.w, second: order[1]!.w };
}

/** The pair a contact is listed at for a pair search; null when its name does not have every query word. */
export function listingPair(name: string | null, query: PairQuery): { first: string; second: string } | null {
  if (name === null) return null;
  const words = wordsOf(name);
  if (!matchesAll(query.words, words)) return null;
  const smallest = (prefix: string) => words.filter((w) => w.startsWith(prefix)).sort()[0];
  const first = smallest(query.first);
  const second = smallest(query.second);
  return first !== undefined && second !== undefined && first !== second ? { first, second } : null;
}
