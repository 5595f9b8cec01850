import { userDocId } from '../store/collections';
import type { CannedResponseDoc } from '../store/canned-responses';
import { cannedResponseId, cannedResponsesFor, cannedResponsesOf, deleteCannedResponse, findCannedResponse, saveCannedResponse } from '../store/canned-responses';
import { findView } from '../store/conversation-views';
import { maxTextLength } from '../workflows/conversation/core/limits';
import type { Principal } from './auth';
import { isSupervisorPrincipal } from './auth';
import type { CannedScope } from './canned-text';
import { contactForReply } from './contacts';
import { fillTemplate, matchesSearch, maxAccountResponses, maxPersonalResponses, searchKeysOf, shortCodePattern, unknownVariables, variablesIn, visibleTo } from './canned-text';
import { conversationOf } from './conversation-actions';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';

/**
 * Use cases of canned responses (SPEC 10; api/DESIGN.md): the routes in api/routes/canned-responses.ts
 * parse, call one of these and answer its result; the reply route calls `cannedReplyText`. The rules
 * themselves (search, hiding, filling) are pure, in api/canned-text.ts.
 */

type User = Extract<Principal, { kind: 'user' }>;

/** Canned responses are people's: only user keys and sessions reach them (the routes admit users only). */
function userOf(principal: Principal): User {
  if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'canned responses belong to users: call with a user key' });
  return principal;
}

/** The path's short code, checked here so a bad one is a 400 naming `shortCode` (the path is not the body). */
export function shortCodeOf(params: Record<string, string>): string {
  const shortCode = params.shortCode ?? '';
  if (!shortCodePattern.test(shortCode)) {
    throw new ApiError({ code: 'validation_failed', message: 'shortCode: lower-case letters, digits, "_" or "-", 1 to 32, starting with a letter or digit' });
  }
  return shortCode;
}

const ownerOf = (user: User, scope: CannedScope) => (scope === 'account' ? ({ scope: 'account' } as const) : ({ scope: 'personal', userId: user.userId } as const));

/** Supervisors manage the account's responses; every user manages their own personal ones. */
function assertMayManage(user: User, scope: CannedScope): void {
  if (scope === 'account' && !isSupervisorPrincipal(user)) {
    throw new ApiError({ code: 'forbidden', message: "only owners, admins and managers manage the account's canned responses; save it with scope personal" });
  }
}

/** A response as the API shows it: never whose personal response it is beyond the caller (they see only their own). */
export const cannedResponseView = (doc: CannedResponseDoc) => ({
  shortCode: doc.shortCode,
  scope: doc.scope,
  title: doc.title,
  text: doc.text,
  variables: variablesIn(doc.text),
  createdAt: doc.createdAt.toISOString(),
  updatedAt: doc.updatedAt.toISOString(),
  updatedBy: doc.updatedBy,
});

export async function putCannedResponse(
  deps: ApiDeps,
  principal: Principal,
  params: Record<string, string>,
  body: { title: string; text: string; scope: CannedScope },
) {
  const user = userOf(principal);
  const shortCode = shortCodeOf(params);
  assertMayManage(user, body.scope);
  const unknown = unknownVariables(body.text);
  if (unknown.length > 0) {
    throw new ApiError({
      code: 'validation_failed',
      message: `text: unknown variable ${unknown.map((v) => `{{${v}}}`).join(', ')}; use {{customer.name}}, {{agent.name}} or {{attributes.<key>}}`,
    });
  }
  const accountId = params.accountId!;
  const owner = ownerOf(user, body.scope);
  const now = new Date();
  const cap = body.scope === 'account' ? maxAccountResponses : maxPersonalResponses;
  const saved = await saveCannedResponse(
    deps.collections,
    {
      _id: cannedResponseId(accountId, owner, shortCode),
      accountId,
      scope: body.scope,
      ownerId: body.scope === 'personal' ? user.userId : null,
      shortCode,
      title: body.title,
      text: body.text,
      search: searchKeysOf({ shortCode, title: body.title }),
      updatedAt: now,
      updatedBy: user.userId,
    },
    now,
    cap,
  );
  if (saved.outcome === 'over_cap') {
    const whose = body.scope === 'account' ? 'the account has' : 'you have';
    throw new ApiError({ code: 'validation_failed', message: `shortCode: ${whose} ${cap} ${body.scope} canned responses, the most allowed; delete one first` });
  }
  return cannedResponseView(saved.doc);
}

/**
 * The caller's list: with no `scope`, what they see (their personal ones, and the account's not hidden
 * by one of theirs); with `scope`, that owner's only (a supervisor managing account responses sees those
 * their own personal ones hide). Filtered by `?q=`, ordered by short code.
 */
export async function listCannedResponses(deps: ApiDeps, principal: Principal, accountId: string, query: { q?: string | undefined; scope?: CannedScope | undefined }) {
  const user = userOf(principal);
  const docs = query.scope === undefined ? visibleTo(await cannedResponsesFor(deps.collections, accountId, user.userId)) : visibleTo(await cannedResponsesOf(deps.collections, accountId, ownerOf(user, query.scope)));
  const items = docs.filter((doc) => matchesSearch(doc.search, query.q ?? '')).map(cannedResponseView);
  return { items, nextCursor: null };
}

/** The response the caller means by a short code: theirs first, then the account's; or the one of `scope`. */
async function resolve(deps: ApiDeps, user: User, accountId: string, shortCode: string, scope: CannedScope | undefined): Promise<CannedResponseDoc | null> {
  if (scope !== undefined) return findCannedResponse(deps.collections, accountId, ownerOf(user, scope), shortCode);
  return (await findCannedResponse(deps.collections, accountId, ownerOf(user, 'personal'), shortCode)) ?? findCannedResponse(deps.collections, accountId, ownerOf(user, 'account'), shortCode);
}

export async function readCannedResponse(deps: ApiDeps, principal: Principal, params: Record<string, string>, scope: CannedScope | undefined) {
  const doc = await resolve(deps, userOf(principal), params.accountId!, shortCodeOf(params), scope);
  if (!doc) throw notFound('canned response');
  return cannedResponseView(doc);
}

/** Deletes what the caller sees under the code (their personal one first), or the one of `scope`; answers 200 with what was deleted. */
export async function removeCannedResponse(deps: ApiDeps, principal: Principal, params: Record<string, string>, scope: CannedScope | undefined) {
  const user = userOf(principal);
  const shortCode = shortCodeOf(params);
  const doc = await resolve(deps, user, params.accountId!, shortCode, scope);
  if (!doc) throw notFound('canned response');
  assertMayManage(user, doc.scope);
  // A racing delete may have got there first: still a 404 for this one, as if it had come second.
  if (!(await deleteCannedResponse(deps.collections, params.accountId!, ownerOf(user, doc.scope), shortCode))) throw notFound('canned response');
  return { deleted: { shortCode, scope: doc.scope } };
}

/**
 * A reply's `{ cannedResponse }` as the text it sends (SPEC 10): the caller's response by that code
 * (personal first, then the account's), its variables filled from the conversation's customer name, the
 * replying user's name and the contact's attributes (its SPEC 11 profile, api/contacts.ts). A code the
 * caller has no response for, a variable without a value, or a filled text over the text limit: 400
 * naming `cannedResponse` (it is a field of the body that names something missing, like an unknown
 * `assigneeId`; a 404 would read as "no such conversation").
 */
export async function cannedReplyText(deps: ApiDeps, principal: Principal, params: Record<string, string>, shortCode: string): Promise<string> {
  const user = userOf(principal);
  const accountId = params.accountId!;
  const conversationId = conversationOf(params);
  const doc = await resolve(deps, user, accountId, shortCode, undefined);
  if (!doc) throw new ApiError({ code: 'validation_failed', message: `cannedResponse: you have no canned response "${shortCode}"` });
  const variables = variablesIn(doc.text);
  // Read only what the text uses: most responses have no variable at all.
  const needs = (prefix: string) => variables.some((v) => v.startsWith(prefix));
  const [view, contact, agent] = await Promise.all([
    needs('customer.') ? findView(deps.collections, conversationId) : null,
    needs('customer.') || needs('attributes.') ? contactForReply(deps, conversationId, { attributes: needs('attributes.') }) : null,
    needs('agent.') ? deps.collections.users.findOne({ _id: userDocId(accountId, user.userId) }) : null,
  ]);
  if (needs('customer.') && !view) throw notFound('conversation');
  const filled = fillTemplate(doc.text, { customerName: contact?.name ?? view?.customerName ?? null, agentName: agent?.name ?? null, attributes: contact?.attributes ?? {} });
  if (!filled.ok) {
    throw new ApiError({
      code: 'validation_failed',
      message: `cannedResponse: ${filled.missing.map((v) => `{{${v}}}`).join(', ')} ${filled.missing.length === 1 ? 'has' : 'have'} no value in this conversation`,
      details: filled.missing.map((variable) => ({ path: 'cannedResponse', message: `${variable}: no value`, variable })),
    });
  }
  if (filled.text.length > maxTextLength) {
    throw new ApiError({ code: 'validation_failed', message: `cannedResponse: filled in, its text has ${filled.text.length} characters, more than ${maxTextLength}` });
  }
  return filled.text;
}
