/**
 * SPEC 10's notes in the pure core (core/rules-notes.ts): any user, any status, closed included; the
 * note is a timeline entry `{ kind: "note", direction: "internal", author, text, mentions }` and changes
 * nothing else: no status, assignee, unread count, window, SLA clock, preview, out-of-office or routing.
 */
import fc from 'fast-check';
import type { Actor, ConversationState, Input, MessageRecord } from '../../workflows/conversation/core/lifecycle';
import { decide, nextDeadline, windowExpiresAt } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy, presets } from '../../workflows/conversation/core/policy';
import type { Policy } from '../../workflows/conversation/core/policy';
import { slaInputsOf, withSlaState } from '../../workflows/conversation/core/conversation-sla';
import { withAnswerState } from '../../workflows/conversation/core/answer-within';
import { withOutOfOfficeState } from '../../workflows/conversation/core/out-of-office';
import { withSnoozeState } from '../../workflows/conversation/core/rules-snooze';
import { actionMessageId, maxMentions, noteMessageId, uniqueMentions } from '../../workflows/conversation/core/rules-notes';
import { previewOf } from '../../workflows/conversation/core/preview';
import { settled } from '../../workflows/conversation/core/settle';
import { toView } from '../../workflows/conversation/core/view';
import { maxTextLength } from '../../workflows/conversation/core/limits';
import { mentionDocsOf } from '../../store/mentions';
import { isFor, sseEvents } from '../../api/routes/stream';
import {
  HOUR,
  MINUTE,
  T0,
  accepted,
  agentA,
  agentB,
  allUsers,
  assign,
  assignedConversation,
  closedConversation,
  customer,
  deepFreeze,
  fresh,
  manager,
  nonUsers,
  openConversation,
  rejected,
  reply,
  resolve,
  step,
  system,
  template,
  timer,
} from './lifecycle-fixtures';

const note = (text = 'customer is a VIP, be gentle', mentions: string[] = []): Input => ({ type: 'note', text, mentions });

/** A state with every SPEC 9 clock switched on, as the shell seeds a patched run. */
const clocked = (s: ConversationState): ConversationState => withSnoozeState(withOutOfOfficeState(withAnswerState(withSlaState(s))));

/** What a note may change: its place in the timeline, the version the views are written at, and when. */
function withoutTimelineFields(s: ConversationState): Omit<ConversationState, 'messageSeq' | 'version' | 'updatedAt'> {
  const { messageSeq: _seq, version: _version, updatedAt: _at, ...rest } = s;
  return rest;
}

/** Checks that a note decided on `before` changed nothing but the timeline, and returns its one record. */
function expectOnlyTheTimeline(before: ConversationState, input: Input, actor: Actor, now: number, policy: Policy = defaultPolicy): MessageRecord {
  const decision = accepted(decide(deepFreeze(before), input, actor, policy, now));
  expect(decision.changed).toBe(true);
  expect(withoutTimelineFields(decision.state)).toEqual(withoutTimelineFields(before));
  expect(decision.state.messageSeq).toBe(before.messageSeq + 1);
  expect(decision.state.version).toBe(before.version + 1);
  expect(nextDeadline(decision.state, policy)).toBe(nextDeadline(before, policy));
  expect(windowExpiresAt(decision.state, policy)).toBe(windowExpiresAt(before, policy));
  expect(decision.effects).toHaveLength(1);
  const [effect] = decision.effects;
  if (effect?.type !== 'recordMessage') throw new Error(`expected one recordMessage, got ${JSON.stringify(decision.effects)}`);
  return effect.message;
}

describe('a note', () => {
  const states: [string, () => ConversationState][] = [
    ['open', () => openConversation()],
    ['assigned (to agent A)', () => assignedConversation()],
    ['closed', () => closedConversation()],
    ['open, with every clock on', () => clocked(openConversation())],
    ['assigned, with every clock on', () => step(clocked(openConversation()), assign('agent-a'), agentA, T0 + MINUTE)],
    ['closed, with every clock on', () => step(step(clocked(openConversation()), assign('agent-a'), agentA, T0 + MINUTE), resolve, agentA, T0 + 2 * MINUTE)],
  ];

  describe.each(states)('in %s', (_name, build) => {
    test.each(allUsers)('by %s is recorded as an internal note and changes nothing else', (_who, user) => {
      const before = build();
      const message = expectOnlyTheTimeline(before, note('call back after 5pm', ['agent-b', 'manager-1', 'agent-b']), user, T0 + 3 * MINUTE);
      expect(message).toEqual({
        seq: before.messageSeq + 1,
        messageId: noteMessageId(before.messageSeq + 1),
        direction: 'internal',
        kind: 'note',
        text: 'call back after 5pm',
        template: null,
        content: null,
        delivery: null,
        authorId: user.userId,
        at: T0 + 3 * MINUTE,
        sentAt: null,
        episode: before.episode,
        replyTo: null,
        attributes: null,
        inboundCount: before.inboundCount,
        mentions: ['agent-b', 'manager-1'],
      });
    });

    test.each(nonUsers)('by a %s is refused: forbidden', (_who, actor) => {
      expect(rejected(decide(build(), note(), actor, defaultPolicy, T0 + 3 * MINUTE)).code).toBe('forbidden');
    });
  });

  test('in every status of every preset, any user may write one and it changes nothing else', () => {
    // in_flow, resolved (status inbox), waiting and wrap_up (work items), reached through their rules.
    const statusInbox: Policy = { preset: 'status_inbox', ...presets.status_inbox, version: 1 };
    const workItems: Policy = { preset: 'work_items', ...presets.work_items, version: 1 };
    const inFlow = step(openConversation(), { type: 'flowStart', priority: false }, manager, T0 + MINUTE, statusInbox);
    const waiting = step(assignedConversation(), { type: 'leave' }, agentA, T0 + 2 * MINUTE, workItems);
    const wrapUp = step(assignedConversation(), { type: 'end' }, agentA, T0 + 2 * MINUTE, workItems);
    const snoozed = step(step(clocked(openConversation()), assign('agent-a'), agentA, T0 + MINUTE), { type: 'snooze', until: '2h' }, agentA, T0 + 2 * MINUTE);
    for (const [state, policy] of [
      [inFlow, statusInbox],
      [waiting, workItems],
      [wrapUp, workItems],
      [snoozed, defaultPolicy],
    ] as const) {
      expect(['in_flow', 'waiting', 'wrap_up', 'snoozed']).toContain(state.status);
      expectOnlyTheTimeline(state, note('fyi', ['agent-a']), agentB, T0 + 3 * MINUTE, policy);
    }
  });

  test('before the first customer message it is still only a timeline entry', () => {
    expectOnlyTheTimeline(fresh(), note(), manager, T0);
  });

  test('is refused when its text is blank or over the limit, or when it mentions too many users (validation_failed)', () => {
    const state = openConversation();
    expect(rejected(decide(state, note('   \n'), agentA, defaultPolicy, T0)).code).toBe('validation_failed');
    expect(rejected(decide(state, note('x'.repeat(maxTextLength + 1)), agentA, defaultPolicy, T0)).code).toBe('validation_failed');
    const many = Array.from({ length: maxMentions + 1 }, (_, i) => `user-${i}`);
    expect(rejected(decide(state, note('hi', many), agentA, defaultPolicy, T0)).message).toMatch(/^mentions:/);
    // Repeats count once.
    accepted(decide(state, note('x'.repeat(maxTextLength), [...many.slice(0, maxMentions), 'user-0']), agentA, defaultPolicy, T0));
  });

  test('is no SLA input, no preview and no answer; the action answers its message id', () => {
    const state = clocked(openConversation());
    const decision = accepted(decide(state, note('internal only', ['agent-a']), manager, defaultPolicy, T0 + MINUTE));
    expect(slaInputsOf(note(), manager, decision.effects, T0 + MINUTE)).toEqual([]);
    expect(decision.state.lastMessage).toEqual(state.lastMessage);
    expect(decision.state.waitingSince).toBe(state.waitingSince);
    expect(actionMessageId(decision.effects)).toBe(noteMessageId(state.messageSeq + 1));
    const replied = accepted(decide(assignedConversation(), reply('hi'), agentA, defaultPolicy, T0 + 2 * MINUTE));
    expect(actionMessageId(replied.effects)).toMatch(/^out-\d+$/);
    expect(previewOf({ kind: 'note', text: null, content: null, template: null })).toBe('📝 note');
  });

  test('keeps each mentioned user once, in the order first named', () => {
    expect(uniqueMentions(['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c']);
  });
});

describe('notes over random histories', () => {
  const actors: Actor[] = [agentA, agentB, manager, customer, system];
  const inputArb: fc.Arbitrary<[Input, Actor]> = fc.oneof(
    // A small pool of provider ids, so redeliveries happen too.
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 12 }).map((i): [Input, Actor] => [{ type: 'customerMessage', message: { messageId: `m${i}`, text: `text ${i}` } }, customer]) },
    { weight: 2, arbitrary: fc.constantFrom(agentA, agentB).map((a): [Input, Actor] => [reply('hi'), a]) },
    { weight: 1, arbitrary: fc.constantFrom(agentA, manager).map((a): [Input, Actor] => [template(), a]) },
    { weight: 2, arbitrary: fc.constantFrom('agent-a', 'agent-b').map((id): [Input, Actor] => [assign(id), manager]) },
    { weight: 1, arbitrary: fc.constant<[Input, Actor]>([resolve, manager]) },
    { weight: 2, arbitrary: fc.constant<[Input, Actor]>([timer, system]) },
    {
      weight: 3,
      arbitrary: fc
        .record({ by: fc.constantFrom(...actors), mentions: fc.array(fc.constantFrom('agent-a', 'agent-b', 'manager-1'), { maxLength: 4 }) })
        .map(({ by, mentions }): [Input, Actor] => [note('n', mentions), by]),
    },
  );
  const historyArb = fc.array(fc.tuple(inputArb, fc.integer({ min: 0, max: 30 * HOUR })), { minLength: 1, maxLength: 40 });

  test('every accepted note changes nothing but the timeline, whatever came before; only users may write one', () => {
    fc.assert(
      fc.property(historyArb, fc.boolean(), (history, clocks) => {
        let state = clocks ? clocked(fresh()) : fresh();
        let now = T0;
        for (const [[input, actor], gap] of history) {
          now += gap;
          // Time that passed is decided first, as the shell settles deadlines before any input.
          state = settled(state, defaultPolicy, now).state;
          if (input.type === 'note') {
            const decision = decide(state, input, actor, defaultPolicy, now);
            if (actor.kind !== 'user') {
              expect(decision.ok).toBe(false);
              continue;
            }
            expectOnlyTheTimeline(state, input, actor, now);
            state = accepted(decision).state;
            continue;
          }
          const decision = decide(state, input, actor, defaultPolicy, now);
          if (decision.ok) state = decision.state;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('mentions, as stored and streamed', () => {
  const record: MessageRecord = {
    seq: 7,
    messageId: 'note-7',
    direction: 'internal',
    kind: 'note',
    text: 'ask @agent-b',
    template: null,
    content: null,
    delivery: null,
    authorId: 'agent-a',
    at: Date.UTC(2026, 11, 6, 23, 0, 0),
    sentAt: null,
    episode: 1,
    replyTo: null,
    attributes: null,
    inboundCount: 1,
    mentions: ['agent-b', 'manager-1'],
  };
  const conversationId = 'conv:acc-1:ch-1:15550001';

  test('each mentioned user gets one document whose _id orders their mentions by time', () => {
    const docs = mentionDocsOf('acc-1', conversationId, [record, { ...record, seq: 8, messageId: 'out-8', direction: 'outbound', kind: 'text', mentions: undefined }]);
    expect(docs).toEqual([
      { _id: `acc-1/agent-b/2026-12-06T23:00:00.000Z/${conversationId}/note-7`, accountId: 'acc-1', userId: 'agent-b', conversationId, messageId: 'note-7', by: 'agent-a', at: record.at, text: 'ask @agent-b' },
      expect.objectContaining({ _id: `acc-1/manager-1/2026-12-06T23:00:00.000Z/${conversationId}/note-7`, userId: 'manager-1' }),
    ]);
    const later = mentionDocsOf('acc-1', conversationId, [{ ...record, at: record.at + 1 }])[0]!;
    expect(later._id > docs[0]!._id).toBe(true);
  });

  test('the stream carries the note to everyone and a mention event to each mentioned user only, after the entry’s other events', () => {
    const view = toView({ ...openConversation(), conversationId }, defaultPolicy);
    const events = sseEvents({ _id: 'acc-1/5', seq: 5, accountId: 'acc-1', conversationId, at: new Date(), conversation: view, messages: [record], deliveries: [], events: [] } as never);
    expect(events.map((e) => e.type)).toEqual(['message', 'conversation', 'mention', 'mention']);
    expect(events[0]!.data).toMatchObject({ direction: 'internal', kind: 'note', author: { kind: 'user', id: 'agent-a' }, mentions: ['agent-b', 'manager-1'] });
    expect(events[2]).toEqual({ type: 'mention', data: { conversationId, messageId: 'note-7', by: 'agent-a', text: 'ask @agent-b' }, to: 'agent-b' });
    const agentBPrincipal = { kind: 'user', accountId: 'acc-1', userId: 'agent-b', role: 'agent' } as const;
    const agentAPrincipal = { kind: 'user', accountId: 'acc-1', userId: 'agent-a', role: 'agent' } as const;
    expect(events.filter((e) => isFor(e, agentBPrincipal)).map((e) => e.type)).toEqual(['message', 'conversation', 'mention']);
    expect(events.filter((e) => isFor(e, agentAPrincipal)).map((e) => e.type)).toEqual(['message', 'conversation']);
    expect(events.filter((e) => isFor(e, { kind: 'service', accountId: 'acc-1', name: 'backend', keyId: 'k' })).map((e) => e.type)).toEqual(['message', 'conversation']);
  });
});
