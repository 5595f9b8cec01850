/**
 * The field limits of SPEC section 12 (workflows/conversation/core/limits.ts): one definition that the
 * HTTP schemas, the WhatsApp webhook and the workflow's signals and updates all apply.
 */
import fc from 'fast-check';
import type { CustomerMessagePayload } from '../../workflows/conversation/messages';
import {
  actionOverLimit,
  attributeKeyPattern,
  clampCustomerMessage,
  cutText,
  escapeKey,
  isUnsafeKey,
  maxTags,
  maxTextLength,
  nestsDeeperThan,
  storableJson,
  unsafeKeyPaths,
  unstorableParts,
} from '../../workflows/conversation/core/limits';

const numRuns = 500;

/** `[[[...]]]` nested `levels` deep, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) return value.flatMap(keysOf);
  return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
}

describe('nesting', () => {
  it.each([
    [1, 'a string', false],
    [32, 'arrays 32 deep', false],
    [33, 'arrays 33 deep', true],
    [40, 'arrays 40 deep (content.contacts in issue 24)', true],
  ])('at %p levels, %s: deeper than 32 is %p', (levels, _what, deeper) => {
    expect(nestsDeeperThan(levels === 1 ? 'x' : nested(levels))).toBe(deeper);
  });

  it('checks 50,000 levels (100 KB of brackets) without exhausting the stack', () => {
    const text = '['.repeat(50_000) + ']'.repeat(50_000);
    expect(nestsDeeperThan(JSON.parse(text))).toBe(true);
  });

  it('counts objects and arrays alike: {"a":[{"b":[]}]} is 4 levels', () => {
    expect(nestsDeeperThan({ a: [{ b: [] }] }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: [] }] }, 3)).toBe(true);
  });

  it('agrees with the depth it was built with, for any depth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 80 }), (levels, max) => nestsDeeperThan(nested(levels), max) === levels > max),
      { numRuns },
    );
  });
});

describe('keys the store refuses', () => {
  it.each([
    ['utm.source', true],
    ['$where', true],
    ['a\u0000b', true],
    ['a$b', false],
    ['utm_source', false],
    ['', false],
  ])('%p is unsafe: %p', (key, unsafe) => {
    expect(isUnsafeKey(key)).toBe(unsafe);
  });

  it('names the path of every unsafe key, at any depth', () => {
    expect(unsafeKeyPaths({ name: { 'first.name': 'A' }, list: [{ $set: 1 }] }, 'contacts').sort()).toEqual(['contacts.list.0.$set', 'contacts.name.first.name']);
  });

  it('escapes "." and a leading "$" into look-alikes, and leaves a safe key as it is', () => {
    expect(escapeKey('utm.source')).toBe('utm\uff0esource');
    expect(escapeKey('$where')).toBe('\uff04where');
    expect(escapeKey('plain_key')).toBe('plain_key');
    expect(escapeKey('a\u0000b')).toBe('a\u2400b');
  });

  it('finds arrays directly inside arrays (FerretDB: "nested arrays are not supported") and wraps them, keeping their items', () => {
    expect(unstorableParts({ a: [[1], { b: [2] }] }, 'details')).toEqual([{ path: 'details.a.0', problem: 'nested_array' }]);
    const { value, cut, escapedKeys } = storableJson({ a: [[1, [2]]] }, 10);
    expect(value).toEqual({ a: [{ items: [1, { items: [2] }] }] });
    expect({ cut, escapedKeys }).toEqual({ cut: false, escapedKeys: 2 });
  });

  it('a storable copy has no unsafe key, keeps every key (none lost, even colliding ones) and nests at most the depth asked', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 10 }), (value, depth) => {
        const { value: stored, cut } = storableJson(value, depth);
        expect(keysOf(stored).some(isUnsafeKey)).toBe(false);
        expect(unstorableParts(stored, '')).toEqual([]);
        expect(nestsDeeperThan(stored, depth)).toBe(false);
        // Every key is kept (an inner array's wrapper adds an "items" key of its own).
        const own = (v: unknown) => keysOf(v).filter((k) => k !== 'items');
        if (!cut) expect(own(stored)).toHaveLength(own(value).length);
      }),
      { numRuns },
    );
  });

  it('keeps a key named __proto__ as a key', () => {
    const { value } = storableJson(JSON.parse('{"__proto__":{"a.b":1}}'), 5);
    expect(Object.keys(value as object)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});

describe('clamping a customer message (webhook items and signals, which cannot be refused)', () => {
  const base: CustomerMessagePayload = { messageId: 'wamid.1', text: 'hello' };

  it.each<[string, CustomerMessagePayload, Partial<CustomerMessagePayload>, boolean]>([
    ['a message within every limit is the same object', base, {}, false],
    ['a 5,000-character text is cut to 4,096', { ...base, text: 'x'.repeat(5000) }, { text: 'x'.repeat(4096), truncated: true }, true],
    [
      'a 5,000-character caption is cut to 4,096',
      { ...base, type: 'image', content: { media: { id: 'm1', caption: 'y'.repeat(5000) } } },
      { content: { media: { id: 'm1', caption: 'y'.repeat(4096) } }, truncated: true },
      true,
    ],
    ['a dotted attribute key is rewritten, nothing cut', { ...base, attributes: { 'utm.source': 'ad' } }, { attributes: { utm_source: 'ad' } }, false],
    [
      'a contact card with a dotted key keeps it, escaped',
      { ...base, type: 'contacts', content: { contacts: [{ 'x.y': 1 }] } },
      { content: { contacts: [{ 'x\uff0ey': 1 }] } },
      false,
    ],
    [
      'contacts nested 40 deep are cut below the limit',
      { ...base, type: 'contacts', content: { contacts: [{ deep: nested(40) }] } },
      { truncated: true },
      true,
    ],
  ])('%s', (_name, message, expected, cut) => {
    const clamped = clampCustomerMessage(message);
    expect(clamped.cut).toBe(cut);
    expect(clamped.value).toMatchObject(expected);
    if (Object.keys(expected).length === 0) expect(clamped.value).toBe(message);
  });

  it('keeps at most 50 attributes, with valid keys', () => {
    const attributes = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k.${i}`, 'v']));
    const { value, cut } = clampCustomerMessage({ ...base, attributes });
    expect(cut).toBe(true);
    expect(Object.keys(value.attributes!)).toHaveLength(50);
    expect(Object.keys(value.attributes!).every((k) => attributeKeyPattern.test(k))).toBe(true);
  });

  it('never leaves a message over a limit, and clamping twice changes nothing more', () => {
    const message = fc.record({
      messageId: fc.string({ minLength: 1 }),
      text: fc.option(fc.string({ maxLength: 6000 }), { nil: undefined }),
      attributes: fc.option(fc.dictionary(fc.string({ maxLength: 80 }), fc.string({ maxLength: 300 }), { maxKeys: 70 }), { nil: undefined }),
      content: fc.option(fc.record({ contacts: fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 6 }))), details: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 40 })) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(message, (m) => {
        const once = clampCustomerMessage(m as CustomerMessagePayload).value;
        expect((once.text ?? '').length).toBeLessThanOrEqual(maxTextLength);
        expect(Object.keys(once.attributes ?? {}).length).toBeLessThanOrEqual(50);
        expect(Object.keys(once.attributes ?? {}).every((k) => attributeKeyPattern.test(k))).toBe(true);
        expect(unstorableParts(once.content ?? {}, '')).toEqual([]);
        expect(clampCustomerMessage(once).value).toBe(once);
      }),
      { numRuns },
    );
  });

  it('cuts before an emoji rather than through it', () => {
    const text = 'a'.repeat(4095) + '😀';
    expect(cutText(text)).toBe('a'.repeat(4095));
  });
});

describe('actions over a limit (refused by the update validators)', () => {
  const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);

  it.each([
    ['adding up to 50 tags', tags(40), tags(50).slice(40), [], false],
    ['adding the 51st tag', tags(50), ['t50'], [], true],
    ['adding 10 to 50 while removing 10', tags(50), ['n1', 'n2'], ['t0', 't1'], false],
    ['re-adding tags it already has', tags(50), ['t1'], [], false],
    ['removing from a conversation over the limit (from before it)', tags(60), [], ['t0'], false],
  ])('%s', (_name, held, add, remove, refused) => {
    const rejection = actionOverLimit({ type: 'tags', add, remove }, { tags: held });
    expect(rejection !== undefined).toBe(refused);
    if (rejection) expect(rejection).toMatchObject({ code: 'validation_failed', field: 'add' });
  });

  it('a reply over 4,096 characters is refused naming text; one at the limit is not', () => {
    expect(actionOverLimit({ type: 'reply', content: { kind: 'text', text: 'x'.repeat(4097) } }, { tags: [] })).toMatchObject({ field: 'text' });
    expect(actionOverLimit({ type: 'reply', content: { kind: 'text', text: 'x'.repeat(4096) } }, { tags: [] })).toBeUndefined();
  });

  it(`never lets a conversation grow past ${maxTags} tags`, () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 70 }), fc.array(fc.string(), { maxLength: 60 }), fc.array(fc.string(), { maxLength: 10 }), (held, add, remove) => {
        const after = new Set([...held.filter((t) => !remove.includes(t)), ...add]).size;
        const refused = actionOverLimit({ type: 'tags', add, remove }, { tags: held }) !== undefined;
        expect(refused).toBe(after > maxTags && after > held.length);
      }),
      { numRuns },
    );
  });
});
