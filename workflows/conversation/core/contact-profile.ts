/**
 * A contact's profile (SPEC 11) as a merge of what told it something: customer messages (the provider
 * profile's name, attributes, when it was seen, on which channel) and users' edits (`PATCH .../contacts`).
 * Pure: store/contact-profiles.ts claims each new profile as a revision (store/DESIGN.md) and calls this to
 * decide it.
 *
 * Why a merge by time and not "apply in arrival order": a customer may write on several channels, each a
 * conversation with its own workflow persisting on its own, so two messages of one contact reach the store
 * in either order, and an edit may land between them. Each field keeps the time of the value it holds and
 * another value wins only when it is newer (ties: the larger value); the first sight is the earliest and
 * the channels a union; so the result does not depend on the order (as long as no value goes back and
 * forth meanwhile, `replaces` below; test/unit/contact-profile.test.ts), and a retried batch changes nothing.
 */
import { maxAttributes } from './limits';

export interface ContactProfile {
  /** The claimed revision this profile is (0: none yet, the contact is unknown). */
  rev: number;
  /**
   * A name a user gave (`PATCH .../contacts`) and when: it holds over the provider's profile name, which
   * every message carries again (so a message never puts back a name a user corrected).
   */
  editedName: string | null;
  editedNameAt: number | null;
  /** The provider's profile name on the newest message that carried one, and that message's time. */
  providerName: string | null;
  providerNameAt: number | null;
  attributes: Record<string, string>;
  /**
   * When each attribute got its value (epoch ms), by key; for a key in `attributeAt` but not in
   * `attributes`, when a user removed it (so a message older than the removal does not bring it back,
   * whichever lands first).
   */
  attributeAt: Record<string, number>;
  firstSeenAt: number | null;
  /** The channels the customer wrote on, sorted: its conversations are `conv:{accountId}:{channel}:{customer}`. */
  channels: string[];
}

export const unknownContact: ContactProfile = {
  rev: 0,
  editedName: null,
  editedNameAt: null,
  providerName: null,
  providerNameAt: null,
  attributes: {},
  attributeAt: {},
  firstSeenAt: null,
  channels: [],
};

/** The name the contact shows: a user's, else the provider profile's. */
export const nameOf = (p: Pick<ContactProfile, 'editedName' | 'providerName'>): string | null => p.editedName ?? p.providerName;

/** What one source tells about a contact. */
export type ContactChange =
  | {
      kind: 'messages';
      channel: string;
      /** The provider profile name the conversation holds now (its view's `customerName`). */
      providerName: string | null;
      /** The batch's customer messages: when each came, and the attributes it carried. */
      messages: readonly { at: number; attributes: Readonly<Record<string, string>> | null }[];
    }
  /** `attributes`: a value sets the key, `null` removes it. */
  | { kind: 'edit'; at: number; name?: string | undefined; attributes?: Readonly<Record<string, string | null>> | undefined };

/**
 * Whether a value given at `at` replaces the one held: another value, given later (ties: the larger). The
 * same value again changes nothing, not even its time: the backend sends a customer's attributes and the
 * provider its profile name with every message, and a write per message only to move a time would cost
 * each customer message a revision. The price: a value that goes back and forth (A, then B, then A again)
 * while those messages are still being written may end as B when the last A lands first.
 */
const replaces = (at: number, value: string, oldAt: number | null | undefined, oldValue: string | null | undefined): boolean =>
  value !== oldValue && (oldAt === null || oldAt === undefined || at > oldAt || (at === oldAt && (oldValue ?? '') < value));

/**
 * Whether a removal at `at` replaces what the key holds: a value or a removal given earlier, or nothing yet
 * (the removal is remembered, in case an older message lands after it). At the same instant a value wins
 * over a removal, as the larger value wins between two values.
 */
const removes = (at: number, oldAt: number | null | undefined): boolean => oldAt === null || oldAt === undefined || at > oldAt;

/**
 * The profile after a change, with `rev` unchanged (the caller claims `rev + 1`); null when the change
 * tells nothing new, so nothing is written.
 */
export function applyContactChange(profile: ContactProfile, change: ContactChange): ContactProfile | null {
  const next: ContactProfile = { ...profile, attributes: { ...profile.attributes }, attributeAt: { ...profile.attributeAt }, channels: [...profile.channels] };
  // Own properties only: `next.attributes.__proto__` would read Object.prototype.
  const timeOf = (key: string) => (Object.hasOwn(next.attributeAt, key) ? next.attributeAt[key] : null);
  // defineProperty: a key such as `__proto__` (attribute keys allow it) becomes an own property.
  const define = (record: Record<string, unknown>, key: string, value: unknown) => Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  const setAttribute = (key: string, value: string, at: number) => {
    const own = Object.hasOwn(next.attributes, key);
    if (!replaces(at, value, timeOf(key), own ? next.attributes[key] : null)) return;
    define(next.attributes, key, value);
    define(next.attributeAt, key, at);
  };
  const removeAttribute = (key: string, at: number) => {
    if (!removes(at, timeOf(key))) return;
    delete next.attributes[key];
    define(next.attributeAt, key, at);
  };
  switch (change.kind) {
    case 'messages': {
      if (change.messages.length === 0) return null;
      const times = change.messages.map((m) => m.at);
      const first = Math.min(...times);
      const last = Math.max(...times);
      if (next.firstSeenAt === null || first < next.firstSeenAt) next.firstSeenAt = first;
      if (!next.channels.includes(change.channel)) next.channels = [...next.channels, change.channel].sort();
      if (change.providerName !== null && replaces(last, change.providerName, next.providerNameAt, next.providerName)) {
        next.providerName = change.providerName;
        next.providerNameAt = last;
      }
      for (const m of change.messages) for (const [key, value] of Object.entries(m.attributes ?? {})) setAttribute(key, value, m.at);
      break;
    }
    case 'edit': {
      if (change.name !== undefined && replaces(change.at, change.name, next.editedNameAt, next.editedName)) {
        next.editedName = change.name;
        next.editedNameAt = change.at;
      }
      for (const [key, value] of Object.entries(change.attributes ?? {})) {
        if (value === null) removeAttribute(key, change.at);
        else setAttribute(key, value, change.at);
      }
      break;
    }
  }
  boundAttributes(next);
  return sameProfile(profile, next) ? null : next;
}

/**
 * At most `maxAttributes` (SPEC 12): the oldest values give way (ties: the smaller key); and at most as many
 * removals remembered, the oldest forgotten first (a message older than a forgotten removal, landing
 * after it, would bring its value back: a removal is forgotten only after `maxAttributes` newer ones).
 */
function boundAttributes(p: ContactProfile): void {
  const oldestFirst = (keys: string[]) => keys.sort((a, b) => p.attributeAt[a]! - p.attributeAt[b]! || (a < b ? -1 : 1));
  const keys = Object.keys(p.attributes);
  const removed = Object.keys(p.attributeAt).filter((k) => !Object.hasOwn(p.attributes, k));
  for (const key of oldestFirst(keys).slice(0, Math.max(0, keys.length - maxAttributes))) {
    delete p.attributes[key];
    delete p.attributeAt[key];
  }
  for (const key of oldestFirst(removed).slice(0, Math.max(0, removed.length - maxAttributes))) delete p.attributeAt[key];
}

function sameProfile(a: ContactProfile, b: ContactProfile): boolean {
  return (
    a.editedName === b.editedName &&
    a.editedNameAt === b.editedNameAt &&
    a.providerName === b.providerName &&
    a.providerNameAt === b.providerNameAt &&
    a.firstSeenAt === b.firstSeenAt &&
    a.channels.join('\n') === b.channels.join('\n') &&
    sameRecord(a.attributes, b.attributes) &&
    sameRecord(a.attributeAt, b.attributeAt)
  );
}

function sameRecord<V>(a: Readonly<Record<string, V>>, b: Readonly<Record<string, V>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
