/**
 * Notes and mentions (SPEC 10): a user's internal entry on the timeline, `{ kind: "note", direction:
 * "internal", author, text, mentions }`. Any user of the account, in any status (closed included).
 *
 * A note is never sent and changes nothing but the timeline: not the status, the assignee, the unread
 * count, the window, the SLA clocks (conversation-sla.ts gives an internal message no SLA input), out of
 * office (it reads only customer messages and `Draft.send`), `waitingSince` (a note answers nobody) nor
 * the list's preview `lastMessage` (the list shows the last words exchanged with the customer; a note
 * there would read as if the customer had been told). What moves: `messageSeq` (the note's place),
 * `version` (so the view and the stream entry carrying it are written) and `updatedAt`.
 *
 * That is why the rule builds its decision itself instead of through `Draft`: `Draft.record` sets the
 * preview and `Draft.done` reconsiders routing, and a note must do neither.
 *
 * Who is mentioned is checked by the API (active users of the account, SPEC 10: else 400); here the
 * list is only made unique and bounded, so a note sent straight to Temporal cannot fan out without end.
 */
import type { Context } from './draft';
import { reject } from './draft';
import type { Decision, Effect, MessageRecord } from './model';
import { maxTextLength } from './limits';

/** How many users one note may mention: each gets a mention record and a stream event. */
export const maxMentions = 50;

/** The id of the note recorded at timeline position `seq`: like `out-{seq}`, unique within the conversation. */
export const noteMessageId = (seq: number): string => `note-${seq}`;

/** Each user once, in the order first named. */
export function uniqueMentions(mentions: readonly string[]): string[] {
  return [...new Set(mentions)];
}

export function onNote(ctx: Context, input: { text: string; mentions: string[] }): Decision {
  const { state, actor, now } = ctx;
  if (actor.kind !== 'user') return reject('forbidden', 'only users of the account write notes');
  if (input.text.trim() === '') return reject('validation_failed', 'text: a note needs some words');
  if (input.text.length > maxTextLength) return reject('validation_failed', `text: at most ${maxTextLength} characters, got ${input.text.length}`);
  const mentions = uniqueMentions(input.mentions);
  if (mentions.length > maxMentions) return reject('validation_failed', `mentions: at most ${maxMentions} users, got ${mentions.length}`);
  const seq = state.messageSeq + 1;
  const message: MessageRecord = {
    seq,
    messageId: noteMessageId(seq),
    direction: 'internal',
    kind: 'note',
    text: input.text,
    template: null,
    content: null,
    delivery: null,
    authorId: actor.userId,
    at: now,
    sentAt: null,
    episode: state.episode,
    replyTo: null,
    attributes: null,
    // The count as it stands (a note adds no customer message), so a read mark moved up to a note keeps
    // an exact unread count (docs/presence.md, "Read marks") instead of falling back to counting.
    inboundCount: state.inboundCount,
    mentions,
  };
  return {
    ok: true,
    state: { ...state, messageSeq: seq, version: state.version + 1, updatedAt: now },
    effects: [{ type: 'recordMessage', message }],
    changed: true,
  };
}

/** The message an action made, for its answer: the one it sent, or its note (recorded, never sent); null for neither. */
export function actionMessageId(effects: readonly Effect[]): string | null {
  for (const effect of effects) {
    if (effect.type === 'send') return effect.message.messageId;
    if (effect.type === 'recordMessage' && effect.message.direction === 'internal') return effect.message.messageId;
  }
  return null;
}
