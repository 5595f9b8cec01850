/**
 * SPEC 11's episode rows (core/episode-fold.ts): a table per field over lifecycles the real rules
 * decide, and properties over random lifecycles of every preset (test/unit/lifecycle-arbitraries.ts):
 * any split of the records into batches, retried batches included, folds to the same rows; the rows
 * agree with the state the engine reached (status, reason, score, assignee, SLA breaches).
 */
import fc from 'fast-check';
import { withSlaState } from '../../workflows/conversation/core/conversation-sla';
import type { EpisodeRecords, EpisodeRow, FoldContext } from '../../workflows/conversation/core/episode-fold';
import { foldBatch, foldContextOf, missingBefore } from '../../workflows/conversation/core/episode-fold';
import type { Actor, ConversationState, Effect, Input, MessageRecord, TransitionEvent } from '../../workflows/conversation/core/lifecycle';
import { decide, isEnded } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch, defaultPolicy, presets } from '../../workflows/conversation/core/policy';
import { settled } from '../../workflows/conversation/core/settle';
import type { Step } from './lifecycle-arbitraries';
import { historyArb, policies, replay } from './lifecycle-arbitraries';
import { HOUR, MINUTE, SECOND, T0, accepted, agentA, agentB, assign, customer, customerMessage, fresh, ids, owner, reply, resolve, service, template } from './lifecycle-fixtures';

type Batch = EpisodeRecords & { state: ConversationState };

/** Runs inputs as the shell does (deadlines that passed first), one batch per decision. */
function lifecycle(policy: Policy, steps: [Input, Actor, number][], start: ConversationState = withSlaState(fresh())): Batch[] {
  const batches: Batch[] = [];
  let state = start;
  const add = (effects: Effect[], next: ConversationState) => {
    const events: TransitionEvent[] = effects.flatMap((e) => (e.type === 'recordEvent' ? [e.event] : []));
    const messages: MessageRecord[] = effects.flatMap((e) => (e.type === 'recordMessage' ? [e.message] : []));
    batches.push({ events, messages, state: next });
  };
  for (const [input, actor, now] of steps) {
    const s = settled(state, policy, now);
    for (const d of s.decisions) add(d.effects, d.state);
    const d = accepted(decide(s.state, input, actor, policy, now));
    add(d.effects, d.state);
    state = d.state;
  }
  return batches;
}

const viewOf = (state: ConversationState): FoldContext['view'] => ({ episode: state.episode, priority: state.sla?.priority ?? 'normal', tags: state.tags, team: state.team });

/** Folds batches one by one, as `persist` does: the view of each batch is the state after it. */
function foldAll(policy: Policy, batches: Batch[], withView = true): Map<number, EpisodeRow> {
  let rows = new Map<number, EpisodeRow>();
  for (const b of batches) rows = foldBatch(rows, ids, b, foldContextOf(policy, withView ? viewOf(b.state) : undefined));
  return rows;
}

const rowOf = (policy: Policy, steps: [Input, Actor, number][], episode = 1) => {
  const row = foldAll(policy, lifecycle(policy, steps)).get(episode);
  if (!row) throw new Error(`no row for episode ${episode}`);
  return row;
};

const iso = (ms: number) => new Date(ms).toISOString();
const flows = { ...defaultPolicy, flows: true } as Policy;
const sla: Policy = applyPolicyPatch(defaultPolicy, { sla: { normal: { firstResponse: '10m', resolution: '1h' } } });

describe('episode rows: one field at a time', () => {
  it('measures the first response from the first customer message to the first message a user sends, and starts a stint where the reply claimed it', () => {
    const row = rowOf(defaultPolicy, [
      [customerMessage(), customer, T0],
      [customerMessage(), customer, T0 + MINUTE],
      [reply(), agentA, T0 + 5 * MINUTE],
    ]);
    expect(row).toMatchObject({
      conversationId: ids.conversationId,
      accountId: ids.accountId,
      channel: ids.channel,
      customer: ids.customer,
      episode: 1,
      startedAt: iso(T0),
      firstAssignedAt: iso(T0 + 5 * MINUTE),
      firstResponseAt: iso(T0 + 5 * MINUTE),
      firstResponseSeconds: 300,
      businessFirstResponseSeconds: 300,
      resolvedAt: null,
      resolutionSeconds: null,
      closedReason: null,
      assignees: [{ userId: 'agent-a', from: iso(T0 + 5 * MINUTE), to: null, firstReplySeconds: 0 }],
      customerMessages: 2,
      userMessages: 1,
      reopenedFrom: null,
      csat: null,
      priority: 'normal',
    });
  });

  it('never counts time inside in_flow as response time', () => {
    const row = rowOf(flows, [
      [customerMessage(), customer, T0],
      [{ type: 'flowStart', priority: false }, service, T0 + MINUTE],
      [customerMessage(), customer, T0 + 2 * MINUTE],
      [{ type: 'flowEnd', assignTo: { userId: 'agent-a' } }, service, T0 + 10 * MINUTE],
      [reply(), agentA, T0 + 12 * MINUTE],
    ]);
    // 12 minutes from the first message, of which 9 in the flow.
    expect(row.firstResponseSeconds).toBe(180);
    expect(row.businessFirstResponseSeconds).toBe(180);
    expect(row.assignees).toEqual([{ userId: 'agent-a', from: iso(T0 + 10 * MINUTE), to: null, firstReplySeconds: 120 }]);
  });

  it('measures an episode that a flow started from the end of the flow', () => {
    const steps: [Input, Actor, number][] = [
      [customerMessage(), customer, T0],
      [reply(), agentA, T0 + MINUTE],
      [resolve, agentA, T0 + 2 * MINUTE],
      [{ type: 'flowStart', priority: false }, service, T0 + HOUR],
      [customerMessage(), customer, T0 + HOUR + MINUTE],
      [{ type: 'flowEnd', assignTo: { userId: 'agent-b' } }, service, T0 + 2 * HOUR],
      [reply(), agentB, T0 + 2 * HOUR + 30 * SECOND],
    ];
    const row = rowOf(flows, steps, 2);
    expect(row.startedAt).toBe(iso(T0 + HOUR));
    expect(row.reopenedFrom).toBe(1);
    expect(row.firstResponseSeconds).toBe(30);
  });

  it("measures a reopened episode's first response from its own start, and names the episode it reopened", () => {
    const steps: [Input, Actor, number][] = [
      [customerMessage(), customer, T0],
      [reply(), agentA, T0 + MINUTE],
      [resolve, agentA, T0 + 10 * MINUTE],
      [customerMessage(), customer, T0 + 5 * HOUR],
      [assign('agent-b'), owner, T0 + 5 * HOUR + MINUTE],
      [reply(), agentB, T0 + 5 * HOUR + 2 * MINUTE],
    ];
    const rows = foldAll(defaultPolicy, lifecycle(defaultPolicy, steps));
    expect(rows.get(1)).toMatchObject({ resolvedAt: iso(T0 + 10 * MINUTE), resolutionSeconds: 600, closedReason: 'resolved', reopenedFrom: null });
    expect(rows.get(1)!.assignees).toEqual([{ userId: 'agent-a', from: iso(T0 + MINUTE), to: iso(T0 + 10 * MINUTE), firstReplySeconds: 0 }]);
    expect(rows.get(2)).toMatchObject({
      startedAt: iso(T0 + 5 * HOUR),
      firstAssignedAt: iso(T0 + 5 * HOUR + MINUTE),
      firstResponseSeconds: 120,
      reopenedFrom: 1,
      customerMessages: 1,
      userMessages: 1,
      assignees: [{ userId: 'agent-b', from: iso(T0 + 5 * HOUR + MINUTE), to: null, firstReplySeconds: 60 }],
    });
  });

  it('counts templates as user messages, and neither notes nor system messages (the survey)', () => {
    const csat = { ...presets.status_inbox, preset: 'status_inbox', version: 1 } as Policy;
    const row = rowOf(csat, [
      [customerMessage(), customer, T0],
      [{ type: 'note', text: 'vip', mentions: [] }, agentA, T0 + MINUTE],
      [template(), agentA, T0 + 2 * MINUTE],
      [reply(), agentA, T0 + 3 * MINUTE],
      [resolve, agentA, T0 + 4 * MINUTE],
      [{ type: 'csatAnswer', score: 4 }, customer, T0 + 5 * MINUTE],
    ]);
    expect(row.userMessages).toBe(2);
    expect(row.customerMessages).toBe(1);
    expect(row.firstResponseSeconds).toBe(120);
    // Resolved when the agent resolved it; closed by the answer, whose score the row keeps.
    expect(row).toMatchObject({ resolvedAt: iso(T0 + 4 * MINUTE), resolutionSeconds: 240, closedReason: 'resolved', csat: 4 });
  });

  it('gives every stint its own first reply, from the stint start to that user’s first message in it', () => {
    const row = rowOf(defaultPolicy, [
      [customerMessage(), customer, T0],
      [assign('agent-a'), agentA, T0 + MINUTE],
      [reply(), agentA, T0 + 3 * MINUTE],
      [assign('agent-b'), owner, T0 + 5 * MINUTE],
      [customerMessage(), customer, T0 + 6 * MINUTE],
      [reply(), agentB, T0 + 9 * MINUTE],
      [assign('agent-a'), owner, T0 + 10 * MINUTE],
    ]);
    expect(row.firstAssignedAt).toBe(iso(T0 + MINUTE));
    expect(row.firstResponseSeconds).toBe(180);
    expect(row.assignees).toEqual([
      { userId: 'agent-a', from: iso(T0 + MINUTE), to: iso(T0 + 5 * MINUTE), firstReplySeconds: 120 },
      { userId: 'agent-b', from: iso(T0 + 5 * MINUTE), to: iso(T0 + 10 * MINUTE), firstReplySeconds: 240 },
      { userId: 'agent-a', from: iso(T0 + 10 * MINUTE), to: null, firstReplySeconds: null },
    ]);
  });

  it('says met, breached, pending or none per SLA metric', () => {
    const open = rowOf(sla, [[customerMessage(), customer, T0]]);
    expect(open.sla).toEqual({ firstResponse: 'pending', nextResponse: 'none', resolution: 'pending' });
    const answered = rowOf(sla, [
      [customerMessage(), customer, T0],
      [reply(), agentA, T0 + 5 * MINUTE],
    ]);
    expect(answered.sla).toEqual({ firstResponse: 'met', nextResponse: 'none', resolution: 'pending' });
    const late = rowOf(sla, [
      [customerMessage(), customer, T0],
      [reply(), agentA, T0 + 20 * MINUTE],
      [resolve, agentA, T0 + 30 * MINUTE],
    ]);
    expect(late.sla).toEqual({ firstResponse: 'breached', nextResponse: 'none', resolution: 'met' });
    const slow = rowOf(sla, [
      [customerMessage(), customer, T0],
      [reply(), agentA, T0 + 5 * MINUTE],
      // The resolution breach (due at T0 + 1h) is decided before the resolve, as the shell does.
      [resolve, agentA, T0 + 3 * HOUR],
    ]);
    expect(slow.sla).toEqual({ firstResponse: 'met', nextResponse: 'none', resolution: 'breached' });
    const none = rowOf(defaultPolicy, [[customerMessage(), customer, T0]]);
    expect(none.sla).toEqual({ firstResponse: 'none', nextResponse: 'none', resolution: 'none' });
  });

  it('counts business time only in businessFirstResponseSeconds', () => {
    // T0 is Monday 09:00 UTC; open 09:00-17:00 on weekdays.
    const day: [string, string][] = [['09:00', '17:00']];
    const hours = applyPolicyPatch(defaultPolicy, { businessHours: { timezone: 'UTC', weekly: { mon: day, tue: day, wed: day, thu: day, fri: day } } });
    const row = rowOf(hours, [
      [customerMessage(), customer, T0 + 7 * HOUR + 50 * MINUTE],
      [reply(), agentA, T0 + 24 * HOUR + 10 * MINUTE],
    ]);
    expect(row.firstResponseSeconds).toBe((16 * HOUR + 20 * MINUTE) / SECOND);
    expect(row.businessFirstResponseSeconds).toBe((20 * MINUTE) / SECOND);
  });

  it('takes priority, tags and team from the view while the episode is the current one', () => {
    const batches = lifecycle(defaultPolicy, [
      [customerMessage(), customer, T0],
      [{ type: 'tags', add: ['vip'], remove: [] }, owner, T0 + MINUTE],
      [{ type: 'priority', priority: 'urgent' }, owner, T0 + 2 * MINUTE],
    ]);
    const row = foldAll(defaultPolicy, batches).get(1)!;
    expect(row).toMatchObject({ priority: 'urgent', tags: ['vip'] });
  });

  it('asks for the records it has not seen: none when a batch starts the episode or follows the row, the gap otherwise', () => {
    const batches = lifecycle(defaultPolicy, [
      [customerMessage(), customer, T0],
      [reply(), agentA, T0 + MINUTE],
      [reply(), agentA, T0 + 2 * MINUTE],
    ]);
    expect(missingBefore(null, 1, batches[0]!)).toBeNull();
    expect(missingBefore(null, 1, batches[1]!)).toEqual({ eventsAfter: 0, messagesAfter: 0, eventsBefore: 2, messagesBefore: 2 });
    const first = foldBatch(new Map(), ids, batches[0]!, foldContextOf(defaultPolicy)).get(1)!;
    expect(missingBefore(first, 1, batches[1]!)).toBeNull();
    expect(missingBefore(first, 1, batches[2]!)).toEqual({ eventsAfter: 1, messagesAfter: 1, eventsBefore: Infinity, messagesBefore: 3 });
  });
});

describe('episode rows over random lifecycles', () => {
  const numRuns = 150;
  const slaOn = (p: Policy): Policy => applyPolicyPatch(p, { sla: { normal: { firstResponse: '10m', nextResponse: '30m', resolution: '4h' } } });

  /** Every accepted decision of a random history as one batch, with the state after it. */
  function batchesOf(policy: Policy, history: Step[]): Batch[] {
    const out: Batch[] = [];
    replay(
      policy,
      history,
      ({ decision }) => {
        if (!decision.ok || !decision.changed) return;
        const events = decision.effects.flatMap((e) => (e.type === 'recordEvent' ? [e.event] : []));
        const messages = decision.effects.flatMap((e) => (e.type === 'recordMessage' ? [e.message] : []));
        out.push({ events, messages, state: decision.state });
      },
      false,
      withSlaState(fresh()),
    );
    return out;
  }

  describe.each(policies)('%s', (_name, base) => {
    const policy = slaOn(base);

    it('folds to the same rows whatever the batches: one at a time, all at once, in random splits, with retried batches', () => {
      fc.assert(
        fc.property(historyArb, fc.array(fc.nat(), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (history, cuts, retries) => {
          const batches = batchesOf(policy, history);
          const ctx = foldContextOf(policy);
          const oneByOne = foldAll(policy, batches, false);
          const all: EpisodeRecords = { events: batches.flatMap((b) => b.events), messages: batches.flatMap((b) => b.messages) };
          expect(foldBatch(new Map(), ids, all, ctx)).toEqual(oneByOne);
          // Random splits, and some batches folded twice (a retried persist), the second time late.
          const marks = [...new Set(cuts.map((c) => c % (batches.length + 1)))].sort((a, b) => a - b);
          let rows = new Map<number, EpisodeRow>();
          let from = 0;
          for (const to of [...marks, batches.length]) {
            const part = batches.slice(from, to);
            const chunk = { events: part.flatMap((b) => b.events), messages: part.flatMap((b) => b.messages) };
            rows = foldBatch(rows, ids, chunk, ctx);
            for (const r of retries) {
              const again = batches[r % Math.max(1, to)];
              if (again !== undefined && r % 3 === 0) rows = foldBatch(rows, ids, again, ctx);
            }
            from = to;
          }
          expect(rows).toEqual(oneByOne);
        }),
        { numRuns },
      );
    });

    it("agrees with the engine's state: the current episode's end, reason, score, assignee, counts and SLA breaches", () => {
      fc.assert(
        fc.property(historyArb, (history) => {
          const batches = batchesOf(policy, history);
          const last = batches.at(-1);
          if (last === undefined) return;
          const state = last.state;
          const rows = foldAll(policy, batches);
          expect([...rows.keys()]).toEqual(Array.from({ length: state.episode }, (_, i) => i + 1));
          const row = rows.get(state.episode);
          if (row === undefined) return;
          const messages = batches.flatMap((b) => b.messages).filter((m) => m.episode === state.episode);
          expect(row.customerMessages).toBe(messages.filter((m) => m.direction === 'inbound').length);
          expect(row.userMessages).toBe(messages.filter((m) => m.direction === 'outbound' && m.authorId !== null).length);
          expect(row.resolvedAt !== null).toBe(isEnded(state.status));
          if (isEnded(state.status)) {
            expect(row.closedReason).toBe(state.status === 'closed' ? state.closedReason : 'resolved');
            expect(row.csat).toBe(state.csatScore);
            expect(row.assignees.every((s) => s.to !== null)).toBe(true);
          } else if (state.assigneeId !== null) {
            expect(row.assignees.at(-1)).toMatchObject({ userId: state.assigneeId, to: null });
          }
          for (const metric of ['firstResponse', 'nextResponse', 'resolution'] as const) {
            expect(row.sla[metric] === 'breached').toBe(state.sla!.breached.includes(metric));
          }
          for (const r of rows.values()) {
            expect(r.reopenedFrom).toBe(r.episode > 1 ? r.episode - 1 : null);
            if (r.firstResponseSeconds !== null) {
              expect(r.firstResponseSeconds).toBeGreaterThanOrEqual(0);
              expect(r.businessFirstResponseSeconds).toBe(r.firstResponseSeconds); // no business hours: wall time
              expect(Date.parse(r.firstResponseAt!)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
            }
            // Stints follow one another inside the episode.
            let previousEnd = Date.parse(r.startedAt);
            for (const s of r.assignees) {
              expect(Date.parse(s.from)).toBeGreaterThanOrEqual(previousEnd);
              if (s.to !== null) expect(Date.parse(s.to)).toBeGreaterThanOrEqual(Date.parse(s.from));
              previousEnd = s.to === null ? Infinity : Date.parse(s.to);
            }
            if (r.resolvedAt !== null) expect(r.resolutionSeconds).toBe((Date.parse(r.resolvedAt) - Date.parse(r.startedAt)) / 1000);
          }
        }),
        { numRuns },
      );
    });
  });
});
