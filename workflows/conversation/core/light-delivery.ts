/**
 * A delivery change that moves nothing the view shows is decided without a new version (issue 28).
 *
 * Most send outcomes and receipts (sent, delivered, read) change only the outbox and the early receipts,
 * which no view, stream `conversation` event or Temporal UI field shows: the view has no delivery status
 * (core/view.ts). Bumping the version for them made every reply cost a second whole persist (view read and
 * write, episode row, search postings, contact) for a change only the message's `delivery` shows. A
 * decision like that keeps the version and `updatedAt` of the state it was decided from; its effects
 * (the `recordDelivery`s) are written by a light batch: the deliveries and a stream entry, no view.
 *
 * Anything else a delivery decision does keeps its version: a failure (an event, 131047 closing the
 * window), an SLA or answer clock that moved, any effect that is not a `recordDelivery`.
 */
import type { ConversationState, Decision } from './model';

type Accepted = Extract<Decision, { ok: true }>;

/** The state without the fields a light decision may change (what only deliveries read). */
const withoutDeliveryFields = ({ outbox: _outbox, earlyReceipts: _early, version: _version, updatedAt: _updatedAt, ...rest }: ConversationState) => rest;

/**
 * Whether `decision`, decided from `before`, changes only delivery bookkeeping, with `recordDelivery`
 * effects alone (or none: a receipt that overtook its send's outcome is only held in state until it).
 */
export function isDeliveryOnly(before: ConversationState, decision: Accepted): boolean {
  if (!decision.changed) return false;
  if (!decision.effects.every((effect) => effect.type === 'recordDelivery')) return false;
  return sameValue(withoutDeliveryFields(before), withoutDeliveryFields(decision.state));
}

/** `decision` without a new version when it is delivery-only (see above); otherwise as it is. */
export function lightened(before: ConversationState, decision: Accepted): Accepted {
  if (!isDeliveryOnly(before, decision)) return decision;
  return { ...decision, state: { ...decision.state, version: before.version, updatedAt: before.updatedAt } };
}

/** Structural equality of plain data (the state is JSON: it travels in history). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => sameValue(item, other[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const key of keys) if (!sameValue(x[key], y[key])) return false;
  return true;
}
