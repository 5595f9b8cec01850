import { z } from 'zod';
import { everyUser } from '../auth';
import { syncTemplates, templateList } from '../templates';
import { defineRoute } from '../route';

/** SPEC section 10, "Templates": the account's WhatsApp message templates, read from the Graph API. */

const base = '/v1/accounts/{accountId}/templates';

const templateComponentView = z.object({
  type: z.string(),
  format: z.string().optional(),
  text: z.string().optional(),
  buttons: z.array(z.object({ type: z.string(), text: z.string().optional(), url: z.string().optional(), phone_number: z.string().optional() })).optional(),
});
const templateView = z.object({ name: z.string(), language: z.string(), category: z.string(), status: z.string(), components: z.array(templateComponentView) });

export const templateRoutes = [
  defineRoute({
    method: 'post',
    path: `${base}/sync`,
    summary:
      "Read the account's message templates from the Graph API (every WhatsApp channel's wabaId, with its token; at most 6,000) and store them; templates no longer listed are removed. " +
      '409 conflict when no channel has a wabaId, or when Graph refuses the listing (a wrong wabaId or token: 4xx but 429); 503 unavailable when Graph cannot be reached, fails (5xx) or throttles (429). Nothing is removed then',
    allow: ['platform', 'owner', 'admin'],
    response: z.object({ synced: z.number().int(), removed: z.number().int(), complete: z.boolean(), skipped: z.number().int() }),
    handler: async ({ deps, params }) => syncTemplates(deps, params.accountId!),
  }),
  defineRoute({
    method: 'get',
    path: base,
    summary:
      "The account's templates as last synced, status kept current by Meta's message_template_status_update webhook; `status=APPROVED` lists those that send. " +
      'Sending one the registry knows that is not APPROVED answers 409 template_unavailable; with the wrong parameters, 400 naming the field',
    // Any user picks templates; services send them too (campaign messages, broadcasts).
    allow: [...everyUser, 'service'],
    query: z.strictObject({ status: z.string().regex(/^[A-Z_]{1,64}$/, 'a status like APPROVED').optional() }),
    response: z.object({ items: z.array(templateView) }),
    handler: async ({ deps, params, query }) => templateList(deps, params.accountId!, query.status),
  }),
];
