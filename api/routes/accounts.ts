import type { AccountDoc } from '../../store/collections';
import { policyToDocument } from '../../workflows/conversation/core/policy';
import { changePolicy, createAccount, createServiceKey, loadAccount } from '../accounts';
import { everyUser } from '../auth';
import { defineRoute } from '../route';
import * as s from '../schemas';

const accountView = (a: AccountDoc) => ({ id: a._id, name: a.name, policy: policyToDocument(a.policy), createdAt: a.createdAt });

export const accountRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts',
    summary: 'Create an account (platform key)',
    allow: ['platform'],
    body: s.createAccount,
    response: s.accountResponse,
    status: 201,
    handler: async ({ deps, body }) => accountView(await createAccount(deps, body)),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}',
    summary: 'Read an account and its policy',
    response: s.accountResponse,
    allow: ['platform', ...everyUser],
    handler: async ({ deps, params }) => accountView(await loadAccount(deps, params.accountId!)),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/accounts/{accountId}/policy',
    summary: "Change the account's lifecycle policy; conversations that are not closed follow in the background within 60 s, closed ones at their next input",
    allow: ['platform', 'owner', 'admin'],
    body: s.policyPatch,
    response: s.policyChangedResponse,
    handler: async ({ deps, params, body }) => {
      const { policy, propagation } = await changePolicy(deps, params.accountId!, body);
      return { policy: policyToDocument(policy), propagation };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/service-keys',
    summary: 'Create a service key for a backend system; shown only this once',
    allow: ['platform', 'owner', 'admin'],
    body: s.createServiceKey,
    response: s.createdServiceKeyResponse,
    status: 201,
    answersSecret: true,
    handler: async ({ deps, params, body }) => createServiceKey(deps, params.accountId!, body.name),
  }),
];
