import { listContacts } from '../../api/contacts';
import type { ApiDeps } from '../../api/deps';
import type { ContactCollections } from '../../store/contact-profiles';
import { editContact, markPairsComplete, recordContactMessages } from '../../store/contact-profiles';

/** A contact as a search lists it. */
export type ListedContact = { customer: string; name: string | null };

/**
 * Stores contacts of one account through the functions `persist` and `PATCH .../contacts` call (customer
 * `4917…` by position; a rename is an edit after the first message): the name each has now, and every
 * name ever written (the account's words: store/contact-profiles.ts `writeCopy`). The account is marked as
 * having every contact's name pairs, as one created since they exist is, unless `pairsComplete` is false.
 */
export async function storeNamedContacts(c: ContactCollections, accountId: string, contacts: readonly { name: string; rename?: string | undefined }[], options: { pairsComplete?: boolean } = {}) {
  const current = new Map<string, string>();
  const written: string[] = [];
  for (const [i, contact] of contacts.entries()) {
    const customer = `4917${String(i).padStart(4, '0')}`;
    await recordContactMessages(c, { accountId, channel: 'wa', customer }, contact.name, [{ at: 1_000 + i, attributes: { n: String(i) } }]);
    current.set(customer, contact.name);
    written.push(contact.name);
    if (contact.rename !== undefined) {
      await editContact(c, accountId, customer, { at: 5_000 + i, name: contact.rename });
      current.set(customer, contact.rename);
      written.push(contact.rename);
    }
  }
  // As for an account created since name pairs: its searches of several words read them (unless asked not to).
  if (options.pairsComplete ?? true) await markPairsComplete(c, [accountId]);
  return { current, written };
}

/** Every page of a contacts search followed to the end (api/contacts.ts), each checked to hold at most `limit`: the contacts in the order listed. */
export async function followContactPages(deps: ApiDeps, accountId: string, q: string, limit: number): Promise<ListedContact[]> {
  const listed: ListedContact[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 500; pages++) {
    const page = await listContacts(deps, accountId, { q, limit, cursor });
    if (page.items.length > limit) throw new Error(`contacts "${q}": a page of ${page.items.length} items, limit ${limit}`);
    listed.push(...page.items.map((i) => ({ customer: i.customer, name: i.name })));
    if (page.nextCursor === null) return listed;
    cursor = page.nextCursor;
  }
  throw new Error(`contacts "${q}": more than 500 pages`);
}
