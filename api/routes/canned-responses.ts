import { everyUser } from '../auth';
import { listCannedResponses, putCannedResponse, readCannedResponse, removeCannedResponse } from '../canned-responses';
import * as r from '../conversation-responses';
import { defineRoute } from '../route';
import * as s from '../schemas';

const base = '/v1/accounts/{accountId}/canned-responses';

/** SPEC 10: canned responses, the account's (supervisors manage them) and each user's personal ones. */
export const cannedResponseRoutes = [
  defineRoute({
    method: 'get',
    path: base,
    summary:
      "The caller's canned responses by short code: their personal ones and the account's (a personal code hides the account's of the same code, for its owner only); `q` filters by a case- and accent-insensitive prefix of the short code or of any word of the title",
    allow: everyUser,
    query: s.listCannedResponses,
    response: r.cannedResponseList,
    handler: async ({ deps, params, principal, query }) => listCannedResponses(deps, principal, params.accountId!, query),
  }),
  defineRoute({
    method: 'put',
    path: `${base}/{shortCode}`,
    summary:
      'Save a canned response, new or replacing the one of that code and scope. `scope: account` needs an owner, admin or manager; `personal` is the caller\'s own. Short codes: lower-case letters, digits, "_" or "-", up to 32; title up to 100 characters; text up to 4,096 with {{customer.name}}, {{agent.name}} and {{attributes.<key>}} (any other {{...}} 400); at most 500 account and 100 personal responses per user (400)',
    allow: everyUser,
    body: s.cannedResponse,
    response: r.cannedResponseView,
    handler: async ({ deps, params, principal, body }) => putCannedResponse(deps, principal, params, body),
  }),
  defineRoute({
    method: 'get',
    path: `${base}/{shortCode}`,
    summary: "One canned response: the caller's personal one of that code, else the account's (or the one of `scope`)",
    allow: everyUser,
    query: s.cannedResponseScope,
    response: r.cannedResponseView,
    handler: async ({ deps, params, principal, query }) => readCannedResponse(deps, principal, params, query.scope),
  }),
  defineRoute({
    method: 'delete',
    path: `${base}/{shortCode}`,
    summary: "Delete the canned response the caller sees by that code (their personal one first), or the one of `scope`; the account's need a supervisor. Answers 200",
    allow: everyUser,
    query: s.cannedResponseScope,
    response: r.cannedResponseDeleted,
    handler: async ({ deps, params, principal, query }) => removeCannedResponse(deps, principal, params, query.scope),
  }),
];
