import fc from 'fast-check';
import type { CannedResponse } from '../../inbox/src/canned';
import { choiceOf, moveActive, pickerQueryOf } from '../../inbox/src/canned';

/** SPEC 10 in the inbox: when the `/` picker opens, what a choice does, and how the arrows move. */
describe('the canned-response picker', () => {
  test.each<[string, string | null]>([
    ['/', ''],
    ['/than', 'than'],
    ['/thanks_a-lot', 'thanks_a-lot'],
    ['', null],
    ['hello /than', null],
    ['/than ', null],
    ['/a/b', null],
    [' /than', null],
  ])('the draft %p asks for %p', (draft, query) => {
    expect(pickerQueryOf(draft)).toBe(query);
  });

  const response = (text: string): CannedResponse => ({ shortCode: 'code', scope: 'account', title: 'Title', text, variables: [] });
  const known = { customerName: 'Ana', agentName: 'Bruno' };
  test.each<[string, string, { customerName: string | null; agentName: string }, ReturnType<typeof choiceOf>]>([
    ['no variable: inserted as it is', 'Thanks!', known, { kind: 'insert', text: 'Thanks!' }],
    ['names the page knows: filled and inserted', 'Hi {{customer.name}}, {{ agent.name }} here', known, { kind: 'insert', text: 'Hi Ana, Bruno here' }],
    ["the contact's attributes: sent by code", 'Plan {{attributes.plan}}', known, { kind: 'send', shortCode: 'code' }],
    ['a customer without a name: sent by code (the server names what is missing)', 'Hi {{customer.name}}', { ...known, customerName: null }, { kind: 'send', shortCode: 'code' }],
  ])('%s', (_name, text, names, expected) => {
    expect(choiceOf(response(text), names)).toEqual(expected);
  });

  test('the arrows stay within the list and wrap around', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.constantFrom<1 | -1>(1, -1), (active, count, by) => {
        const next = moveActive(active, count, by);
        if (count === 0) expect(next).toBe(-1);
        else expect(next >= 0 && next < count).toBe(true);
      }),
    );
    expect(moveActive(2, 3, 1)).toBe(0);
    expect(moveActive(0, 3, -1)).toBe(2);
    expect(moveActive(-1, 3, -1)).toBe(2);
  });
});
