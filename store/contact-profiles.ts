import type { Collection, Db, Filter } from 'mongodb';
import type { ContactChange, ContactProfile } from '../workflows/conversation/core/contact-profile';
import { applyContactChange, nameOf, unknownContact } from '../workflows/conversation/core/contact-profile';
import { wordsOf } from '../workflows/conversation/core/search-words';
import { contactNameTermId, contactProfileId, contactRevisionId } from './ids';
import type { Revisions } from './revisions';
import { copyForwards, decideAndClaim, readForwards } from './revisions';
import { insertNew, replaceWhole } from './writes';

/**
 * SPEC 11 contacts: one profile per customer of an account (`{accountId}/{customer}`), across the channels
 * they wrote on. Its writers are every conversation of the customer (one per channel, each persisting on
 * its own) and users' `PATCH .../contacts/{customer}`, so it is not a one-writer document: each change is
 * a claimed revision (store/revisions.ts, store/DESIGN.md "Contacts"), decided by the pure merge of
 * workflows/conversation/core/contact-profile.ts from the newest revision and claimed insert-once; a
 * change that lost the claim reads again and decides again. `contact_profiles` is the copy readers start
 * from; `contact_name_terms` holds one document per word of the name, for the name search.
 *
 * (The older `contacts` collection, per channel, is seed 002's "not contacted" list: store/contacts.ts.)
 */
export interface ContactProfileDoc extends ContactProfile {
  _id: string;
  accountId: string;
  customer: string;
  /** The name shown (`nameOf`), kept for readers that list. */
  name: string | null;
  updatedAt: Date;
}

export interface ContactRevisionDoc {
  _id: string;
  accountId: string;
  customer: string;
  rev: number;
  profile: ContactProfile;
  at: Date;
}

export interface ContactNameTermDoc {
  _id: string;
  accountId: string;
  word: string;
  customer: string;
  /**
   * The contact's name when this word was written, so a search checks its other words without reading
   * the profile (only hits are read, and checked again there). Rewritten with every copy of the profile.
   */
  name?: string;
}

export interface ContactCollections {
  profiles: Collection<ContactProfileDoc>;
  revisions: Collection<ContactRevisionDoc>;
  nameTerms: Collection<ContactNameTermDoc>;
}

export function contactCollections(db: Db): ContactCollections {
  return {
    profiles: db.collection<ContactProfileDoc>('contact_profiles'),
    revisions: db.collection<ContactRevisionDoc>('contact_revisions'),
    nameTerms: db.collection<ContactNameTermDoc>('contact_name_terms'),
  };
}

/** A stored profile as the merge reads it: FerretDB drops null fields an upsert inserts, so absent is null. */
export function profileOf(stored: Partial<ContactProfile> | null | undefined): ContactProfile {
  if (!stored) return unknownContact;
  return {
    rev: stored.rev ?? 0,
    editedName: stored.editedName ?? null,
    editedNameAt: stored.editedNameAt ?? null,
    providerName: stored.providerName ?? null,
    providerNameAt: stored.providerNameAt ?? null,
    attributes: { ...(stored.attributes ?? {}) },
    attributeAt: { ...(stored.attributeAt ?? {}) },
    firstSeenAt: stored.firstSeenAt ?? null,
    channels: [...(stored.channels ?? [])],
  };
}

const revisionsOf = (c: ContactCollections, accountId: string, customer: string): Revisions<ContactProfile> => ({
  rev: (p) => p.rev,
  next: async (after) => {
    const found = await c.revisions.findOne({ _id: contactRevisionId(accountId, customer, after.rev + 1) });
    return found ? profileOf(found.profile) : null;
  },
});

/**
 * Writes the copy readers start from, after the name's words (each replaced whole, with the name): a
 * writer that dies between the two leaves the copy behind its revision, which the next reader of the
 * contact writes again (`newestContact`), words included. A writer whose words of an older revision land
 * after a newer writer's finds the newer revision when it reads forwards after its copy, and writes it
 * (copyForwards), words included: the last words written are the newest name's. Words of an older name
 * stay: the name search checks each hit against the contact's name (api/contacts.ts), so a stale word
 * costs a read, never a wrong answer.
 */
async function writeCopy(c: ContactCollections, accountId: string, customer: string, profile: ContactProfile): Promise<void> {
  const name = nameOf(profile);
  const words = name === null ? [] : [...new Set(wordsOf(name))];
  await Promise.all(words.map((word) => replaceWhole(c.nameTerms, { _id: contactNameTermId(accountId, word, customer), accountId, word, customer, name: name! })));
  await replaceWhole(c.profiles, { _id: contactProfileId(accountId, customer), accountId, customer, ...profile, name, updatedAt: new Date() });
}

/**
 * The newest claimed profile of a customer (rev 0: unknown), from the copy forwards. A copy found behind
 * (its writer died after claiming) is written again, so the list and the name search catch up.
 */
export async function newestContact(c: ContactCollections, accountId: string, customer: string): Promise<ContactProfile> {
  const copy = profileOf(await c.profiles.findOne({ _id: contactProfileId(accountId, customer) }));
  const revisions = revisionsOf(c, accountId, customer);
  const newest = await readForwards(revisions, copy);
  if (newest.rev > copy.rev) await copyForwards(revisions, newest, (p) => writeCopy(c, accountId, customer, p));
  return newest;
}

/** Applies a change as the next claimed revision (again, from the newest, while another claims first); null: nothing changed. */
async function change(c: ContactCollections, accountId: string, customer: string, decide: (current: ContactProfile) => ContactProfile | null) {
  const revisions = revisionsOf(c, accountId, customer);
  return decideAndClaim(revisions, {
    newest: () => newestContact(c, accountId, customer),
    decide: (current) => {
      const next = decide(current);
      return next && { ...next, rev: current.rev + 1 };
    },
    claim: (next) => insertNew(c.revisions, { _id: contactRevisionId(accountId, customer, next.rev), accountId, customer, rev: next.rev, profile: next, at: new Date() }),
    writeCopy: (p) => writeCopy(c, accountId, customer, p),
  });
}

/**
 * A conversation's customer messages tell the contact about itself (the conversation's `persist`): the
 * provider name, attributes, when, and the channel. Idempotent: a retried batch decides "no change".
 */
export async function recordContactMessages(
  c: ContactCollections,
  ref: { accountId: string; channel: string; customer: string },
  providerName: string | null,
  messages: readonly { at: number; attributes: Record<string, string> | null }[],
): Promise<void> {
  if (messages.length === 0) return;
  const told: ContactChange = { kind: 'messages', channel: ref.channel, providerName, messages };
  await change(c, ref.accountId, ref.customer, (current) => applyContactChange(current, told));
}

/** `PATCH .../contacts/{customer}`: the profile after the edit; null for a customer the account does not know. */
export async function editContact(
  c: ContactCollections,
  accountId: string,
  customer: string,
  edit: { at: number; name?: string | undefined; attributes?: Record<string, string | null> | undefined },
): Promise<ContactProfile | null> {
  let known = true;
  const { before, after } = await change(c, accountId, customer, (current) => {
    known = current.rev > 0;
    return known ? applyContactChange(current, { kind: 'edit', ...edit }) : null;
  });
  return known ? (after ?? before) : null;
}

/** Profiles (the copies) by `_id` after `after`, within `[from, to)` when given, at most `limit`: the list and the phone search. */
export function profilesPage(c: ContactCollections, accountId: string, range: { from?: string; to?: string }, after: string | undefined, limit: number): Promise<ContactProfileDoc[]> {
  const bounds: { $gte?: string; $gt?: string; $lt?: string } = {};
  if (after !== undefined && (range.from === undefined || after >= range.from)) bounds.$gt = after;
  else if (range.from !== undefined) bounds.$gte = range.from;
  if (range.to !== undefined) bounds.$lt = range.to;
  const filter: Filter<ContactProfileDoc> = { accountId, ...(Object.keys(bounds).length > 0 ? { _id: bounds } : {}) };
  return c.profiles.find(filter).sort({ _id: 1 }).limit(limit).toArray();
}

/** Name words by `_id` (word, then customer) within `[from, to)`, after `after`, at most `limit`: the name search. */
export function nameTermsPage(c: ContactCollections, accountId: string, range: { from: string; to: string }, after: string | undefined, limit: number): Promise<ContactNameTermDoc[]> {
  const lower = after !== undefined && after >= range.from ? { $gt: after } : { $gte: range.from };
  return c.nameTerms.find({ accountId, _id: { ...lower, $lt: range.to } }).sort({ _id: 1 }).limit(limit).toArray();
}

/** Copies by `_id`, one point read each (the filter FerretDB serves from its index). */
export function profileCopies(c: ContactCollections, accountId: string, customers: readonly string[]): Promise<(ContactProfileDoc | null)[]> {
  return Promise.all(customers.map((customer) => c.profiles.findOne({ _id: contactProfileId(accountId, customer) })));
}
