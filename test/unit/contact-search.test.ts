import fc from 'fast-check';
import { decisiveWords, listingPair, maxPairedWords, namePairsOf, planPairSearch } from '../../workflows/conversation/core/contact-search';
import { matchesAll, wordsOf } from '../../workflows/conversation/core/search-words';

/** The contacts' search by name pairs (workflows/conversation/core/contact-search.ts): what is written and what a query reads. */

const nameWord = fc.constantFrom('Ana', 'ana', 'Anabela', 'Ánã', 'Silva', 'Silvana', 'silva', 'Souza', 'João', 'Joana', 'Maria', 'Mariana', 'de', 'da', 'x', 'Zé', 'Íris', 'Irís', '42');
const name = fc.array(nameWord, { minLength: 1, maxLength: 11 }).map((words) => words.join(' '));
const queryWord = fc.constantFrom('a', 'an', 'ana', 'anab', 'anã', 'si', 'silva', 'silvan', 'so', 'jo', 'joa', 'joao', 'mari', 'maria', 'd', 'de', 'iris', 'z', '4', 'zz');
const query = fc.array(queryWord, { minLength: 1, maxLength: 4 }).map((words) => wordsOf(words.join(' ')));

describe('pairs of a name', () => {
  test.each<[string, string | null, string[] | number | 'long']>([
    ['two words: both orders', 'Ana Silva', ['ana silva', 'silva ana']],
    ['a repeated word counts once, folded', 'Ana ANA Silva', ['ana silva', 'silva ana']],
    ['one word: no pair (it is found by its words)', 'Ana', []],
    ['no name', null, []],
    ['eight distinct words: all 56 pairs', 'a b c d e f g h', 56],
    ['nine: one long row instead', 'a b c d e f g h i', 'long'],
  ])('%s', (_, given, expected) => {
    const pairs = namePairsOf(given);
    if (typeof expected === 'number') expect(pairs.kind === 'pairs' && pairs.pairs.length).toBe(expected);
    else expect(pairs.kind === 'pairs' ? pairs.pairs.map((p) => p.join(' ')).sort() : pairs.kind).toEqual(expected);
  });

  test('a name of more distinct words than maxPairedWords is one long row; up to it, every ordered pair of distinct words', () => {
    fc.assert(
      fc.property(name, (n) => {
        const distinct = new Set(wordsOf(n));
        const pairs = namePairsOf(n);
        if (distinct.size > maxPairedWords) expect(pairs.kind).toBe('long');
        else expect(pairs).toEqual({ kind: 'pairs', pairs: [...distinct].flatMap((a) => [...distinct].filter((b) => b !== a).map((b) => [a, b])) });
      }),
    );
  });
});

describe('decisive words', () => {
  test.each<[string[], string[]]>([
    [['an', 'ana'], ['ana']],
    [['ana', 'an', 'silva', 's'], ['ana', 'silva']],
    [['ana', 'ana'], ['ana']],
    [['silva', 'ana'], ['silva', 'ana']],
  ])('%j decide as %j', (words, expected) => expect(decisiveWords(words)).toEqual(expected));

  test('a name has every query word exactly when it has every decisive word, and no name word starts with two decisive words', () => {
    fc.assert(
      fc.property(name, query, (n, q) => {
        const decisive = decisiveWords(q);
        const words = wordsOf(n);
        expect(matchesAll(decisive, words)).toBe(matchesAll(q, words));
        for (const w of words) expect(decisive.filter((d) => w.startsWith(d)).length).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('the listing pair', () => {
  test('exists exactly when the name has every query word, is a pair the name is written with, and is one per name', () => {
    fc.assert(
      fc.property(name, query, fc.nat(), (n, q, pick) => {
        const words = decisiveWords(q);
        if (words.length < 2) return;
        const first = words[pick % words.length]!;
        const second = words[(pick + 1) % words.length]!;
        const at = listingPair(n, { words, first, second });
        expect(at !== null).toBe(matchesAll(q, wordsOf(n)));
        if (at === null) return;
        expect(at.first.startsWith(first) && at.second.startsWith(second)).toBe(true);
        const pairs = namePairsOf(n);
        if (pairs.kind === 'pairs') expect(pairs.pairs).toContainEqual([at.first, at.second]);
      }),
    );
  });

  test('the smallest word each query word prefixes', () => {
    expect(listingPair('Anabela Ana Silvana Silva', { words: ['ana', 'silva'], first: 'ana', second: 'silva' })).toEqual({ first: 'ana', second: 'silva' });
    expect(listingPair('Anabela Silvana', { words: ['ana', 'silva'], first: 'silva', second: 'ana' })).toEqual({ first: 'silvana', second: 'anabela' });
    expect(listingPair('Ana Souza', { words: ['ana', 'silva'], first: 'ana', second: 'silva' })).toBeNull();
    expect(listingPair(null, { words: ['ana', 'silva'], first: 'ana', second: 'silva' })).toBeNull();
  });
});

describe('planning a pair search', () => {
  test.each<[string, string[], number[], { first: string; second: string } | null]>([
    ['the word with the fewest of the account’s words is expanded, the next is the prefix', ['an', 'silva', 'jo'], [12, 1, 3], { first: 'silva', second: 'jo' }],
    ['ties: the longer word first', ['ana', 'silva'], [1, 1], { first: 'silva', second: 'ana' }],
    ['one decisive word: no pair search', ['ana'], [1], null],
    ['a word no name has: no pair search (one empty read answers)', ['ana', 'zz'], [3, 0], null],
    ['every word too common to expand: no pair search', ['a', 'b'], [20, 20], null],
    ['one word under the cap is enough', ['a', 'b'], [20, 19], { first: 'b', second: 'a' }],
  ])('%s', (_, words, counts, expected) => {
    const plan = planPairSearch(words, counts, 20);
    expect(plan && { first: plan.first, second: plan.second }).toEqual(expected);
  });
});
