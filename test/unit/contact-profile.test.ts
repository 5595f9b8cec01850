import fc from 'fast-check';
import type { ContactChange, ContactProfile } from '../../workflows/conversation/core/contact-profile';
import { applyContactChange, nameOf, unknownContact } from '../../workflows/conversation/core/contact-profile';
import { maxAttributes } from '../../workflows/conversation/core/limits';

/**
 * SPEC 11's contact profile as a merge (workflows/conversation/core/contact-profile.ts): what messages and
 * edits tell, and why the order they reach the store in does not matter.
 */

const apply = (profile: ContactProfile, change: ContactChange): ContactProfile => applyContactChange(profile, change) ?? profile;
const applyAll = (changes: readonly ContactChange[]): ContactProfile => changes.reduce(apply, unknownContact);
const messages = (channel: string, providerName: string | null, ...list: [at: number, attributes?: Record<string, string>][]): ContactChange => ({
  kind: 'messages',
  channel,
  providerName,
  messages: list.map(([at, attributes]) => ({ at, attributes: attributes ?? null })),
});

describe('a contact from messages and edits', () => {
  test('the first messages make the contact: name, attributes, first seen, channel', () => {
    const p = applyAll([messages('wa-1', 'Ana', [1000, { plan: 'gold' }], [2000])]);
    expect(p).toMatchObject({ providerName: 'Ana', attributes: { plan: 'gold' }, firstSeenAt: 1000, channels: ['wa-1'] });
    expect(nameOf(p)).toBe('Ana');
  });

  test('each attribute keeps the latest value a message gave', () => {
    const p = applyAll([messages('wa-1', null, [1000, { plan: 'silver', city: 'Lisbon' }], [2000, { plan: 'gold' }])]);
    expect(p.attributes).toEqual({ plan: 'gold', city: 'Lisbon' });
  });

  test('an edited name holds over the provider name every later message carries again', () => {
    let p = applyAll([messages('wa-1', 'Ana', [1000])]);
    p = apply(p, { kind: 'edit', at: 1500, name: 'Ana Souza' });
    p = apply(p, messages('wa-1', 'Ana', [2000]));
    expect(nameOf(p)).toBe('Ana Souza');
  });

  test('an edit of attributes is overridden by a later message and holds over an earlier one', () => {
    let p = applyAll([messages('wa-1', null, [1000, { plan: 'silver' }])]);
    p = apply(p, { kind: 'edit', at: 1500, attributes: { plan: 'gold', vip: 'yes' } });
    expect(p.attributes).toEqual({ plan: 'gold', vip: 'yes' });
    expect(apply(p, messages('wa-1', null, [1200, { plan: 'bronze' }])).attributes.plan).toBe('gold');
    expect(apply(p, messages('wa-1', null, [1800, { plan: 'bronze' }])).attributes.plan).toBe('bronze');
  });

  test('a message on a second channel adds the channel and keeps the earliest first sight', () => {
    const p = applyAll([messages('wa-2', 'Ana', [5000]), messages('wa-1', 'Ana', [3000])]);
    expect(p).toMatchObject({ channels: ['wa-1', 'wa-2'], firstSeenAt: 3000 });
  });

  test('nothing new is no change (null), so nothing is written', () => {
    const p = applyAll([messages('wa-1', 'Ana', [1000, { plan: 'gold' }])]);
    expect(applyContactChange(p, messages('wa-1', 'Ana', [1000, { plan: 'gold' }]))).toBeNull();
    expect(applyContactChange(p, { kind: 'edit', at: 500, attributes: { plan: 'old' } })).toBeNull();
    expect(applyContactChange(p, { kind: 'messages', channel: 'wa-1', providerName: null, messages: [] })).toBeNull();
  });

  test('a key like __proto__ is an attribute like any other', () => {
    const p = applyAll([messages('wa-1', null, [1000, JSON.parse('{"__proto__":"x"}') as Record<string, string>])]);
    expect(Object.keys(p.attributes)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(p.attributes)).toBe(Object.prototype);
  });

  test('an edit removes an attribute (null); a later message gives it again, an earlier one landing after does not', () => {
    let p = applyAll([messages('wa-1', null, [1000, { plan: 'silver', city: 'Lisbon' }])]);
    p = apply(p, { kind: 'edit', at: 1500, attributes: { plan: null } });
    expect(p.attributes).toEqual({ city: 'Lisbon' });
    expect(apply(p, messages('wa-1', null, [1200, { plan: 'silver' }])).attributes).toEqual({ city: 'Lisbon' });
    expect(apply(p, messages('wa-1', null, [1800, { plan: 'gold' }])).attributes).toEqual({ city: 'Lisbon', plan: 'gold' });
    // Removed again: no change. Removing a key never given is remembered, so its older value stays out.
    expect(applyContactChange(p, { kind: 'edit', at: 1500, attributes: { plan: null } })).toBeNull();
    const early = apply(applyAll([messages('wa-1', null, [1000])]), { kind: 'edit', at: 3000, attributes: { vip: null } });
    expect(apply(early, messages('wa-1', null, [2000, { vip: 'yes' }])).attributes).toEqual({});
    // At the same instant a value wins over a removal, whichever comes first.
    const both: ContactChange[] = [messages('wa-1', null, [4000, { vip: 'yes' }]), { kind: 'edit', at: 4000, attributes: { vip: null } }];
    expect(applyAll(both).attributes).toEqual({ vip: 'yes' });
    expect(applyAll([...both].reverse()).attributes).toEqual({ vip: 'yes' });
  });

  test(`at most ${maxAttributes} attributes: the oldest give way`, () => {
    const many = Object.fromEntries(Array.from({ length: maxAttributes }, (_, i) => [`k${i}`, 'v']));
    const p = applyAll([messages('wa-1', null, [1000, many], [2000, { newer: 'yes' }])]);
    expect(Object.keys(p.attributes)).toHaveLength(maxAttributes);
    expect(p.attributes.newer).toBe('yes');
    expect(p.attributes.k0).toBeUndefined();
  });
});

/**
 * Changes whose values follow the time they were given, as a customer's profile name and attributes do (a
 * value, then another, never back: see `replaces` in contact-profile.ts for what back-and-forth costs).
 */
const at = fc.integer({ min: 0, max: 50 });
const valueAt = (key: string, t: number) => `${key}-${Math.floor(t / 10)}`;
const attributeKeys = ['plan', 'city', 'vip', '__proto__'];
/**
 * An attribute's state follows time too, removals included: in every other span of 10 it is removed (a
 * message carries no value for it then, an edit removes it), and a value once removed never comes back.
 */
const removedAt = (t: number) => Math.floor(t / 10) % 2 === 1;
const attributesAt = (t: number) => fc.subarray(attributeKeys).map((keys) => (removedAt(t) ? {} : Object.fromEntries(keys.map((k) => [k, valueAt(k, t)]))));
const editedAttributesAt = (t: number) =>
  fc.subarray(attributeKeys).map((keys) => {
    const out: Record<string, string | null> = {};
    for (const key of keys) Object.defineProperty(out, key, { value: removedAt(t) ? null : valueAt(key, t), enumerable: true, writable: true, configurable: true });
    return out;
  });
const change: fc.Arbitrary<ContactChange> = fc.oneof(
  fc
    .record({
      channel: fc.constantFrom('wa-1', 'wa-2', 'wa-3'),
      named: fc.boolean(),
      messages: fc.array(at.chain((t) => fc.record({ at: fc.constant(t), attributes: fc.option(attributesAt(t), { nil: null }) })), { maxLength: 3 }),
    })
    .map(({ channel, named, messages }) => ({
      kind: 'messages' as const,
      channel,
      // The view's name: the provider's as of the batch's newest message.
      providerName: named && messages.length > 0 ? valueAt('name', Math.max(...messages.map((m) => m.at))) : null,
      messages,
    })),
  at.chain((t) =>
    fc.record({
      kind: fc.constant('edit' as const),
      at: fc.constant(t),
      name: fc.option(fc.constant(valueAt('edited', t)), { nil: undefined }),
      attributes: fc.option(editedAttributesAt(t), { nil: undefined }),
    }),
  ),
);

describe('the merge does not depend on the order changes reach the store in', () => {
  /** What a reader sees (the times beside the values are the merge's bookkeeping). */
  const seen = (p: ContactProfile) => ({ name: nameOf(p), attributes: { ...p.attributes }, firstSeenAt: p.firstSeenAt, channels: p.channels });

  test('any two orders of the same changes give the same profile', () => {
    fc.assert(
      fc.property(fc.array(change, { maxLength: 8 }).chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }))), ([list, shuffled]) => {
        expect(seen(applyAll(shuffled))).toEqual(seen(applyAll(list)));
      }),
    );
  });

  test('a change applied twice (a retried batch) is no change the second time', () => {
    fc.assert(
      fc.property(fc.array(change, { maxLength: 6 }), change, (before, c) => {
        const once = apply(applyAll(before), c);
        expect(applyContactChange(once, c)).toBeNull();
      }),
    );
  });
});
