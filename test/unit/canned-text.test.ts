import fc from 'fast-check';
import type { FillValues } from '../../api/canned-text';
import { fillTemplate, fold, latestAttributes, matchesSearch, searchKeysOf, unknownVariables, variablesIn, visibleTo, wordsOf } from '../../api/canned-text';

/** SPEC 10: canned responses' search, who sees which, and filling their variables. */

const matches = (response: { shortCode: string; title: string }, q: string) => matchesSearch(searchKeysOf(response), q);

describe('searching canned responses (?q=)', () => {
  const greeting = { shortCode: 'hello_there', title: 'Olá, boas-vindas à Açaí Store' };
  test.each<[string, string, boolean]>([
    ['an empty query matches everything', '', true],
    ['a prefix of the short code', 'hel', true],
    ['the whole short code', 'hello_there', true],
    ['the short code in another case', 'HELLO', true],
    ['a leading slash (the picker) is not part of the query', '/hello', true],
    ['the middle of the short code does not match', 'there', false],
    ['a prefix of the first word of the title', 'ol', true],
    ['accents in the title need not be typed', 'acai', true],
    ['accents typed where the title has none... and the reverse', 'OLÁ', true],
    ['a prefix of a later word', 'vind', true],
    ['a word split by a hyphen is two words', 'boas', true],
    ['several words in a row', 'acai st', true],
    ['several words not in a row do not match', 'ola store', false],
    ['the middle of a word does not match', 'lcome', false],
    ['a word that is not there', 'bye', false],
    ['only punctuation matches nothing of the title', '--', false],
  ])('%s: %p', (_name, q, expected) => {
    expect(matches(greeting, q)).toBe(expected);
  });

  const arbWord = fc.stringMatching(/^[a-zA-Z0-9àáâãçéêíóôõúüñÀÁÇÉÕ]{1,8}$/);
  const arbTitle = fc.array(arbWord, { minLength: 1, maxLength: 5 }).map((words) => words.join(' '));
  const arbCode = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,31}$/);

  test('every prefix of every word of the title matches, in any case', () => {
    fc.assert(
      fc.property(arbCode, arbTitle, fc.nat(), fc.nat(), fc.boolean(), (shortCode, title, wordAt, cut, upper) => {
        const words = title.split(' ');
        const word = words[wordAt % words.length]!;
        const prefix = word.slice(0, 1 + (cut % word.length));
        expect(matches({ shortCode, title }, upper ? prefix.toUpperCase() : prefix.toLowerCase())).toBe(true);
      }),
    );
  });

  test('every prefix of the short code matches', () => {
    fc.assert(
      fc.property(arbCode, arbTitle, fc.nat(), (shortCode, title, cut) => {
        expect(matches({ shortCode, title }, shortCode.slice(0, 1 + (cut % shortCode.length)).toUpperCase())).toBe(true);
      }),
    );
  });

  test('a one-word query matches exactly when it is a folded prefix of the code or of a word (the stored keys agree with the definition)', () => {
    fc.assert(
      fc.property(arbCode, arbTitle, arbWord, (shortCode, title, q) => {
        const definition = fold(shortCode).startsWith(fold(q)) || wordsOf(title).some((w) => w.startsWith(fold(q)));
        expect(matches({ shortCode, title }, q)).toBe(definition);
      }),
    );
  });

  test('folding drops accents and case only', () => {
    expect(fold('Ação ÉCOLE Ñandú')).toBe('acao ecole nandu');
  });
});

describe('who sees which canned responses', () => {
  const r = (shortCode: string, scope: 'account' | 'personal') => ({ shortCode, scope });
  test.each<[string, ReturnType<typeof r>[], ReturnType<typeof r>[]]>([
    ['account and personal ones, by short code', [r('b', 'account'), r('a', 'personal')], [r('a', 'personal'), r('b', 'account')]],
    ['a personal code hides the account one of the same code', [r('hi', 'account'), r('hi', 'personal'), r('bye', 'account')], [r('bye', 'account'), r('hi', 'personal')]],
    ['nothing', [], []],
  ])('%s', (_name, input, expected) => {
    expect(visibleTo(input)).toEqual(expected);
  });

  test('each code appears once, and as the personal one whenever there is one', () => {
    const arb = fc.array(fc.record({ shortCode: fc.constantFrom('a', 'b', 'c', 'd'), scope: fc.constantFrom<'account' | 'personal'>('account', 'personal') }), { maxLength: 8 });
    fc.assert(
      fc.property(
        arb.map((list) => list.filter((x, i) => list.findIndex((y) => y.shortCode === x.shortCode && y.scope === x.scope) === i)),
        (list) => {
          const seen = visibleTo(list);
          expect(new Set(seen.map((x) => x.shortCode)).size).toBe(seen.length);
          expect(new Set(seen.map((x) => x.shortCode))).toEqual(new Set(list.map((x) => x.shortCode)));
          for (const x of seen) expect(x.scope).toBe(list.some((y) => y.shortCode === x.shortCode && y.scope === 'personal') ? 'personal' : 'account');
        },
      ),
    );
  });
});

describe('filling a canned response', () => {
  const values: FillValues = { customerName: 'Ana', agentName: 'Bruno', attributes: { plan: 'gold', order_id: 'A-17', empty: '' } };
  test.each<[string, string, ReturnType<typeof fillTemplate>]>([
    ['no variable: the text as it is', 'Thanks!', { ok: true, text: 'Thanks!' }],
    ['the customer and the agent', 'Hi {{customer.name}}, {{agent.name}} here', { ok: true, text: 'Hi Ana, Bruno here' }],
    ['spaces inside the braces', 'Hi {{ customer.name }}', { ok: true, text: 'Hi Ana' }],
    ['an attribute', 'Your {{attributes.plan}} plan, order {{attributes.order_id}}', { ok: true, text: 'Your gold plan, order A-17' }],
    ['a variable used twice', '{{agent.name}}/{{agent.name}}', { ok: true, text: 'Bruno/Bruno' }],
    ['an attribute the contact lacks is named', 'Order {{attributes.tracking}}', { ok: false, missing: ['attributes.tracking'] }],
    ['an empty value counts as none', '{{attributes.empty}}', { ok: false, missing: ['attributes.empty'] }],
    ['every missing one, each once, in order', '{{attributes.x}} {{attributes.y}} {{attributes.x}}', { ok: false, missing: ['attributes.x', 'attributes.y'] }],
    ['an unknown variable is missing', '{{foo}}', { ok: false, missing: ['foo'] }],
    ['single braces are text', '{customer.name}', { ok: true, text: '{customer.name}' }],
    ['an attribute key inherited from Object is not a value', '{{attributes.constructor}}', { ok: false, missing: ['attributes.constructor'] }],
  ])('%s', (_name, text, expected) => {
    expect(fillTemplate(text, values)).toEqual(expected);
  });

  test('without a customer name, customer.name is missing', () => {
    expect(fillTemplate('Hi {{customer.name}}', { ...values, customerName: null })).toEqual({ ok: false, missing: ['customer.name'] });
  });

  test('a value that looks like a variable is inserted as it is, never filled again', () => {
    fc.assert(
      fc.property(fc.constantFrom('{{agent.name}}', '{{attributes.plan}}', '}}{{', '$&', '$1'), fc.string({ maxLength: 20 }), (name, around) => {
        const text = `${around.replace(/[{}]/g, '')}{{customer.name}}`;
        expect(fillTemplate(text, { ...values, customerName: name })).toEqual({ ok: true, text: `${around.replace(/[{}]/g, '')}${name}` });
      }),
    );
  });

  test('a text without "{{" is never changed', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }).filter((t) => !t.includes('{{')),
        (text) => {
          expect(fillTemplate(text, values)).toEqual({ ok: true, text });
        },
      ),
    );
  });

  test('filled text holds no variable that had a value, and missing ones are exactly those without', () => {
    const arbName = fc.constantFrom('customer.name', 'agent.name', 'attributes.plan', 'attributes.tracking');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-z ]{0,5}$/), arbName), { maxLength: 6 }), fc.boolean(), (parts, hasName) => {
        const text = parts.map(([t, v]) => `${t}{{${v}}}`).join('');
        const result = fillTemplate(text, { ...values, customerName: hasName ? 'Ana' : null });
        const expectedMissing = [...new Set(parts.map(([, v]) => v))].filter((v) => v === 'attributes.tracking' || (v === 'customer.name' && !hasName));
        if (expectedMissing.length > 0) expect(result).toEqual({ ok: false, missing: expectedMissing });
        else expect(result).toEqual({ ok: true, text: parts.map(([t, v]) => t + ({ 'customer.name': 'Ana', 'agent.name': 'Bruno', 'attributes.plan': 'gold' } as Record<string, string>)[v]).join('') });
      }),
    );
  });

  test.each<[string, string, string[]]>([
    ['known variables are fine', 'Hi {{customer.name}} {{agent.name}} {{attributes.a_b-1}}', ['customer.name', 'agent.name', 'attributes.a_b-1'], ],
    ['a typo is unknown', 'Hi {{customer.nmae}}', ['customer.nmae']],
    ['an attribute key the limits refuse is unknown', '{{attributes.a.b}}', ['attributes.a.b']],
  ])('variables: %s', (_name, text, found) => {
    expect(variablesIn(text)).toEqual(found);
    expect(unknownVariables(text)).toEqual(found.filter((v) => !['customer.name', 'agent.name', 'attributes.a_b-1'].includes(v)));
  });
});

describe("the contact's attributes", () => {
  test('the latest value each customer message gave, per key', () => {
    expect(latestAttributes([{ attributes: { plan: 'silver', city: 'Lisbon' } }, { attributes: null }, { attributes: { plan: 'gold' } }])).toEqual({ plan: 'gold', city: 'Lisbon' });
  });
  test('a key named like an Object property is an ordinary key', () => {
    const latest = latestAttributes([{ attributes: JSON.parse('{"__proto__":"x"}') as Record<string, string> }]);
    expect(Object.hasOwn(latest, '__proto__')).toBe(true);
    expect(fillTemplate('{{attributes.__proto__}}', { customerName: null, agentName: null, attributes: latest })).toEqual({ ok: true, text: 'x' });
  });
});
