import { decide } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import type { StoredConversation } from '../../workflows/conversation/core/recover';
import { outboundNumber, recoveredState } from '../../workflows/conversation/core/recover';

/** Issue 24, item 4: a run that starts from nothing continues from the stored conversation (core/recover.ts). */
const ids = { conversationId: 'conv:a:wa:1', accountId: 'a', channel: 'wa', customer: '1' };
const t0 = Date.parse('2026-12-06T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const closedAfterReply: StoredConversation = {
  view: {
    status: 'closed',
    episode: 1,
    assigneeId: null,
    lastCustomerMessageAt: iso(t0),
    closedReason: 'resolved',
    closedAt: iso(t0 + 60_000),
    lastActivityAt: iso(t0 + 60_000),
    updatedAt: iso(t0 + 60_000),
    inboundCount: 1,
    inboundCountFromStart: true,
    version: 7,
  },
  lastMessageSeq: 2,
  lastOutboundNumber: 2,
  recentMessageIds: ['wamid.1'],
  recentEvents: [
    { seq: 1, at: t0, from: 'closed', to: 'open', reason: 'first_customer_message', assigneeBefore: null, assigneeAfter: null },
    { seq: 2, at: t0 + 1_000, from: 'open', to: 'assigned', reason: 'reply', assigneeBefore: null, assigneeAfter: 'u1' },
    { seq: 3, at: t0 + 60_000, from: 'assigned', to: 'closed', reason: 'resolved', assigneeBefore: 'u1', assigneeAfter: null },
  ],
};

test('a closed conversation recovered from its views opens its next episode with fresh seqs and a newer version', () => {
  const state = recoveredState(ids, closedAfterReply);
  expect(state).toMatchObject({ status: 'closed', episode: 1, version: 7, messageSeq: 2, eventSeq: 3, lastAssigneeId: 'u1', statusSince: t0 + 60_000 });
  const decision = decide(state, { type: 'customerMessage', message: { messageId: 'wamid.2', text: 'back' } }, { kind: 'customer' }, defaultPolicy, t0 + 120_000);
  if (!decision.ok) throw new Error(decision.message);
  expect(decision.state).toMatchObject({ status: 'open', episode: 2, inboundCount: 2 });
  expect(decision.state.version).toBeGreaterThan(7);
  const recorded = decision.effects.flatMap((e) => (e.type === 'recordMessage' ? [e.message.seq] : e.type === 'recordEvent' ? [e.event.seq] : []));
  expect(recorded).toEqual(expect.arrayContaining([3, 4]));
});

test('a provider id the old run recorded changes nothing in the recovered one', () => {
  const decision = decide(recoveredState(ids, closedAfterReply), { type: 'customerMessage', message: { messageId: 'wamid.1', text: 'again' } }, { kind: 'customer' }, defaultPolicy, t0 + 120_000);
  expect(decision.ok && decision.changed).toBe(false);
});

test('a seq gap left by an outbound id above the last stored message is skipped, never reused', () => {
  expect(recoveredState(ids, { ...closedAfterReply, lastMessageSeq: 2, lastOutboundNumber: 5 }).messageSeq).toBe(5);
  expect(outboundNumber('out-12')).toBe(12);
  expect(outboundNumber('wamid.out-12')).toBe(0);
});

test('an assigned view keeps its assignee and when the assignment began; absent (FerretDB-dropped) fields read as null', () => {
  const state = recoveredState(ids, {
    ...closedAfterReply,
    view: { status: 'assigned', episode: 1, assigneeId: 'u1', version: 4, lastCustomerMessageAt: iso(t0) },
    recentEvents: closedAfterReply.recentEvents.slice(0, 2),
  });
  expect(state).toMatchObject({ status: 'assigned', assigneeId: 'u1', assignedAt: t0 + 1_000, statusSince: t0 + 1_000, closedAt: null, tags: [], team: null });
});
