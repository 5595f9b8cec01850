/**
 * @mentions in a note (SPEC 10), pure so the unit tests reach them: what is being typed after an `@`,
 * which users it may name, how a choice goes into the text, and which users the text mentions when it is
 * sent. A mention is written `@{userId}` (user ids have no spaces: letters, digits, "_", "." and "-"),
 * so what the note says and whom it notifies are the same thing: deleting the `@name` unmentions them.
 */

export interface Mentionable {
  id: string;
  name: string;
  active: boolean;
}

/** How many suggestions the list shows at once. */
export const maxSuggestions = 8;

/** The characters a user id may hold (api/schemas.ts `id`). */
const idChar = /[A-Za-z0-9_.-]/;

/**
 * The `@query` the caret is in, if any: its start (the `@`) and the text typed after it. An `@` counts
 * only at the start or after whitespace, so an e-mail address is not a mention.
 */
export function mentionQueryAt(text: string, caret: number): { start: number; query: string } | null {
  let i = caret;
  while (i > 0 && idChar.test(text[i - 1]!)) i -= 1;
  if (i === 0 || text[i - 1] !== '@') return null;
  const start = i - 1;
  if (start > 0 && !/\s/.test(text[start - 1]!)) return null;
  return { start, query: text.slice(i, caret) };
}

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * Active users the query may name: those whose id, or a word of whose name, starts with it (case and
 * accent insensitive), ids first, then by name; at most `maxSuggestions`.
 */
export function mentionCandidates<U extends Mentionable>(users: readonly U[], query: string): U[] {
  const q = fold(query);
  const rank = (u: U): number => {
    if (fold(u.id).startsWith(q)) return 0;
    if (fold(u.name).split(/\s+/).some((w) => w.startsWith(q))) return 1;
    return -1;
  };
  return users
    .filter((u) => u.active && rank(u) >= 0)
    .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
    .slice(0, maxSuggestions);
}

/** The text with the `@query` at `start` replaced by `@{userId} `, and where the caret goes after it. */
export function insertMention(text: string, at: { start: number; query: string }, userId: string): { text: string; caret: number } {
  const before = text.slice(0, at.start);
  const after = text.slice(at.start + 1 + at.query.length).replace(/^\s*/, '');
  const inserted = `@${userId} `;
  return { text: before + inserted + after, caret: before.length + inserted.length };
}

/** The active users the text mentions (`@{userId}` standing alone), each once, in order of first mention. */
export function mentionsIn(text: string, users: readonly Mentionable[]): string[] {
  const active = new Set(users.filter((u) => u.active).map((u) => u.id));
  const found: string[] = [];
  for (const match of text.matchAll(/(^|\s)@([A-Za-z0-9][A-Za-z0-9_.-]*)/g)) {
    // A trailing "." ends a sentence ("ask @ana."), unless the id itself ends so.
    let id = match[2]!;
    while (!active.has(id) && /[.-]$/.test(id)) id = id.slice(0, -1);
    if (active.has(id) && !found.includes(id)) found.push(id);
  }
  return found;
}
