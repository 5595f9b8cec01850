import type { Collection, Db } from 'mongodb';
import type { TemplateDefinition } from '../workflows/conversation/core/templates';
import { templateDocId } from './ids';
import { replaceWhole } from './writes';

export { templateDocId };

/**
 * The account's WhatsApp message templates (SPEC section 10, "Templates"): one document per
 * `{accountId}/{name}/{language}`, written whole by a sync (`POST .../templates/sync`, api/templates.ts)
 * and its `status` set by Meta's `message_template_status_update` webhook (api/whatsapp-webhook.ts).
 *
 * Two writers, one document: a sync replaces it whole, a status webhook sets `status` by `_id`. Neither
 * is conditional (FerretDB runs a filtered update as a read then a write, so a condition would not hold
 * anyway): a sync that read Graph before a status change and writes after its webhook puts the older
 * status back until the next webhook or sync. `statusAt` says which of the two wrote the status last.
 */
export interface TemplateDoc extends TemplateDefinition {
  _id: string; // `${accountId}/${name}/${language}`
  accountId: string;
  /** The business account the sync read it from. */
  wabaId: string;
  /** When a sync last wrote it: a complete sync removes what was written before it began and not since. */
  syncedAt: Date;
  /** When `status` last changed, by a sync or a webhook. */
  statusAt: Date;
}

export function templates(db: Db): Collection<TemplateDoc> {
  return db.collection<TemplateDoc>('templates');
}

type Templates = { templates: Collection<TemplateDoc> };

/** One template by name and language; null when the registry does not know it. */
export function findTemplate(c: Templates, accountId: string, name: string, language: string): Promise<TemplateDoc | null> {
  return c.templates.findOne({ _id: templateDocId(accountId, name, language) });
}

/** The account's templates by name, then language. */
export function listTemplates(c: Templates, accountId: string): Promise<TemplateDoc[]> {
  return c.templates.find({ accountId }).sort({ _id: 1 }).toArray();
}

/** Writes one synced template whole (last writer wins). */
export function saveTemplate(c: Templates, doc: TemplateDoc): Promise<void> {
  return replaceWhole(c.templates, doc);
}

/** After a complete listing: the account's templates written before the sync began and not since (deleted at Meta). */
export async function deleteTemplatesSyncedBefore(c: Templates, accountId: string, startedAt: Date): Promise<number> {
  const result = await c.templates.deleteMany({ accountId, syncedAt: { $lt: startedAt } });
  return result.deletedCount;
}

/** Meta's status update for one template; false when the registry does not know the template (nothing is written). */
export async function setTemplateStatus(c: Templates, accountId: string, name: string, language: string, status: string, at: Date): Promise<boolean> {
  const result = await c.templates.updateOne({ _id: templateDocId(accountId, name, language) }, { $set: { status, statusAt: at } });
  return result.matchedCount > 0;
}
