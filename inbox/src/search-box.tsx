import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, ContactProfile, ContactSummary, SearchHit } from './api';
import { ApiFailure } from './api';
import { contactSearchable, highlightParts, searchable } from './highlight';
import { fullTime, relativeTime } from './time';

/**
 * SPEC 11's search in the top bar (any user): the messages and notes whose words start with every word
 * typed, newest first (`GET .../search?q=`, "More" reads the next pages), and the contacts whose name or
 * phone digits start with it (`GET .../contacts?q=`). A query the API would refuse (under 2 characters,
 * no word of 2) is not sent. Choosing a message opens its conversation at that message; choosing a
 * contact opens their conversation (or lists them, when they wrote on several channels).
 */

type Page<T> = { items: T[]; nextCursor: string | null };
type Results = { q: string; messages: Page<SearchHit> | { error: string }; contacts: Page<ContactSummary> | null | { error: string } };

/** How long typing pauses before the search goes out; Enter sends it at once. */
const typingPauseMs = 300;

/** The customer of a conversation id (`conv:{accountId}:{channel}:{customer}`), for a result's heading. */
const customerOf = (conversationId: string) => conversationId.split(':').at(-1) ?? conversationId;
const channelOf = (conversationId: string) => conversationId.split(':').at(-2) ?? '';

const failure = (e: unknown) => ({ error: e instanceof ApiFailure ? e.message : 'the server could not be reached' });

/** Message hits shown at once, and how many pages are read in a row to fill them (a page may come back short: README "Search"). */
const hitsWanted = 20;
const pagesPerFill = 5;

export function SearchBox({ api, accountId, onOpenMessage, onOpenConversation }: { api: Api; accountId: string; onOpenMessage: (hit: SearchHit) => void; onOpenConversation: (id: string) => void }) {
  const account = `/v1/accounts/${encodeURIComponent(accountId)}`;
  const [q, setQ] = useState('');
  const [results, setResults] = useState<Results | null>(null);
  const [open, setOpen] = useState(false);
  const [contactOpen, setContactOpen] = useState<{ customer: string; conversations: ContactProfile['conversations'] } | null>(null);
  const asked = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const root = useRef<HTMLDivElement>(null);

  /**
   * Hits from `cursor` (none: the newest), page after page while pages come back short, until `hitsWanted`,
   * the end, or `pagesPerFill` pages: two words that seldom meet give short pages (the API bounds each
   * page's work), and one screen should not need a click per page.
   */
  const readHits = async (q: string, cursor: string | null): Promise<Page<SearchHit>> => {
    const items: SearchHit[] = [];
    let next = cursor;
    for (let n = 0; n < pagesPerFill && items.length < hitsWanted && (n === 0 || next !== null); n++) {
      const page = await api.get<Page<SearchHit>>(`${account}/search?q=${encodeURIComponent(q)}&limit=${hitsWanted - items.length}${next === null ? '' : `&cursor=${encodeURIComponent(next)}`}`);
      items.push(...page.items);
      next = page.nextCursor;
    }
    return { items, nextCursor: next };
  };

  const search = async (query: string) => {
    const text = query.trim();
    if (!searchable(text) && !contactSearchable(text)) return;
    const ask = ++asked.current;
    const param = encodeURIComponent(text);
    const [messages, contacts] = await Promise.all([
      searchable(text) ? readHits(text, null).catch(failure) : Promise.resolve({ items: [], nextCursor: null }),
      contactSearchable(text) ? api.get<Page<ContactSummary>>(`${account}/contacts?q=${param}&limit=10`).catch(failure) : Promise.resolve(null),
    ]);
    if (ask !== asked.current) return;
    setResults({ q: text, messages, contacts });
    setContactOpen(null);
    setOpen(true);
  };

  const more = async () => {
    if (!results || 'error' in results.messages || results.messages.nextCursor === null) return;
    const before = results;
    const page = before.messages as Page<SearchHit>;
    const next = await readHits(before.q, page.nextCursor).catch(failure);
    setResults((now) => (now !== before ? now : { ...before, messages: 'error' in next ? next : { items: [...page.items, ...next.items], nextCursor: next.nextCursor } }));
  };

  const openContact = async (contact: ContactSummary) => {
    try {
      const profile = await api.get<ContactProfile>(`${account}/contacts/${encodeURIComponent(contact.customer)}`);
      if (profile.conversations.length === 1) {
        setOpen(false);
        onOpenConversation(profile.conversations[0]!.conversationId);
      } else setContactOpen({ customer: contact.customer, conversations: profile.conversations });
    } catch (e) {
      setContactOpen(null);
      setResults((r) => r && { ...r, contacts: failure(e) });
    }
  };

  // Escape or a click elsewhere closes the results (the query stays, to reopen them).
  useEffect(() => {
    const onDown = (e: PointerEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    return () => document.removeEventListener('pointerdown', onDown);
  }, []);
  useEffect(() => () => clearTimeout(timer.current), []);

  const hint = q.trim().length > 0 && !searchable(q) && !contactSearchable(q) ? 'Type at least 2 letters or digits.' : null;
  const messages = results?.messages;
  const contacts = results?.contacts;

  return (
    <div class="search-box" ref={root} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <form
        role="search"
        aria-label="Search messages and contacts"
        onSubmit={(e) => {
          e.preventDefault();
          clearTimeout(timer.current);
          void search(q);
        }}
      >
        <input
          type="search"
          aria-label="Search messages and contacts"
          placeholder="Search messages and contacts"
          value={q}
          maxLength={200}
          onFocus={() => results && setOpen(true)}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setQ(value);
            clearTimeout(timer.current);
            if (searchable(value) || contactSearchable(value)) timer.current = window.setTimeout(() => void search(value), typingPauseMs);
          }}
        />
      </form>
      {hint && <span class="search-hint">{hint}</span>}
      {open && results && (
        <div class="search-results" role="region" aria-label="Search results">
          <section aria-label="Contacts found">
            <h3>Contacts</h3>
            {contacts === null || contacts === undefined ? (
              <p class="hint">A name or phone search needs a word or 2 digits.</p>
            ) : 'error' in contacts ? (
              <p class="error">The contacts search failed: {contacts.error}</p>
            ) : contacts.items.length === 0 ? (
              <p class="hint">No contact matches.</p>
            ) : (
              <ul>
                {contacts.items.map((c) => (
                  <li key={c.customer}>
                    <button type="button" class="result contact-result" data-customer={c.customer} onClick={() => void openContact(c)}>
                      <span class="result-title">
                        <Marked text={c.name ?? `+${c.customer}`} q={results.q} />
                      </span>
                      <span class="result-meta">
                        +<Marked text={c.customer} q={results.q} />
                      </span>
                    </button>
                    {contactOpen?.customer === c.customer && (
                      <ul class="contact-conversations" aria-label={`Conversations of ${c.name ?? c.customer}`}>
                        {contactOpen.conversations.map((conv) => (
                          <li key={conv.conversationId}>
                            <button
                              type="button"
                              class="link"
                              onClick={() => {
                                setOpen(false);
                                onOpenConversation(conv.conversationId);
                              }}
                            >
                              {conv.channel} · {conv.status.replace('_', ' ')}
                            </button>
                          </li>
                        ))}
                      </ul>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-label="Messages found">
            <h3>Messages</h3>
            {messages === undefined ? null : 'error' in messages ? (
              <p class="error">The message search failed: {messages.error}</p>
            ) : messages.items.length === 0 && messages.nextCursor === null ? (
              <p class="hint">No message has every word.</p>
            ) : (
              <>
                <ol class="message-results">
                  {messages.items.map((hit) => (
                    <li key={`${hit.conversationId}/${hit.messageId}`}>
                      <button
                        type="button"
                        class="result message-result"
                        data-message-id={hit.messageId}
                        onClick={() => {
                          setOpen(false);
                          onOpenMessage(hit);
                        }}
                      >
                        <span class="result-title">
                          +{customerOf(hit.conversationId)} · {channelOf(hit.conversationId)}
                        </span>
                        <time class="result-meta" dateTime={hit.at} title={fullTime(hit.at)}>
                          {relativeTime(hit.at)}
                        </time>
                        <span class="snippet">
                          <Marked text={hit.snippet} q={results.q} />
                        </span>
                      </button>
                    </li>
                  ))}
                </ol>
                {messages.items.length === 0 && <p class="hint">No message found yet: only the newest were searched.</p>}
                {messages.nextCursor !== null && (
                  <button type="button" class="link" onClick={() => void more()}>
                    {messages.items.length === 0 ? 'Search older messages' : 'More results'}
                  </button>
                )}
              </>
            )}
          </section>
        </div>
      )}
    </div>
  );
}

/** Text with the words the query matched in `<mark>`, as text nodes: never HTML from a customer. */
function Marked({ text, q }: { text: string; q: string }) {
  return (
    <>
      {highlightParts(text, q).map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : p.text))}
    </>
  );
}
