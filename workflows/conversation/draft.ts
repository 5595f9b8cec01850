/**
 * The machinery every rule uses to build one decision: a copy of the state to change, the transition
 * events and records it emits, and — in one place, not in every rule — what follows for routing and
 * capacity. Rules call `transition`, `set`, `record`, then `done`.
 */
import { capacityHolder } from './deadlines';
import type { Effective } from './deadlines';
import type { Actor, ClosedReason, ConversationState, Decision, Effect, MessageRecord, RejectionCode, Status, TransitionEvent } from './model';
import { actorRef, isNew } from './model';

export interface Context {
  state: ConversationState;
  actor: Actor;
  policy: Effective;
  now: number;
}

export function reject(code: RejectionCode, message: string): Decision {
  return { ok: false, code, message };
}

export function unchanged(state: ConversationState): Decision {
  return { ok: true, state, effects: [], changed: false };
}

export class Draft {
  state: ConversationState;
  readonly effects: Effect[] = [];

  constructor(
    private readonly ctx: Context,
    private readonly base: ConversationState = ctx.state,
  ) {
    this.state = { ...base };
  }

  set(changes: Partial<ConversationState>): void {
    this.state = { ...this.state, ...changes };
  }

  transition(
    to: Status,
    reason: string,
    changes: Partial<ConversationState> = {},
    annotations: { rule?: string; details?: TransitionEvent['details'] } = {},
  ): void {
    const before = this.state;
    this.set(changes);
    const event: TransitionEvent = {
      seq: this.state.eventSeq + 1,
      at: this.ctx.now,
      episode: this.state.episode,
      from: isNew(before) ? null : before.status,
      to,
      reason,
      actor: actorRef(this.ctx.actor),
      assigneeBefore: before.assigneeId,
      assigneeAfter: this.state.assigneeId,
      rule: annotations.rule ?? null,
      details: annotations.details ?? null,
    };
    const statusSince = to === before.status ? this.state.statusSince : this.ctx.now;
    this.set({ status: to, eventSeq: event.seq, statusSince });
    this.effects.push({ type: 'recordEvent', event });
  }

  /** Ends the episode. Closing archives when the policy says so; only a customer message reopens. */
  close(reason: ClosedReason, changes: Partial<ConversationState> = {}, details: TransitionEvent['details'] = null): void {
    this.transition(
      'closed',
      reason,
      {
        assigneeId: null,
        routeTeam: null,
        disconnectedAt: null,
        closedReason: reason,
        closedAt: this.ctx.now,
        archived: this.ctx.policy.autoArchive,
        ...changes,
      },
      { details },
    );
  }

  record(fields: Omit<MessageRecord, 'seq' | 'at' | 'episode'>): MessageRecord {
    const message: MessageRecord = { ...fields, seq: this.state.messageSeq + 1, at: this.ctx.now, episode: this.state.episode };
    this.set({ messageSeq: message.seq });
    this.effects.push({ type: 'recordMessage', message });
    return message;
  }

  /** Records an outbound message and hands it to the channel. */
  send(fields: Pick<MessageRecord, 'kind' | 'text' | 'template' | 'authorId'>): MessageRecord {
    const message = this.record({ ...fields, messageId: `out-${this.state.messageSeq + 1}`, direction: 'outbound', sentAt: null, replyTo: null, attributes: null });
    this.effects.push({ type: 'send', message });
    return message;
  }

  done(): Decision {
    this.routingEffects();
    return { ok: true, state: { ...this.state, version: this.state.version + 1, updatedAt: this.ctx.now }, effects: this.effects, changed: true };
  }

  /**
   * Routing and capacity follow from the decision's outcome: a conversation that became open asks for
   * an agent, and every change of whose capacity it consumes is reported so the router's counts stay
   * true. Under manual routing the router is not involved, but `heldBy` is kept all the same, so the
   * views can rebuild the counts when routing is switched on.
   */
  private routingEffects(): void {
    const { base, ctx } = this;
    if (this.state.assigneeId !== null) this.set({ lastAssigneeId: this.state.assigneeId });
    const holder = capacityHolder(this.state, ctx.policy, ctx.now);
    const routed = ctx.policy.routing.mode !== 'manual';
    // Leaving open also matters when nobody holds it before or after (closed from open, taken by a
    // flow): the router must drop it from its queue, or the next free slot goes to a conversation
    // that no longer waits.
    const leftOpen = base.status === 'open' && this.state.status !== 'open';
    if (holder !== this.state.heldBy || (routed && leftOpen)) {
      this.set({ heldBy: holder });
      if (routed) this.effects.push({ type: 'reportAssignment', assigneeId: holder });
    }
    const becameOpen = this.state.status === 'open' && (base.status !== 'open' || base.episode !== this.state.episode);
    if (routed && becameOpen) {
      this.effects.push({
        type: 'requestRouting',
        request: {
          channel: this.state.channel,
          attributes: this.state.routingAttributes ?? {},
          previousAssigneeId: this.state.lastAssigneeId,
          since: ctx.now,
          team: this.state.routeTeam,
        },
      });
    }
  }
}
