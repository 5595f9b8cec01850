/**
 * Reading a WhatsApp Business Account's message templates from the Graph API (SPEC section 10,
 * "Templates"): `GET /{apiVersion}/{wabaId}/message_templates`, page after page, through the one
 * outbound client (channels/outbound-http.ts) with the channel's token in the authorization header and
 * nowhere else.
 *
 * Pages are followed by their `after` cursor on a URL we build, never by Graph's `paging.next` URL: a
 * server that named another host there would otherwise get the token. The count is bounded
 * (`maxTemplates`); what Graph lists beyond it is not read, and the listing says it is incomplete.
 */
import type { TemplateDefinition, TemplateDefinitionButton, TemplateDefinitionComponent } from '../../workflows/conversation/core/templates';
import type { OutboundAnswer } from '../outbound-http';
import { postOutbound } from '../outbound-http';
import type { WhatsAppChannelConfig } from '../types';

/** Meta lets a business account hold up to 6,000 templates (each language counted): a sync reads no more. */
export const maxTemplates = 6000;
/** Templates asked per page; a page of them fits well within `pageBytes`. */
const pageSize = 100;
/** The most of one page's answer read: a template is at most a few KiB, 100 of them well under 2 MiB. */
const pageBytes = 2 * 1024 * 1024;
const defaultTimeoutMs = 10_000;
/** Pages read at most, whatever Graph says: a listing that keeps naming a next page ends here, incomplete. */
const maxPages = 1000;
/** The longest text kept from a definition (Meta allows 1,024 in a body, 60 in a header). */
const maxTextLength = 4096;

/** Why a listing could not be read. The message is ours: HTTP status and Graph's integer code, never Graph's text. */
export class TemplateListingError extends Error {
  override name = 'TemplateListingError';
  readonly reason: 'refused' | 'unreachable' | 'malformed';
  /** Graph's HTTP status, when it answered. */
  readonly status: number | undefined;
  constructor(options: { reason: TemplateListingError['reason']; message: string; status?: number }) {
    super(options.message);
    this.reason = options.reason;
    this.status = options.status;
  }

  /** Graph refused the request itself (a wrong wabaId, an expired token): trying again will not help. */
  get refusedForGood(): boolean {
    return this.reason === 'refused' && this.status !== undefined && this.status >= 400 && this.status < 500 && this.status !== 429;
  }
}

export interface TemplateListing {
  templates: TemplateDefinition[];
  /** False when Graph had more than `limit` templates (the rest was not read). */
  complete: boolean;
  /** Templates Graph listed that could not be read (no name, no language...): left out. */
  skipped: number;
}

/**
 * Every template of the business account, read page by page. Throws TemplateListingError when a page
 * cannot be had (Graph refuses, is unreachable, or answers something that is not a listing).
 */
export async function listWhatsAppTemplates(
  config: Pick<WhatsAppChannelConfig, 'accessToken' | 'apiVersion'>,
  wabaId: string,
  options: { graphUrl: string; timeoutMs?: number; limit?: number; get?: typeof postOutbound },
): Promise<TemplateListing> {
  const limit = options.limit ?? maxTemplates;
  const get = options.get ?? postOutbound;
  const base = `${options.graphUrl.replace(/\/+$/, '')}/${encodeURIComponent(config.apiVersion)}/${encodeURIComponent(wabaId)}/message_templates`;
  const templates: TemplateDefinition[] = [];
  let skipped = 0;
  let after: string | undefined;
  for (let pages = 1; ; pages += 1) {
    const query = new URLSearchParams({ fields: 'name,language,category,status,components', limit: String(pageSize) });
    if (after !== undefined) query.set('after', after);
    const page = await readPage(get, `${base}?${query.toString()}`, config.accessToken, options.timeoutMs ?? defaultTimeoutMs);
    for (const raw of page.data) {
      const template = definitionOf(raw);
      if (!template) skipped += 1;
      else if (templates.length < limit) templates.push(template);
      else return { templates, complete: false, skipped };
    }
    if (page.after === undefined) return { templates, complete: true, skipped };
    // A next page named after an empty one, or past the most pages read: not believed, and nothing removed.
    if (page.data.length === 0 || pages >= maxPages) return { templates, complete: false, skipped };
    after = page.after;
  }
}

async function readPage(get: typeof postOutbound, url: string, accessToken: string, timeoutMs: number): Promise<{ data: unknown[]; after?: string }> {
  let answer: OutboundAnswer;
  try {
    answer = await get({ method: 'GET', url, headers: { authorization: `Bearer ${accessToken}` }, body: Buffer.alloc(0), timeoutMs, allowPrivate: true, maxBytes: pageBytes });
  } catch (error) {
    throw new TemplateListingError({ reason: 'unreachable', message: `the Graph API could not be reached (${(error as Error).message})` });
  }
  const body = parseJson(answer.body.toString('utf8'));
  if (answer.status < 200 || answer.status >= 300) {
    const code = isRecord(body) && isRecord(body.error) && Number.isInteger(body.error.code) ? `, Graph error ${String(body.error.code)}` : '';
    throw new TemplateListingError({ reason: 'refused', status: answer.status, message: `the Graph API answered HTTP ${answer.status}${code}` });
  }
  if (answer.truncated || !isRecord(body) || !Array.isArray(body.data)) throw new TemplateListingError({ reason: 'malformed', message: 'the Graph API answered something that is not a template listing' });
  const paging = isRecord(body.paging) ? body.paging : {};
  const cursor = isRecord(paging.cursors) ? paging.cursors.after : undefined;
  // Graph names a next page only when there is one; its cursor is what we follow.
  const more = typeof paging.next === 'string' && typeof cursor === 'string' && cursor !== '';
  return more ? { data: body.data, after: cursor } : { data: body.data };
}

const namePattern = /^[a-z0-9_]{1,512}$/;
const languagePattern = /^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$/;

/** A listed template as the registry keeps it, or undefined when it lacks what a send is checked against. */
export function definitionOf(raw: unknown): TemplateDefinition | undefined {
  if (!isRecord(raw)) return undefined;
  const { name, language, status, category } = raw;
  if (typeof name !== 'string' || !namePattern.test(name) || typeof language !== 'string' || !languagePattern.test(language)) return undefined;
  if (typeof status !== 'string' || status === '' || status.length > 64) return undefined;
  const components = Array.isArray(raw.components) ? raw.components.filter(isRecord).slice(0, 10).flatMap(componentOf) : [];
  return { name, language, category: typeof category === 'string' ? category.slice(0, 64) : '', status: status.toUpperCase(), components };
}

function componentOf(raw: Record<string, unknown>): TemplateDefinitionComponent[] {
  const type = shortString(raw.type, 32);
  if (!type) return [];
  const component: TemplateDefinitionComponent = { type: type.toUpperCase() };
  const format = shortString(raw.format, 32);
  if (format) component.format = format.toUpperCase();
  const text = shortString(raw.text, maxTextLength);
  if (text) component.text = text;
  if (Array.isArray(raw.buttons)) component.buttons = raw.buttons.filter(isRecord).slice(0, 10).flatMap(buttonOf);
  return [component];
}

function buttonOf(raw: Record<string, unknown>): TemplateDefinitionButton[] {
  const type = shortString(raw.type, 32);
  if (!type) return [];
  const button: TemplateDefinitionButton = { type: type.toUpperCase() };
  for (const field of ['text', 'url', 'phone_number'] as const) {
    const value = shortString(raw[field], 2048);
    if (value) button[field] = value;
  }
  return [button];
}

function shortString(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, max) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
