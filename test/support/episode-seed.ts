import type { EpisodeRow } from '../../workflows/conversation/core/episode-fold';
import { foldBatch, foldContextOf } from '../../workflows/conversation/core/episode-fold';
import type { Actor, ConversationState, Input, MessageRecord, TransitionEvent } from '../../workflows/conversation/core/lifecycle';
import { decide, initialState } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy } from '../../workflows/conversation/core/policy';

/**
 * Episode rows for scale probes and the bench's `reports` phase: each folded by the pure core from real
 * decisions (a customer message, a claim by reply from one of five agents, a resolve for two in three),
 * on three channels, one a minute from `start` (so 100,000 rows span about 70 days: three months).
 */
export const seedChannels = ['wa-report-a', 'wa-report-b', 'wa-report-c'] as const;

export function seededRow(accountId: string, i: number, start = Date.UTC(2026, 0, 1)): EpisodeRow {
  const channel = seedChannels[i % seedChannels.length]!;
  const customer = String(400_000_000 + i);
  const conversationId = `conv:${accountId}:${channel}:${customer}`;
  const agent: Actor = { kind: 'user', userId: `agent-${i % 5}`, role: 'agent' };
  let state: ConversationState = initialState({ conversationId, accountId, channel, customer });
  const events: TransitionEvent[] = [];
  const messages: MessageRecord[] = [];
  const at = start + i * 60_000;
  const step = (input: Input, actor: Actor, n: number) => {
    const d = decide(state, input, actor, defaultPolicy, at + n * 1_000 * (1 + (i % 97)));
    if (!d.ok) throw new Error(`seed: ${d.code}`);
    state = d.state;
    for (const e of d.effects) {
      if (e.type === 'recordEvent') events.push(e.event);
      if (e.type === 'recordMessage') messages.push(e.message);
    }
  };
  step({ type: 'customerMessage', message: { messageId: `m${i}`, text: 'hello' } }, { kind: 'customer' }, 0);
  step({ type: 'reply', content: { kind: 'text', text: 'on it' } }, agent, 1);
  if (i % 3 !== 0) step({ type: 'resolve' }, agent, 5);
  const who = { conversationId, accountId, channel, customer };
  return foldBatch(new Map(), who, { events, messages }, foldContextOf(defaultPolicy)).get(1)!;
}
