import { TemplateListingError, listWhatsAppTemplates, maxTemplates } from '../channels/whatsapp/templates';
import type { TemplateStatusItem } from '../channels/types';
import { mapLimit } from '../infra/map-limit';
import { whatsappChannels } from '../store/channels';
import type { TemplateDoc } from '../store/templates';
import { deleteTemplatesSyncedBefore, findTemplate, listTemplates, saveTemplate, setTemplateStatus, templateDocId } from '../store/templates';
import type { TemplateRef } from '../workflows/conversation/core/outbound';
import type { TemplateDefinition } from '../workflows/conversation/core/templates';
import { checkTemplateSend, statusAfterEvent } from '../workflows/conversation/core/templates';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';

/**
 * The template registry's use cases (SPEC section 10, "Templates"; api/DESIGN.md): sync from the Graph
 * API, list, keep `status` current from Meta's webhook, and check a send before anything reaches a
 * conversation. The rules are the pure core's (workflows/conversation/core/templates.ts).
 */

/** A template as `GET .../templates` shows it. */
export function templateView(doc: TemplateDoc): TemplateDefinition {
  return { name: doc.name, language: doc.language, category: doc.category, status: doc.status, components: doc.components };
}

/** Templates written to the store at once by a sync. */
const writeFanOut = 8;

export interface SyncResult {
  /** Templates read and stored. */
  synced: number;
  /** Templates the registry held that Graph no longer lists (deleted at Meta): removed. */
  removed: number;
  /** False when Graph had more than the most a sync reads (6,000): nothing was removed then. */
  complete: boolean;
  /** Templates Graph listed that could not be read (no name or language): left out. */
  skipped: number;
}

/**
 * `POST .../templates/sync`: every business account named by one of the account's WhatsApp channels
 * (`wabaId`), read with that channel's token, each template stored whole. A template stored before this
 * sync began and not written by it is gone at Meta, and removed, unless a listing was incomplete.
 * Syncs racing each other keep each other's writes: each removes only what was written before it began.
 */
export async function syncTemplates(deps: ApiDeps, accountId: string): Promise<SyncResult> {
  const startedAt = new Date();
  const channels = (await whatsappChannels(deps.collections, accountId)).filter((c) => c.config.wabaId !== undefined);
  if (channels.length === 0) {
    throw new ApiError({ code: 'conflict', message: 'no WhatsApp channel of the account has a wabaId: set one with PUT .../channels/{channel} first' });
  }
  // One read per business account, with the token of its first channel (channels of one account share it).
  const byWaba = new Map<string, (typeof channels)[number]['config']>();
  for (const c of channels) if (!byWaba.has(c.config.wabaId!)) byWaba.set(c.config.wabaId!, c.config);
  const found: { wabaId: string; template: TemplateDefinition }[] = [];
  let complete = true;
  let skipped = 0;
  for (const [wabaId, config] of byWaba) {
    const room = maxTemplates - found.length;
    let listing;
    try {
      listing = await listWhatsAppTemplates(config, wabaId, { graphUrl: deps.whatsappGraphUrl, limit: room });
    } catch (error) {
      if (!(error instanceof TemplateListingError)) throw error;
      // Nothing is removed: the registry stays as it was, plus whatever an earlier account's listing wrote.
      deps.log.warn({ accountId, wabaId, reason: error.reason, problem: error.message }, 'template sync failed');
      if (error.refusedForGood) {
        throw new ApiError({ code: 'conflict', message: `templates of business account ${wabaId} could not be read: ${error.message}; check the channel's wabaId and access token` });
      }
      throw new ApiError({ code: 'unavailable', message: `templates of business account ${wabaId} could not be read: ${error.message}; try again` });
    }
    found.push(...listing.templates.map((template) => ({ wabaId, template })));
    complete &&= listing.complete;
    skipped += listing.skipped;
  }
  await mapLimit(found, writeFanOut, async ({ wabaId, template }) => {
    // Stamped when written, not when the sync began: a sync that began later removes only what was written before it began.
    const now = new Date();
    const doc: TemplateDoc = { _id: templateDocId(accountId, template.name, template.language), accountId, wabaId, ...template, syncedAt: now, statusAt: now };
    await saveTemplate(deps.collections, doc);
  });
  const removed = complete ? await deleteTemplatesSyncedBefore(deps.collections, accountId, startedAt) : 0;
  deps.log.info({ accountId, synced: found.length, removed, complete, skipped }, 'templates synced');
  return { synced: found.length, removed, complete, skipped };
}

/** `GET .../templates`: the registry, by name then language; `status` narrows it (the inbox asks for APPROVED). */
export async function templateList(deps: ApiDeps, accountId: string, status: string | undefined): Promise<{ items: TemplateDefinition[] }> {
  const docs = await listTemplates(deps.collections, accountId);
  return { items: docs.filter((doc) => status === undefined || doc.status === status).map(templateView) };
}

/**
 * Before a template is sent (a conversation's template, a campaign message, a broadcast): a template
 * the registry knows must be APPROVED (else 409 `template_unavailable`) and given the parameters its
 * definition takes (else 400 naming the field). One it does not know goes as before.
 */
export async function checkTemplate(deps: ApiDeps, accountId: string, template: TemplateRef, field = ''): Promise<void> {
  const known = await findTemplate(deps.collections, accountId, template.name, template.language ?? 'en_US');
  if (!known) return;
  const problem = checkTemplateSend(known, template);
  if (!problem) return;
  if (problem.code === 'template_unavailable') throw new ApiError({ code: 'template_unavailable', message: problem.message });
  const path = `${field}${problem.path}`;
  throw new ApiError({ code: 'validation_failed', message: `${path}: ${problem.message}`, details: [{ path, message: problem.message }] });
}

/**
 * Meta's `message_template_status_update` changes, for the business accounts of the channels whose app
 * secret signed the body: each known template's status set. Answers how many were applied; an update of
 * a template the registry does not know (not synced yet) writes nothing.
 */
export async function applyTemplateStatuses(deps: ApiDeps, accountId: string, items: TemplateStatusItem[], signedWabaIds: ReadonlySet<string>): Promise<number> {
  const at = new Date();
  let applied = 0;
  // In the body's order: two updates of one template leave the later one's status.
  for (const item of items) {
    const status = signedWabaIds.has(item.wabaId) ? statusAfterEvent(item.event) : undefined;
    if (status !== undefined && (await setTemplateStatus(deps.collections, accountId, item.name, item.language, status, at))) applied += 1;
  }
  return applied;
}
