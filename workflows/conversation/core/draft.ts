/**
 * The machinery every rule uses to build one decision: a copy of the state to change, the transition
 * events and records it emits, and — in one place, not in every rule — what follows for routing and
 * capacity. Rules call `transition`, `set`, `record`, then `done`.
 */
import { capacityHolder } from './deadlines';
import type { Effective } from './deadlines';
import type {
  Actor,
  ClosedReason,
  ConversationState,
  Decision,
  Delivery,
  Effect,
  MessageRecord,
  OutboxEntry,
  RejectionCode,
  SendRequest,
  Status,
  TransitionEvent,
} from './model';
import { actorRef, isEnded, isNew, outboxWindow } from './model';
import type { OutboundContent } from './outbound';
import { previewOf } from './preview';
import { matchRule } from '../../routing/routing';
import { answerBookkeeping, avoidOf } from './answer-within';

export interface Context {
  state: ConversationState;
  actor: Actor;
  policy: Effective;
  now: number;
}

/**
 * How each kind of outbound content shows on the timeline: the record's flat `kind`, `text`, `template`
 * and `content` fields, which the API's message view, the stream and the inbox preview read (public
 * shapes, kept as they were). One case per kind; a new kind does not compile until it has one.
 */
export function recordOf(content: OutboundContent): Pick<MessageRecord, 'kind' | 'text' | 'template' | 'content'> {
  switch (content.kind) {
    case 'text':
      return { kind: 'text', text: content.text, template: null, content: null };
    case 'template':
      return { kind: 'template', text: null, template: content.template, content: null };
    case 'interactive':
      // The body is the message's words (preview, search); the buttons or list stay whole beside it.
      return { kind: 'interactive', text: content.interactive.body, template: null, content: { interactive: content.interactive } };
    case 'media': {
      // Shown as inbound media is: the WhatsApp type as the kind, the caption as the text.
      const { id, mimeType, filename, caption } = content.media;
      const media = { id, mimeType, ...(filename !== undefined ? { filename } : {}), ...(caption !== undefined ? { caption } : {}) };
      return { kind: content.media.mediaType, text: caption ?? null, template: null, content: { media } };
    }
  }
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

  /**
   * Records a message exchanged with the customer: counted, and the list's preview. Notes are not
   * recorded here (rules-notes.ts): they move no preview and no count, hence the narrower direction.
   */
  record(fields: Omit<MessageRecord, 'seq' | 'at' | 'episode' | 'inboundCount' | 'direction'> & { direction: 'inbound' | 'outbound' }): MessageRecord {
    // Counted here, where every timeline message is recorded, so no rule can record a customer message
    // without counting it. `?? 0`: a state from older code that `upgradeState` has not seen.
    const inboundCount = (this.state.inboundCount ?? 0) + (fields.direction === 'inbound' ? 1 : 0);
    const message = { ...fields, seq: this.state.messageSeq + 1, at: this.ctx.now, episode: this.state.episode, inboundCount };
    this.set({ messageSeq: message.seq, inboundCount, lastMessage: { direction: message.direction, kind: message.kind, text: previewOf(message), at: message.at } });
    this.effects.push({ type: 'recordMessage', message });
    return message;
  }

  /**
   * Records an outbound message as `queued` and puts it in the outbox: the shell sends it, in order,
   * once the views hold it, and reports the outcome back as a `sendOutcome` input.
   */
  send(request: SendRequest, authorId: string | null): MessageRecord {
    const message = this.record({
      messageId: `out-${this.state.messageSeq + 1}`,
      direction: 'outbound',
      ...recordOf(request.content),
      delivery: { status: 'queued', providerMessageId: null, error: null, updatedAt: this.ctx.now },
      authorId,
      sentAt: null,
      replyTo: request.replyTo === null ? null : { messageId: request.replyTo },
      attributes: null,
    });
    const entry: OutboxEntry = { messageId: message.messageId, version: this.base.version + 1, status: 'queued', providerMessageId: null, send: request };
    this.set({ outbox: trimOutbox([...this.state.outbox, entry]) });
    // Out of office keeps quiet right after a user wrote (SPEC 9); every user's message goes out here.
    if (authorId !== null && this.state.outOfOffice !== undefined) this.set({ outOfOffice: { ...this.state.outOfOffice, lastUserMessageAt: this.ctx.now } });
    this.effects.push({ type: 'send', message });
    return message;
  }

  /** Moves one outbox entry's delivery and writes it to the message's timeline record. */
  deliver(entry: OutboxEntry, delivery: Delivery): void {
    const next: OutboxEntry = { ...entry, status: delivery.status, providerMessageId: delivery.providerMessageId, send: delivery.status === 'queued' ? entry.send : null };
    this.set({ outbox: trimOutbox(this.state.outbox.map((e) => (e.messageId === entry.messageId ? next : e))) });
    this.effects.push({ type: 'recordDelivery', messageId: entry.messageId, delivery });
  }

  done(): Decision {
    // Before routing: a new episode empties the list of users the router avoids (SPEC 9).
    if (this.state.answer !== undefined) this.set({ answer: answerBookkeeping(this.base, this.state, this.ctx.now) });
    this.routingEffects();
    // Nobody waits in an ended episode, and no team holds it; a customer message starts the next one.
    if (isEnded(this.state.status)) this.set({ waitingSince: null, team: null });
    // Whatever moved a snoozed conversation on (a wake, a resolve, an assignment), its wake-up is gone.
    if (this.state.status !== 'snoozed' && typeof this.state.snoozedUntil === 'number') this.set({ snoozedUntil: null });
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
    // The team holding it: one named by a transfer or a flow, else the one the rules pick for the
    // router (as the router will, from the same attributes), kept through the assignment that follows.
    if (this.state.routeTeam !== null) this.set({ team: this.state.routeTeam });
    else if (becameOpen) this.set({ team: routed ? matchRule(ctx.policy.routing, { channel: this.state.channel, attributes: this.state.routingAttributes ?? {} }).team : null });
    if (routed && becameOpen) {
      const avoid = avoidOf(this.state);
      this.effects.push({
        type: 'requestRouting',
        request: {
          channel: this.state.channel,
          attributes: this.state.routingAttributes ?? {},
          previousAssigneeId: this.state.lastAssigneeId,
          since: ctx.now,
          team: this.state.routeTeam,
          // Only when someone is avoided, so a request is what it was before SPEC 9 otherwise.
          ...(avoid.length > 0 ? { avoid } : {}),
        },
      });
    }
  }
}

/** Keeps every queued entry and the newest `outboxWindow` others, in order. */
function trimOutbox(outbox: OutboxEntry[]): OutboxEntry[] {
  const done = outbox.filter((e) => e.status !== 'queued');
  if (done.length <= outboxWindow) return outbox;
  const drop = new Set(done.slice(0, done.length - outboxWindow).map((e) => e.messageId));
  return outbox.filter((e) => !drop.has(e.messageId));
}
