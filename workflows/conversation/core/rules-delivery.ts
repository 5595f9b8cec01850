/**
 * What becomes of the business's messages (SPEC section 7): the sender's outcome (sent with the
 * provider's id, or failed with its code) and the provider's receipts (delivered, read, failed). A
 * delivery only moves forwards — queued < sent < delivered < read, and failed from anything but read —
 * so late, repeated or reordered receipts change nothing.
 */
import type { Context } from './draft';
import { Draft, reject, unchanged } from './draft';
import type { Decision, Delivery, DeliveryError, DeliveryStatus, OutboxEntry, Receipt, SendOutcome } from './model';
import { earlyReceiptWindow } from './model';

const rank: Record<DeliveryStatus, number> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

/** Graph API: "more than 24 hours have passed since the customer last replied to this number". */
export const windowClosedErrorCode = 131047;

/** True when a delivery in `from` may move to `to`. */
export function movesForward(from: DeliveryStatus, to: DeliveryStatus): boolean {
  if (to === 'failed') return from !== 'read' && from !== 'failed';
  if (from === 'failed') return false;
  return rank[to] > rank[from];
}

export function onSendOutcome(ctx: Context, input: { messageId: string; result: SendOutcome }): Decision {
  const { state, actor } = ctx;
  if (actor.kind !== 'system') return reject('forbidden', 'only the sender reports send outcomes');
  const entry = state.outbox.find((e) => e.messageId === input.messageId);
  if (!entry || entry.status !== 'queued') return unchanged(state);
  const draft = new Draft(ctx);
  if (input.result.outcome === 'failed') {
    fail(draft, ctx, entry, input.result.error);
    return draft.done();
  }
  const providerMessageId = input.result.providerMessageId;
  let current: Delivery = { status: 'sent', providerMessageId, error: null, updatedAt: ctx.now };
  // Receipts that overtook the sender's answer apply now, in the order of their rank.
  const early = state.earlyReceipts.filter((r) => r.providerMessageId === providerMessageId).sort((a, b) => rank[a.status] - rank[b.status]);
  for (const receipt of early) {
    if (movesForward(current.status, receipt.status)) current = { ...current, status: receipt.status, error: receipt.error ?? null };
  }
  draft.set({ earlyReceipts: state.earlyReceipts.filter((r) => r.providerMessageId !== providerMessageId) });
  if (current.status === 'failed') {
    fail(draft, ctx, { ...entry, providerMessageId }, current.error ?? { code: 'failed', message: 'the provider reported a failure' });
  } else {
    draft.deliver(entry, current);
  }
  return draft.done();
}

export function onReceipt(ctx: Context, input: { receipt: Receipt }): Decision {
  const { state, actor } = ctx;
  if (actor.kind !== 'system' && actor.kind !== 'service') return reject('forbidden', 'only a channel reports delivery receipts');
  const receipt = input.receipt;
  const entry = state.outbox.find((e) => e.providerMessageId === receipt.providerMessageId);
  if (!entry) {
    // A send in flight may not have told us its id yet: keep the receipt until it does. Otherwise it is
    // for a message this conversation no longer tracks (or never sent), and changes nothing.
    if (!state.outbox.some((e) => e.status === 'queued')) return unchanged(state);
    if (state.earlyReceipts.some((r) => r.providerMessageId === receipt.providerMessageId && r.status === receipt.status)) return unchanged(state);
    const draft = new Draft(ctx);
    draft.set({ earlyReceipts: [...state.earlyReceipts, receipt].slice(-earlyReceiptWindow) });
    return draft.done();
  }
  if (!movesForward(entry.status, receipt.status)) return unchanged(state);
  const draft = new Draft(ctx);
  if (receipt.status === 'failed') {
    fail(draft, ctx, entry, receipt.error ?? { code: 'failed', message: 'the provider reported a failure' });
  } else {
    draft.deliver(entry, { status: receipt.status, providerMessageId: entry.providerMessageId, error: null, updatedAt: receipt.at ?? ctx.now });
  }
  return draft.done();
}

/**
 * A failed message is marked on the timeline and kept as an event operators find. When the provider
 * says the customer's window has closed, the conversation believes it: free-form replies are refused
 * until the customer writes again, whatever our own clock says.
 */
function fail(draft: Draft, ctx: Context, entry: OutboxEntry, error: DeliveryError): void {
  draft.deliver(entry, { status: 'failed', providerMessageId: entry.providerMessageId, error, updatedAt: ctx.now });
  draft.transition(ctx.state.status, 'delivery_failed', {}, { details: { messageId: entry.messageId, error } });
  if (Number(error.code) === windowClosedErrorCode && ctx.state.lastCustomerMessageAt !== null) {
    draft.set({ windowClosedAt: ctx.now });
  }
}
