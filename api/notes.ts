import { userDocId } from '../store/collections';
import type { MentionDoc } from '../store/mentions';
import { mentionsPage } from '../store/mentions';
import { uniqueMentions } from '../workflows/conversation/core/rules-notes';
import { iso } from '../workflows/conversation/core/view';
import { noteUpdate } from '../workflows/conversation/messages';
import type { Principal } from './auth';
import type { ActionCaller } from './conversation-actions';
import { act, actorOf } from './conversation-actions';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';

/**
 * Notes and mentions (SPEC 10; workflows/conversation/core/rules-notes.ts holds the rule). A note is a
 * Workflow Update like any action; who it mentions is checked here, where the users are, before the
 * conversation is asked, so a refused note leaves nothing behind.
 */

/** Every mentioned user must be an active user of the account: else 400 naming the first bad `mentions[i]`. */
async function requireActiveMentions(deps: ApiDeps, accountId: string, mentions: readonly string[]): Promise<void> {
  const unique = uniqueMentions(mentions);
  // Point reads by `_id` (the one filter FerretDB serves from its index), at most `maxMentions`.
  const users = await Promise.all(unique.map((userId) => deps.collections.users.findOne({ _id: userDocId(accountId, userId) }, { projection: { active: 1 } })));
  const bad = unique.find((_, i) => !users[i]?.active);
  if (bad === undefined) return;
  const index = mentions.indexOf(bad);
  throw new ApiError({
    code: 'validation_failed',
    message: `mentions[${index}]: ${bad} is not an active user of the account`,
    details: [{ path: `mentions.${index}`, message: 'not an active user of the account' }],
  });
}

/** `POST .../notes`: the note's message id and the conversation (unchanged but for its version). */
export async function addNote(caller: ActionCaller, body: { text: string; mentions?: string[] | undefined }) {
  const mentions = body.mentions ?? [];
  await requireActiveMentions(caller.deps, caller.params.accountId!, mentions);
  return act(caller, 'note', noteUpdate, { actor: actorOf(caller.principal), text: body.text, mentions: uniqueMentions(mentions) });
}

/** The `mention` stream event and the `/mentions` item share these fields; the list adds `at`. */
export const mentionView = (m: MentionDoc) => ({ conversationId: m.conversationId, messageId: m.messageId, by: m.by, at: iso(m.at)!, text: m.text });

/** A mentions cursor: the last item's `_id`, which must be one of the caller's (else 400). */
const encodeCursor = (id: string) => Buffer.from(JSON.stringify({ i: id })).toString('base64url');
function decodeCursor(text: string, prefix: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as { i?: unknown };
    if (typeof parsed.i === 'string' && parsed.i.startsWith(prefix)) return parsed.i;
  } catch {
    // fall through
  }
  throw new ApiError({ code: 'validation_failed', message: 'cursor: not a cursor this API returned for you' });
}

/** `GET .../mentions`: the caller's mentions, newest first, `{ items, nextCursor }`. */
export async function listMentions(deps: ApiDeps, principal: Principal, accountId: string, query: { limit: number; cursor?: string | undefined }) {
  if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'mentions are a user’s own' });
  const prefix = `${accountId}/${principal.userId}/`;
  const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, prefix);
  const docs = await mentionsPage(deps.collections.mentions, accountId, principal.userId, before, query.limit);
  const page = docs.slice(0, query.limit);
  const last = page.at(-1);
  return { items: page.map(mentionView), nextCursor: docs.length > query.limit && last ? encodeCursor(last._id) : null };
}
