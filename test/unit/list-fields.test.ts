/**
 * The view's list fields (issue 22, item 12) and the policy restamp (item 2), in the pure core:
 * `lastMessage` (a one-line preview), `waitingSince` (the oldest unanswered customer message of the
 * episode), `team`, and when a new policy moves the view. Tables for the rules, properties for what must
 * hold over any history.
 */
import fc from 'fast-check';
import type { Actor, ConversationState, Input, MessageRecord } from '../../workflows/conversation/core/lifecycle';
import { decide, isEnded, nextDeadline, upgradeState } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { previewLength, previewOf } from '../../workflows/conversation/core/preview';
import { restampedForPolicy, toView } from '../../workflows/conversation/core/view';
import {
  HOUR,
  MINUTE,
  T0,
  agentA,
  agentB,
  assign,
  customer,
  customerMessage,
  fresh,
  manager,
  openConversation,
  recordedMessages,
  reply,
  resolve,
  service,
  step,
  system,
  template,
} from './lifecycle-fixtures';

const iso = (ms: number) => new Date(ms).toISOString();

describe('lastMessage: the newest timeline message in one line', () => {
  test.each<[string, Parameters<typeof previewOf>[0], string]>([
    ['a text, as written', { kind: 'text', text: 'Where is my order?', content: null, template: null }, 'Where is my order?'],
    ['a text, its whitespace folded', { kind: 'text', text: '  two\n\nlines  ', content: null, template: null }, 'two lines'],
    ['an image with a caption: the caption', { kind: 'image', text: null, content: { media: { id: 'm1', caption: 'the broken part' } }, template: null }, 'the broken part'],
    ['an image without a caption: a word for it', { kind: 'image', text: null, content: { media: { id: 'm1' } }, template: null }, '📷 image'],
    ['a voice note', { kind: 'audio', text: null, content: { media: { id: 'm1', voice: true } }, template: null }, '🎤 voice message'],
    ['a document: its file name', { kind: 'document', text: null, content: { media: { id: 'm1', filename: 'invoice.pdf' } }, template: null }, '📄 document: invoice.pdf'],
    ['a location: its name', { kind: 'location', text: null, content: { location: { latitude: 1, longitude: 2, name: 'Main St' } }, template: null }, '📍 location: Main St'],
    ['a reaction', { kind: 'reaction', text: null, content: { reaction: { messageId: 'w1', emoji: '👍' } }, template: null }, 'reacted 👍'],
    ['a button reply: its title', { kind: 'button', text: null, content: { choice: { id: 'b1', title: 'Yes please', type: 'button' } }, template: null }, 'Yes please'],
    ['a template: its name', { kind: 'template', text: null, content: null, template: { name: 'order_update' } }, '📋 template: order_update'],
    ['a sticker', { kind: 'sticker', text: null, content: { media: { id: 's1' } }, template: null }, '💟 sticker'],
  ])('%s', (_name, message, expected) => {
    expect(previewOf(message)).toBe(expected);
  });

  test('a long text is cut to 120 characters, the last an ellipsis', () => {
    const preview = previewOf({ kind: 'text', text: 'x'.repeat(500), content: null, template: null });
    expect(preview).toBe(`${'x'.repeat(119)}…`);
  });

  test('any text becomes a preview of at most 120 characters that never splits a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        const preview = previewOf({ kind: 'text', text, content: null, template: null });
        const points = Array.from(preview);
        expect(points.length).toBeLessThanOrEqual(previewLength);
        // Whole code points only: no lone surrogate at the cut.
        expect(points.every((p) => !/^[\uD800-\uDFFF]$/.test(p))).toBe(true);
        // A short text keeps its words (whitespace folded); a long one keeps its beginning.
        const folded = text.replace(/\s+/g, ' ').trim();
        if (folded !== '') expect(folded.startsWith(preview.replace(/…$/, ''))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('the view shows the newest message, inbound or outbound, with its time', () => {
    const open = openConversation(T0);
    expect(toView(open, defaultPolicy).lastMessage).toEqual({ direction: 'inbound', kind: 'text', text: expect.stringMatching(/^hello \d+$/), at: iso(T0) });
    const replied = step(open, reply('on it'), agentA, T0 + MINUTE);
    expect(toView(replied, defaultPolicy).lastMessage).toEqual({ direction: 'outbound', kind: 'text', text: 'on it', at: iso(T0 + MINUTE) });
    expect(toView(fresh(), defaultPolicy).lastMessage).toBeNull();
  });
});

describe('waitingSince: the oldest customer message no user has answered in this episode', () => {
  test('a table of what sets, keeps and clears it', () => {
    const first = openConversation(T0);
    expect(first.waitingSince).toBe(T0);
    // A second message keeps the oldest.
    const second = step(first, customerMessage(), customer, T0 + 5 * MINUTE);
    expect(second.waitingSince).toBe(T0);
    // A message the provider says was sent earlier than the one waiting moves it back.
    const late = step(second, customerMessage({ sentAt: T0 - MINUTE }), customer, T0 + 6 * MINUTE);
    expect(late.waitingSince).toBe(T0 - MINUTE);
    // Claiming does not answer; a reply does.
    const claimed = step(late, assign('agent-a'), agentA, T0 + 7 * MINUTE);
    expect(claimed.waitingSince).toBe(T0 - MINUTE);
    const replied = step(claimed, reply(), agentA, T0 + 8 * MINUTE);
    expect(replied.waitingSince).toBeNull();
    // The customer writes again: waiting since that message; a template answers too.
    const again = step(replied, customerMessage(), customer, T0 + HOUR);
    expect(again.waitingSince).toBe(T0 + HOUR);
    expect(step(again, template(), agentA, T0 + 2 * HOUR).waitingSince).toBeNull();
    // Resolving ends the episode: nobody waits in a closed conversation, and the view says null.
    const closed = step(again, resolve, agentA, T0 + 2 * HOUR);
    expect(closed.waitingSince).toBeNull();
    expect(toView(closed, defaultPolicy).waitingSince).toBeNull();
    // Reopening starts the next episode's wait at its first message.
    const reopened = step(closed, customerMessage(), customer, T0 + 3 * HOUR);
    expect(toView(reopened, defaultPolicy).waitingSince).toBe(iso(T0 + 3 * HOUR));
  });

  test('a system message (a broadcast) does not answer the customer', () => {
    const policy = applyPolicyPatch(defaultPolicy, { preset: 'status_inbox' });
    const open = step(fresh(), customerMessage(), customer, T0, policy);
    const broadcast = step(open, { type: 'broadcast', template: { name: 'promo' }, priority: true }, service, T0 + MINUTE, policy);
    expect(broadcast.waitingSince).toBe(T0);
  });
});

describe('team: the team holding the conversation', () => {
  const routed = applyPolicyPatch(defaultPolicy, { routing: { mode: 'round_robin', rules: [{ match: { language: 'pt' }, team: 'brazil' }], fallbackTeam: 'general' } });

  test('under manual routing nobody but a transfer names a team', () => {
    const open = openConversation(T0);
    expect(toView(open, defaultPolicy).team).toBeNull();
    const assigned = step(open, assign('agent-a'), agentA, T0 + MINUTE);
    const transferred = step(assigned, { type: 'transfer', team: 'billing' }, agentA, T0 + 2 * MINUTE);
    expect(transferred.team).toBe('billing');
  });

  test("with routing on, the rules' team when it opens, kept through the assignment, cleared at the close", () => {
    const open = step(fresh(), customerMessage({ attributes: { language: 'pt' } }), customer, T0, routed);
    expect(open.team).toBe('brazil');
    const other = step(fresh(), customerMessage({ attributes: { language: 'de' } }), customer, T0, routed);
    expect(other.team).toBe('general');
    const assigned = step(open, { type: 'routed', assigneeId: 'agent-a', rule: 'rules[0]' }, system, T0 + MINUTE, routed);
    expect(assigned.team).toBe('brazil');
    const transferred = step(assigned, { type: 'transfer', team: 'billing' }, agentA, T0 + 2 * MINUTE, routed);
    expect(transferred.team).toBe('billing');
    const taken = step(transferred, { type: 'routed', assigneeId: 'agent-b', rule: 'team' }, system, T0 + 3 * MINUTE, routed);
    expect(taken.team).toBe('billing');
    const closed = step(taken, resolve, manager, T0 + 4 * MINUTE, routed);
    expect(closed.team).toBeNull();
  });
});

describe('a policy change and the view', () => {
  const longer = applyPolicyPatch(defaultPolicy, { serviceWindow: '48h' });

  test('a policy that moves the window end gives the state a new version and time', () => {
    const open = openConversation(T0);
    const restamped = restampedForPolicy(open, defaultPolicy, longer, T0 + HOUR)!;
    expect(restamped.version).toBe(open.version + 1);
    expect(restamped.updatedAt).toBe(T0 + HOUR);
    expect(toView(restamped, longer).windowExpiresAt).toBe(iso(T0 + 48 * HOUR));
  });

  test('a policy that moves nothing the view shows, or the same policy, changes nothing', () => {
    const open = openConversation(T0);
    expect(restampedForPolicy(open, defaultPolicy, applyPolicyPatch(defaultPolicy, { lockTagsOnClose: true }), T0)).toBeNull();
    expect(restampedForPolicy(open, defaultPolicy, defaultPolicy, T0)).toBeNull();
    // A closed conversation with no customer message yet shows no deadline under either.
    expect(restampedForPolicy(fresh(), defaultPolicy, longer, T0)).toBeNull();
  });

  test('auto-close moves with autoCloseAfter on an assigned conversation', () => {
    const assigned = step(openConversation(T0), assign('agent-a'), agentA, T0 + MINUTE);
    const restamped = restampedForPolicy(assigned, defaultPolicy, applyPolicyPatch(defaultPolicy, { autoCloseAfter: '72h' }), T0 + HOUR);
    expect(restamped && toView(restamped, applyPolicyPatch(defaultPolicy, { autoCloseAfter: '72h' })).autoCloseAt).toBe(iso(T0 + MINUTE + 72 * HOUR));
  });
});

describe('states from older code', () => {
  test('a carried state without the new fields reads them as null, and a waiting customer as waiting since their last message', () => {
    const open = step(openConversation(T0), customerMessage(), customer, T0 + MINUTE);
    const { lastMessage: _l, waitingSince: _w, team: _t, ...old } = open;
    const view = toView(old as ConversationState, defaultPolicy);
    expect(view).toMatchObject({ lastMessage: null, waitingSince: null, team: null });
    const upgraded = upgradeState(old as ConversationState);
    expect(upgraded).toMatchObject({ lastMessage: null, team: null, waitingSince: T0 + MINUTE });
    const replied = step(open, reply(), agentA, T0 + 2 * MINUTE);
    const { waitingSince: _w2, ...oldAnswered } = replied;
    expect(upgradeState(oldAnswered as ConversationState).waitingSince).toBeNull();
  });
});

/*
 * The property: over any history, `waitingSince` is null exactly when no customer message came after the
 * last message a user sent in the episode (and always null once it ended); otherwise it is the earliest
 * time among those customer messages. The reference is computed from the recorded messages alone.
 */
const actors: Actor[] = [agentA, agentB, manager, service, customer, system];
const inputArb: fc.Arbitrary<Input> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 30 }).map((n): Input => ({ type: 'customerMessage', message: { messageId: `p${n}`, text: `t${n}` } })) },
  { weight: 3, arbitrary: fc.constant<Input>({ type: 'reply', content: { kind: 'text', text: 'hi' } }) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'template', content: { kind: 'template', template: { name: 'follow_up' } } }) },
  { weight: 2, arbitrary: fc.constantFrom('agent-a', 'agent-b').map((id): Input => ({ type: 'assign', assigneeId: id })) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'resolve' }) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'broadcast', template: { name: 'promo' }, priority: true }) },
  { weight: 2, arbitrary: fc.constant<Input>({ type: 'timer' }) },
);
const stepArb = fc.record({
  input: inputArb,
  actor: fc.constantFrom(...actors),
  gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 * MINUTE }), fc.integer({ min: 1, max: 50 * HOUR })),
  sentAtOffset: fc.option(fc.integer({ min: -2 * HOUR, max: HOUR }), { nil: undefined }),
});

test('waitingSince is null iff no customer message came after the last user message of the episode, else the earliest of them', () => {
  const policy: Policy = applyPolicyPatch(defaultPolicy, { preset: 'status_inbox' });
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 50 }), (steps) => {
      let state = fresh();
      let now = T0;
      let episode = 0;
      let waiting: number | null = null;
      for (const s of steps) {
        now += s.gap;
        const due = nextDeadline(state, policy);
        const input: Input =
          s.input.type === 'customerMessage' && s.sentAtOffset !== undefined ? { ...s.input, message: { ...s.input.message, sentAt: now + s.sentAtOffset } } : s.input;
        const actor = s.input.type === 'customerMessage' ? customer : s.input.type === 'timer' ? system : s.actor;
        const at = s.input.type === 'timer' && due !== null ? Math.max(now, due) : now;
        now = at;
        const decision = decide(state, input, actor, policy, at);
        if (!decision.ok) continue;
        const after = decision.state;
        if (after.episode !== episode) {
          episode = after.episode;
          waiting = null;
        }
        for (const m of recordedMessages(decision.effects) as MessageRecord[]) {
          if (m.direction === 'inbound') {
            const sent = m.sentAt !== null && m.sentAt < m.at ? m.sentAt : m.at;
            waiting = waiting === null ? sent : Math.min(waiting, sent);
          } else if (m.authorId !== null) {
            waiting = null;
          }
        }
        expect(after.waitingSince).toBe(isEnded(after.status) ? null : waiting);
        if (isEnded(after.status)) waiting = null;
        state = after;
      }
    }),
    { numRuns: 400 },
  );
});
