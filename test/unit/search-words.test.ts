import fc from 'fast-check';
import {
  fold,
  listedWord,
  matchesAll,
  maxTermLength,
  parseContactQuery,
  parseSearchQuery,
  snippetLength,
  snippetOf,
  termOf,
  termsOf,
  wordSpans,
  wordsOf,
} from '../../workflows/conversation/core/search-words';

/** SPEC 11's words for search (workflows/conversation/core/search-words.ts): folding, terms, queries, snippets. */

/** Text made of words people type, with accents, cases, punctuation and emoji, so matches happen. */
const wordish = fc.constantFrom('olá', 'Ação', 'ACAO', 'pedido', 'Pedidos', 'naïve', 'straße', 'İstanbul', 'ﬁle', 'Ｈｉ', 'order', 'orders', '42', 'x', 'é', 'كتاب', '東京', 'e\u0301cole');
const separator = fc.constantFrom(' ', ', ', '! ', '\n', ' — ', '🙂', '-', "'", ' (', ') ', '...');
const text = fc.array(fc.tuple(wordish, separator), { maxLength: 30 }).map((parts) => parts.map(([w, s]) => w + s).join(''));
const anyText = fc.oneof(text, fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 40 }));

describe('folding and words', () => {
  test.each<[string, string, string[]]>([
    ['case and accents fold away', 'Olá AÇÃO', ['ola', 'acao']],
    ['a decomposed accent folds like a composed one', 'e\u0301cole école', ['ecole', 'ecole']],
    ['compatibility forms fold: full width, ligatures', 'Ｈｉ ﬁle', ['hi', 'file']],
    ['a capital I with a dot lowers without its dot', 'İstanbul', ['istanbul']],
    ['punctuation, emoji and hyphens separate words', "pedido#42, não-sei 🙂ok l'ami", ['pedido', '42', 'nao', 'sei', 'ok', 'l', 'ami']],
    ['digits are words', 'order 1234-5678', ['order', '1234', '5678']],
    ['scripts without case keep their letters', 'كتاب 東京', ['كتاب', '東京']],
    ['nothing but separators: no words', ' -- !? ', []],
  ])('%s', (_name, input, words) => {
    expect(wordsOf(input)).toEqual(words);
  });

  test('folding twice changes nothing', () => {
    fc.assert(fc.property(anyText, (t) => fold(fold(t)) === fold(t)));
  });

  test('words are folded, non-empty, made of letters and digits only, and folding a text does not change its words', () => {
    fc.assert(
      fc.property(anyText, (t) => {
        const words = wordsOf(t);
        for (const w of words) expect(w).toMatch(/^[\p{L}\p{N}]+$/u);
        for (const w of words) expect(fold(w)).toBe(w);
        expect(wordsOf(fold(t))).toEqual(words);
      }),
    );
  });

  test('each word comes from its span of the original text', () => {
    fc.assert(
      fc.property(anyText, (t) => {
        for (const s of wordSpans(t)) expect(fold(t.slice(s.start, s.end))).toContain(s.word);
      }),
    );
  });
});

describe('terms (what the index keeps)', () => {
  test('every prefix of 2 to 12 characters of each word, each once, sorted', () => {
    expect(termsOf('Pedido pedidos x')).toEqual(['pe', 'ped', 'pedi', 'pedid', 'pedido', 'pedidos']);
    expect(termsOf('internationalization')).toEqual(['in', 'int', 'inte', 'inter', 'intern', 'interna', 'internat', 'internati', 'internatio', 'internation', 'internationa']);
    expect(termsOf('a b c')).toEqual([]);
  });

  test('a query word of 2 characters or more is found by the term of it the index keeps for every word it prefixes', () => {
    fc.assert(
      fc.property(anyText, fc.nat(), fc.nat(), (t, pick, cut) => {
        const words = wordsOf(t);
        fc.pre(words.length > 0);
        const word = words[pick % words.length]!;
        const chars = [...word];
        fc.pre(chars.length >= 2);
        const prefix = chars.slice(0, 2 + (cut % (chars.length - 1))).join('');
        expect(termsOf(t)).toContain(termOf(prefix));
      }),
    );
  });

  test('no term is longer than the limit or shorter than 2', () => {
    fc.assert(fc.property(anyText, (t) => termsOf(t).every((term) => [...term].length >= 2 && [...term].length <= maxTermLength)));
  });
});

describe('queries', () => {
  test.each<[string, string, ReturnType<typeof parseSearchQuery>]>([
    ['one word', 'Pedido', { ok: true, words: ['pedido'], driver: 'pedido' }],
    ['the longest word drives', 'ok pedido 42', { ok: true, words: ['ok', 'pedido', '42'], driver: 'pedido' }],
    ['repeated words count once', 'ok OK', { ok: true, words: ['ok'], driver: 'ok' }],
    ['a word over 12 characters drives by its first 12', 'internationalization', { ok: true, words: ['internationalization'], driver: 'internationa' }],
    ['one-character words are checked, not looked up', 'a pedido', { ok: true, words: ['a', 'pedido'], driver: 'pedido' }],
    ['under 2 characters', ' a ', { ok: false, reason: 'at least 2 characters' }],
    ['only one-character words', 'a b', { ok: false, reason: 'at least one word of 2 or more letters or digits' }],
    ['only punctuation', '?!', { ok: false, reason: 'at least one word of 2 or more letters or digits' }],
  ])('%s', (_name, q, parsed) => {
    expect(parseSearchQuery(q)).toEqual(parsed);
  });

  test.each<[string, string[], boolean]>([
    ['every word a prefix of some word', ['ped', 'ol'], true],
    ['accents and case were folded on both sides', ['acao'], true],
    ['one word missing', ['ped', 'zebra'], false],
    ['the middle of a word is not a prefix', ['dido'], false],
  ])('matchesAll: %s', (_name, query, expected) => {
    expect(matchesAll(query, wordsOf('Olá, meu PEDIDO de Ação'))).toBe(expected);
  });

  test('a text matches a query made of prefixes of its own words', () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (t, picks) => {
        const words = wordsOf(t);
        fc.pre(words.length > 0);
        const query = picks.map((p) => words[p % words.length]!).map((w) => [...w].slice(0, 1 + (w.length % 4)).join(''));
        expect(matchesAll(query, words)).toBe(true);
      }),
    );
  });

  test.each<[string, string, ReturnType<typeof parseContactQuery>]>([
    ['digits: a phone prefix', '4915', { kind: 'phone', digits: '4915' }],
    ['a phone as people write it', '+49 (151) 12-3', { kind: 'phone', digits: '49151123' }],
    ['a name', 'Mária', { kind: 'name', words: ['maria'], driver: 'maria' }],
    ['name words, the longest drives', 'ana sil', { kind: 'name', words: ['ana', 'sil'], driver: 'ana' }],
    ['under 2 characters', '4', { kind: 'invalid', reason: 'at least 2 characters' }],
    ['punctuation only', '--', { kind: 'invalid', reason: 'no letters or digits' }],
  ])('contacts: %s', (_name, q, parsed) => {
    expect(parseContactQuery(q)).toEqual(parsed);
  });

  test('a contact is listed under the smallest word of its name the driver prefixes, and not at all when a word misses', () => {
    expect(listedWord('Maria Mariana Silva', { words: ['mari'], driver: 'mari' })).toBe('maria');
    expect(listedWord('Mariana Maria', { words: ['mari', 'sil'], driver: 'mari' })).toBeNull();
    expect(listedWord('José Silva', { words: ['jose', 'si'], driver: 'jose' })).toBe('jose');
    expect(listedWord(null, { words: ['jo'], driver: 'jo' })).toBeNull();
  });
});

describe('snippets', () => {
  const long = `${'lorem ipsum '.repeat(30)}the Pedido número 42 chegou ${'dolor sit amet '.repeat(30)}`;

  test('a short text is the snippet, whitespace flattened', () => {
    expect(snippetOf('Olá,\n  meu pedido', ['pedido'])).toBe('Olá, meu pedido');
  });

  test('a long text is cut around the first matching word, on word boundaries, with ellipses', () => {
    const s = snippetOf(long, ['pedido']);
    expect(s).toContain('Pedido número 42');
    expect(s.startsWith('…') && s.endsWith('…')).toBe(true);
    expect(s.length).toBeLessThanOrEqual(snippetLength + 2);
    expect(s).toMatch(/^…\S/);
    expect(s).toMatch(/\S…$/);
  });

  test('the snippet always holds a matching word when the text matches, and stays within the length', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(wordish, separator), { minLength: 1, maxLength: 120 }), fc.nat(), (parts, pick) => {
        const t = parts.map(([w, s]) => w + s).join('');
        const words = wordsOf(t);
        fc.pre(words.length > 0);
        const q = [words[pick % words.length]!];
        const s = snippetOf(t, q);
        expect([...s].length).toBeLessThanOrEqual(snippetLength + 2);
        expect(matchesAll(q, wordsOf(s))).toBe(true);
        expect(s).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      }),
    );
  });
});
