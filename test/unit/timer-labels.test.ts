/**
 * The Web UI's words for the deadlines (issue 25): every deadline kind has words, the SLA deadline names
 * its metric and whether the warning or the breach is next, and a timer's label names every deadline
 * due at its instant.
 */
import { withAnswerState } from '../../workflows/conversation/core/answer-within';
import { withSlaState } from '../../workflows/conversation/core/conversation-sla';
import type { DeadlineKind } from '../../workflows/conversation/core/deadlines';
import { deadlines } from '../../workflows/conversation/core/deadlines';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { deadlineLabel, timerLabel, wakeUpLabel } from '../../workflows/conversation/core/timer-labels';
import { HOUR, MINUTE, T0, agentA, assign, customer, customerMessage, fresh, step } from './lifecycle-fixtures';

const iso = (at: number) => new Date(at).toISOString();

describe('deadline words', () => {
  const state = fresh();
  it.each<[DeadlineKind, string]>([
    ['autoClose', 'auto-close (inactivity)'],
    ['idleClose', 'idle close'],
    ['waitingClose', 'waiting times out'],
    ['csatTimeout', 'survey times out'],
    ['wrapUpCapacity', 'wrap-up frees capacity'],
    ['agentReconnect', 'agent reconnect times out'],
    ['answerWithin', 'answer-within: reroute if unanswered'],
    ['windowExpiry', 'window closes'],
    ['sla', 'SLA warning or breach due'],
  ])('%s: "%s at …"', (kind, words) => {
    expect(deadlineLabel(kind, T0, state, defaultPolicy)).toBe(`${words} at ${iso(T0)}`);
  });
});

describe('timer labels', () => {
  const policy = applyPolicyPatch(defaultPolicy, { sla: { normal: { firstResponse: '1h', resolution: '8h' } }, slaWarnBefore: '10m', answerWithin: '1h' });
  const opened = step(withAnswerState(withSlaState(fresh())), customerMessage(), customer, T0, policy);

  it('the SLA deadline names the metric and the warning with its due time, then the breach', () => {
    expect(timerLabel(opened, policy, T0 + 50 * MINUTE)).toBe(`wake-up at ${iso(T0 + 50 * MINUTE)}, armed for: SLA first response warning (due ${iso(T0 + HOUR)})`);
    const warned = step(opened, { type: 'timer' }, { kind: 'system' }, T0 + 50 * MINUTE, policy);
    expect(timerLabel(warned, policy, T0 + HOUR)).toBe(`wake-up at ${iso(T0 + HOUR)}, armed for: SLA first response due`);
  });

  it('names every deadline due at the instant, in the order they are applied', () => {
    // Claimed at T0 with a customer waiting: the answer-within reroute and the SLA breach both fall due at T0 + 1h.
    const warned = step(step(opened, assign('agent-a'), agentA, T0, policy), { type: 'timer' }, { kind: 'system' }, T0 + 50 * MINUTE, policy);
    expect(deadlines(warned, policy).filter((d) => d.at === T0 + HOUR).map((d) => d.kind)).toEqual(['answerWithin', 'sla']);
    expect(timerLabel(warned, policy, T0 + HOUR)).toBe(`wake-up at ${iso(T0 + HOUR)}, armed for: answer-within: reroute if unanswered; SLA first response due`);
  });

  it('with nothing due at the instant, says only that it checks the deadlines', () => {
    expect(timerLabel(opened, policy, T0 + 3 * HOUR)).toBe(wakeUpLabel(T0 + 3 * HOUR));
    expect(wakeUpLabel(T0)).toBe(`wake-up at ${iso(T0)} to check the deadlines`);
  });
});
