import type { Collections } from './collections';
import { insertOnce } from './writes';
import { markPairsComplete, recordContactMessages, refreshContactWords } from './contact-profiles';
import { searchTermDocsOf } from './search-index';
import { parseConversationId } from '../workflows/conversation/messages';
import type { MessageDoc } from './documents';
import { contactProfileId } from './ids';

/**
 * The backfill of SPEC 11's search postings and contact profiles for messages recorded before `persist`
 * wrote them (infra/backfill-search.ts is its command). One pass over `messages` with one cursor (no query
 * per conversation: on FerretDB any filter but `_id` reads the whole collection), postings written per
 * chunk insert-once, and what each conversation's customer messages told its contact gathered in memory
 * (per conversation: the first and last time, and each attribute's latest value: at most 50 keys), then
 * told to the contact as the conversation's `persist` would (a claimed revision, merged by time).
 *
 * Each contact's name words are written again when they do not carry the list item the name search
 * answers from (words written before they did: store/contact-profiles.ts `refreshContactWords`).
 *
 * Safe to run while the system runs and to run again: postings are insert-once, and the contact merge of
 * what was already told changes nothing. A dry run reads the same and writes nothing.
 */
export interface BackfillReport {
  messages: number;
  postings: number;
  conversations: number;
  contactsChanged: number;
}

interface Told {
  first: number;
  last: number;
  attributes: Map<string, { at: number; value: string }>;
}

export async function backfillSearchAndContacts(c: Collections, options: { dryRun: boolean; chunk?: number; onProgress?: (report: BackfillReport) => void }): Promise<BackfillReport> {
  const chunk = options.chunk ?? 500;
  const report: BackfillReport = { messages: 0, postings: 0, conversations: 0, contactsChanged: 0 };
  const told = new Map<string, Told>();
  let pending: MessageDoc[] = [];
  const flush = async () => {
    const byConversation = new Map<string, MessageDoc[]>();
    for (const m of pending) byConversation.set(m.conversationId, [...(byConversation.get(m.conversationId) ?? []), m]);
    for (const [conversationId, messages] of byConversation) {
      const ref = parseConversationId(conversationId);
      if (!ref) continue;
      const docs = searchTermDocsOf(ref.accountId, conversationId, messages);
      report.postings += docs.length;
      if (!options.dryRun) await insertOnce(c.searchTerms, docs);
    }
    pending = [];
    options.onProgress?.(report);
  };

  const cursor = c.messages.find({}, { projection: { _id: 1, conversationId: 1, messageId: 1, direction: 1, text: 1, at: 1, attributes: 1 } }).batchSize(chunk);
  for await (const m of cursor) {
    report.messages += 1;
    if (typeof m.conversationId !== 'string' || typeof m.at !== 'number') continue;
    pending.push(m);
    if (m.direction === 'inbound') {
      const t = told.get(m.conversationId) ?? { first: m.at, last: m.at, attributes: new Map() };
      t.first = Math.min(t.first, m.at);
      t.last = Math.max(t.last, m.at);
      for (const [key, value] of Object.entries(m.attributes ?? {})) {
        const held = t.attributes.get(key);
        if (!held || m.at > held.at) t.attributes.set(key, { at: m.at, value });
      }
      told.set(m.conversationId, t);
    }
    if (pending.length >= chunk) await flush();
  }
  await flush();

  for (const [conversationId, t] of told) {
    const ref = parseConversationId(conversationId);
    if (!ref) continue;
    report.conversations += 1;
    const view = await c.conversations.findOne({ _id: conversationId }, { projection: { customerName: 1 } });
    // The messages as the merge reads them: the first and the last, and each attribute at its latest value.
    const messages = [
      { at: t.first, attributes: null },
      { at: t.last, attributes: null },
      ...[...t.attributes].map(([key, { at, value }]) => ({ at, attributes: Object.fromEntries([[key, value]]) as Record<string, string> })),
    ];
    if (options.dryRun) continue;
    const before = await c.contactProfiles.profiles.findOne({ _id: contactProfileId(ref.accountId, ref.customer) }, { projection: { rev: 1 } });
    await recordContactMessages(c.contactProfiles, ref, view?.customerName ?? null, messages);
    const after = await c.contactProfiles.profiles.findOne({ _id: contactProfileId(ref.accountId, ref.customer) }, { projection: { rev: 1 } });
    if ((after?.rev ?? 0) !== (before?.rev ?? 0)) report.contactsChanged += 1;
    // Name words written before they carried the list item (or an older name's) are written again.
    await refreshContactWords(c.contactProfiles, ref.accountId, ref.customer);
  }
  // Every contact now has its name pairs: searches of several words read them from here on.
  if (!options.dryRun) await markPairsComplete(c.contactProfiles, (await c.accounts.find({}, { projection: { _id: 1 } }).toArray()).map((a) => a._id));
  options.onProgress?.(report);
  return report;
}
