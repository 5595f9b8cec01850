/**
 * Out of office (SPEC 9, policy `outOfOffice { text, cooldown }` with `businessHours`): a customer
 * message that arrives while the account is closed gets the policy's text from the system, through the
 * ordinary outbox (`Draft.send` with no author: a business message on the timeline, delivered like any
 * other). Pure; `onCustomerMessage` asks `sendOutOfOffice` after recording the message.
 *
 * Not sent: with no business hours (always open) or no text; while `in_flow` (the automation speaks);
 * when the message ended the episode (a survey's answer); within `cooldown` of the conversation's last
 * out-of-office reply; within 10 minutes of a user's message (someone is there); outside the 24-hour
 * window (a free-form text would be refused). Being a system message it answers nobody: it leaves the
 * unread count, `waitingSince` and every SLA and answer-within clock as they are.
 *
 * The gate: a state without `outOfOffice` (a run from before the `out-of-office` patch) never sends it;
 * the shell seeds it (`withOutOfOfficeState`).
 */
import { calendarOf } from './conversation-sla';
import { windowExpiresAt } from './deadlines';
import type { Context, Draft } from './draft';
import type { ConversationState } from './model';
import { isEnded } from './model';

/** No out-of-office reply within this long after a user's message. */
export const userRecentlyWroteMs = 10 * 60_000;

/** A state as the `out-of-office` patch starts it: nothing sent yet; a user's earlier message is not known. */
export function withOutOfOfficeState(state: ConversationState): ConversationState {
  return state.outOfOffice !== undefined ? state : { ...state, outOfOffice: { lastSentAt: null, lastUserMessageAt: null } };
}

/** The text to send now, after a customer message was recorded into `after` (the draft's state), or null. */
export function outOfOfficeText(ctx: Context, before: ConversationState, after: ConversationState): string | null {
  const { policy, now } = ctx;
  const ooo = after.outOfOffice;
  const reply = policy.outOfOffice;
  if (ooo === undefined || reply === null) return null;
  if (before.status === 'in_flow' || after.status === 'in_flow' || isEnded(after.status)) return null;
  const calendar = calendarOf(policy.businessHours);
  if (calendar === null || calendar.isOpen(now)) return null;
  if (ooo.lastSentAt !== null && now - ooo.lastSentAt < reply.cooldownMs) return null;
  if (ooo.lastUserMessageAt !== null && now - ooo.lastUserMessageAt < userRecentlyWroteMs) return null;
  const window = windowExpiresAt(after, policy);
  if (window === null || now >= window) return null;
  return reply.text;
}

/** Sends the out-of-office reply into the draft when it is due (see the header), and remembers when. */
export function sendOutOfOffice(draft: Draft, ctx: Context): void {
  const text = outOfOfficeText(ctx, ctx.state, draft.state);
  if (text === null) return;
  draft.send({ content: { kind: 'text', text }, replyTo: null }, null);
  draft.set({ outOfOffice: { ...draft.state.outOfOffice!, lastSentAt: ctx.now } });
}
