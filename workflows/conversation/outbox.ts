/**
 * The outbox, one message at a time in order (DESIGN.md, "Outbound delivery"): the oldest queued
 * message is sent once the views hold it, and the next waits until this one's outcome is decided, so a
 * conversation's messages reach the customer in the order they were accepted.
 */
import { condition, proxyActivities } from '@temporalio/workflow';
import type { DeliveryActivities } from '../../activities/delivery-activities';
import { deliveryActivityOptions, undeliverable } from './delivery-options';
import type { ConversationState, Input, OutboxEntry, SendOutcome } from './core/lifecycle';
import type { ConversationRef } from './messages';
import type { PatchSet } from './patches';
import { outboundDeliveryPatch } from './patches';

const { deliver } = proxyActivities<DeliveryActivities>(deliveryActivityOptions);

/** What the outbox reads from and hands back to the run that owns the state. */
export interface OutboxHost {
  ref: ConversationRef;
  conversationId: string;
  state(): ConversationState;
  /** The state version the views (MongoDB) hold. */
  flushedVersion(): number;
  /** Replaces the state without a new version (the pre-delivery replay path only). */
  replaceState(next: ConversationState): void;
  /** Queues an input for the main loop to decide (the send's outcome). */
  feed(input: Input): void;
  /** The run's patches (patches.ts). */
  taken: PatchSet;
}

export class Outbox {
  constructor(private readonly host: OutboxHost) {}

  /** The oldest queued message, once the views hold its version. */
  private next(): OutboxEntry | undefined {
    const head = this.host.state().outbox.find((e) => e.status === 'queued');
    return head && head.version <= this.host.flushedVersion() ? head : undefined;
  }

  /** Whether anything is still to be sent (a run does not continue as new until nothing is). */
  hasQueued(): boolean {
    return this.host.state().outbox.some((e) => e.status === 'queued');
  }

  async run(): Promise<never> {
    const { host } = this;
    for (;;) {
      await condition(() => this.next() !== undefined);
      const entry = this.next()!;
      if (!host.taken(outboundDeliveryPatch)) {
        // Replaying a run from before delivery existed: its persist sent this message (to the recording
        // provider) then. Mark it done in memory only: no command, no new version.
        const state = host.state();
        host.replaceState({ ...state, outbox: state.outbox.map((e) => (e.messageId === entry.messageId ? { ...e, status: 'sent' as const, send: null } : e)) });
        continue;
      }
      const { content, replyTo } = entry.send!;
      let result: SendOutcome;
      try {
        result = await deliver({
          deliveryId: `${host.conversationId}/${entry.messageId}`,
          accountId: host.ref.accountId,
          channel: host.ref.channel,
          customer: host.ref.customer,
          conversationId: host.conversationId,
          messageId: entry.messageId,
          campaignId: null,
          content,
          replyTo,
        });
      } catch (error) {
        result = undeliverable(error);
      }
      host.feed({ type: 'sendOutcome', messageId: entry.messageId, result });
      await condition(() => host.state().outbox.find((e) => e.messageId === entry.messageId)?.status !== 'queued');
    }
  }
}
