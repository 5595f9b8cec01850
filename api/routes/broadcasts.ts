import { sendBroadcast, broadcastProgress } from '../broadcasts';
import { supervisors } from '../auth';
import { actorOf } from '../conversation-actions';
import { Answer, defineRoute } from '../route';
import { checkTemplate } from '../templates';
import * as s from '../schemas';

const base = '/v1/accounts/{accountId}/broadcasts';

export const broadcastRoutes = [
  defineRoute({
    method: 'post',
    path: base,
    summary:
      'Send a template to many conversations (by id, or every one with a status; up to 10,000); only closed ones unless priority (seed 002). ' +
      'Answers 200 with sent and skipped (with reasons) when done, or 202 while it runs; the same broadcastId again sends nothing more',
    allow: ['service', ...supervisors],
    body: s.broadcast,
    handler: async (ctx) => {
      await checkTemplate(ctx.deps, ctx.params.accountId!, ctx.body.template, 'template.');
      const view = await sendBroadcast(ctx.deps, ctx.params.accountId!, actorOf(ctx.principal), ctx.body);
      return new Answer(view.status === 'done' ? 200 : 202, view);
    },
  }),
  defineRoute({
    method: 'get',
    path: `${base}/{broadcastId}`,
    summary: "A broadcast's progress and each conversation's outcome so far: sent (with the message id) or skipped (with the reason)",
    allow: ['service', ...supervisors],
    handler: async ({ deps, params }) => broadcastProgress(deps, params.accountId!, params.broadcastId!),
  }),
];
