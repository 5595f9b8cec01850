import { attributeKeyPattern } from '../workflows/conversation/core/limits';

/**
 * The rules of canned responses (SPEC 10, second bullet and its pinned details) that need no database:
 * how a response is found by `?q=`, which responses a user sees, and how its variables are filled.
 * Pure: the store (store/canned-responses.ts) and the use cases (api/canned-responses.ts) call these.
 */

/** Short codes: lower case, so `/Hello` and `/hello` can never be two responses the picker confuses; no `/` (part of the `_id`). */
export const shortCodePattern = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const maxTitleLength = 100;
/** Per account (scope `account`) and per user (their `personal` ones): the list is read whole, so it stays small. */
export const maxAccountResponses = 500;
export const maxPersonalResponses = 100;

export type CannedScope = 'account' | 'personal';

/**
 * Case and accent folding: "Ação" and "acao" compare equal. NFKD splits a letter from its accents (and
 * ligatures into letters); the combining marks are then dropped.
 */
export const fold = (text: string): string => text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** The words of a text, folded: runs of letters and digits. */
export const wordsOf = (text: string): string[] => fold(text).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);

/**
 * What `?q=` compares against, stored with each response because FerretDB has no text index:
 * the folded short code, and the title from each of its words on (`"Order status today"` gives
 * `"order status today"`, `"status today"`, `"today"`), so a query is a prefix of one of them exactly
 * when it is a prefix of a word of the title, or of several words in a row.
 */
export interface SearchKeys {
  code: string;
  title: string[];
}

export function searchKeysOf(response: { shortCode: string; title: string }): SearchKeys {
  const words = wordsOf(response.title);
  return { code: fold(response.shortCode), title: words.map((_, i) => words.slice(i).join(' ')) };
}

/**
 * `?q=`: a case- and accent-insensitive prefix of the short code, or of any word of the title (a query of
 * several words: of words in a row). An empty query matches everything. A leading `/` (what the inbox's
 * picker is opened with) is not part of the query.
 */
export function matchesSearch(keys: SearchKeys, q: string): boolean {
  const query = q.trim().replace(/^\//, '');
  if (query === '') return true;
  if (keys.code.startsWith(fold(query))) return true;
  const words = wordsOf(query).join(' ');
  return words !== '' && keys.title.some((key) => key.startsWith(words));
}

/**
 * What one user sees (pinned details): every account response and their own personal ones; a personal
 * code hides the account response of the same code, for that user only. Ordered by short code.
 */
export function visibleTo<R extends { shortCode: string; scope: CannedScope }>(responses: readonly R[]): R[] {
  const personal = new Set(responses.filter((r) => r.scope === 'personal').map((r) => r.shortCode));
  return responses.filter((r) => r.scope === 'personal' || !personal.has(r.shortCode)).sort((a, b) => (a.shortCode < b.shortCode ? -1 : a.shortCode > b.shortCode ? 1 : 0));
}

/** `{{ name }}`: the variables a text may hold; spaces inside the braces are allowed. */
const variablePattern = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The variables SPEC 10 fills: the customer's name, the replying agent's name, a contact attribute. */
export type Variable = { kind: 'customer.name' } | { kind: 'agent.name' } | { kind: 'attribute'; key: string };

export function parseVariable(name: string): Variable | undefined {
  if (name === 'customer.name') return { kind: 'customer.name' };
  if (name === 'agent.name') return { kind: 'agent.name' };
  const key = /^attributes\.(.+)$/.exec(name)?.[1];
  return key !== undefined && attributeKeyPattern.test(key) ? { kind: 'attribute', key } : undefined;
}

/** The names of the variables in a text, in order of first appearance, each once. */
export function variablesIn(text: string): string[] {
  return [...new Set([...text.matchAll(variablePattern)].map((m) => m[1]!))];
}

/** Variables a stored text may not hold (checked on PUT, so a typo is a 400 then, not at every reply). */
export const unknownVariables = (text: string): string[] => variablesIn(text).filter((name) => parseVariable(name) === undefined);

export interface FillValues {
  customerName: string | null;
  agentName: string | null;
  /** The contact's attributes, latest value per key. */
  attributes: Readonly<Record<string, string>>;
}

/** A variable's value, or undefined when it has none (an empty value is none: a reply would read "Hi ,"). */
function valueOf(variable: Variable, values: FillValues): string | undefined {
  let value: string | null | undefined;
  switch (variable.kind) {
    case 'customer.name':
      value = values.customerName;
      break;
    case 'agent.name':
      value = values.agentName;
      break;
    case 'attribute':
      value = Object.hasOwn(values.attributes, variable.key) ? values.attributes[variable.key] : undefined;
      break;
  }
  return value === null || value === undefined || value.trim() === '' ? undefined : value;
}

export type FillResult = { ok: true; text: string } | { ok: false; missing: string[] };

/**
 * Fills every variable in one pass: a value that itself looks like `{{...}}` (a customer named
 * "{{agent.name}}") is inserted as it is, never filled again. Every variable without a value is named,
 * in order, so one 400 says all of them. A name no rule knows counts as missing (stored texts were
 * checked on PUT, so only texts from before a rule changed can hold one).
 */
export function fillTemplate(text: string, values: FillValues): FillResult {
  const missing: string[] = [];
  const filled = text.replace(variablePattern, (whole, name: string) => {
    const variable = parseVariable(name);
    const value = variable && valueOf(variable, values);
    if (value === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    return value;
  });
  return missing.length > 0 ? { ok: false, missing } : { ok: true, text: filled };
}

/**
 * The contact's attributes from its customer messages, oldest first: the latest value each message gave
 * (SPEC 10 pinned details). Messages without attributes change nothing.
 */
export function latestAttributes(messages: readonly { attributes?: Record<string, string> | null }[]): Record<string, string> {
  // A Map, then fromEntries: a key like `__proto__` (attribute keys allow it) becomes an own property.
  const latest = new Map<string, string>();
  for (const m of messages) for (const [key, value] of Object.entries(m.attributes ?? {})) latest.set(key, value);
  return Object.fromEntries(latest);
}
