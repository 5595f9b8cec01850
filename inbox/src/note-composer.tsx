import { useRef, useState } from 'preact/hooks';
import type { ComponentProps } from 'preact';
import type { Api, Conversation, Me, User } from './api';
import { ApiFailure } from './api';
import { Composer, maxReplyLength } from './composer';
import type { Draft, Drafts } from './drafts';
import { newIdempotencyKey } from './drafts';
import { insertMention, mentionCandidates, mentionQueryAt, mentionsIn } from './mentions';
import { describeRefusal } from './words';

/**
 * The composer with SPEC 10's switch: **Reply** (to the customer, as before: composer.tsx) or **Note**
 * (internal, never sent; any user, in any status, closed included), with @mention autocomplete from the
 * account's active users. The choice is per conversation for the page's life; a note's draft is kept
 * like a reply's (drafts.ts, kind `note`), with its own Idempotency-Key.
 */
export function ComposerWithNotes(props: ComponentProps<typeof Composer>) {
  const [kind, setKind] = useState<'reply' | 'note'>('reply');
  return (
    <div class={`compose-area compose-${kind}`}>
      <div class="compose-switch" role="radiogroup" aria-label="Write">
        {(['reply', 'note'] as const).map((k) => (
          <button
            key={k}
            type="button"
            role="radio"
            aria-checked={kind === k}
            class={kind === k ? 'active' : undefined}
            data-compose={k}
            onClick={() => setKind(k)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                e.preventDefault();
                const next = k === 'reply' ? 'note' : 'reply';
                setKind(next);
                window.setTimeout(() => document.querySelector<HTMLElement>(`.compose-switch [data-compose="${next}"]`)?.focus(), 0);
              }
            }}
            tabIndex={kind === k ? 0 : -1}
          >
            {k === 'reply' ? 'Reply' : 'Note'}
          </button>
        ))}
      </div>
      {kind === 'reply' ? <Composer {...props} /> : <NoteComposer api={props.api} me={props.me} users={props.users} conversation={props.conversation} path={props.path} drafts={props.drafts} onError={props.onError} onNotice={props.onNotice} />}
    </div>
  );
}

export function NoteComposer(props: {
  api: Api;
  me: Me;
  users: User[];
  conversation: Conversation;
  path: string;
  drafts: Drafts;
  onError: (message: string | null) => void;
  onNotice: (message: string | null) => void;
}) {
  const { api, me, users, conversation: c, path, drafts } = props;
  const [draft, setDraftState] = useState<Draft>(() => drafts.get(c.id, 'note'));
  const [caret, setCaret] = useState(0);
  const [highlight, setHighlight] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const current = useRef(draft);
  current.current = draft;
  const setDraft = (next: Draft) => {
    current.current = next;
    setDraftState(next);
    drafts.set(c.id, next, 'note');
  };

  const nameOf = (id: string | null) => (id === me.userId ? 'you' : (users.find((u) => u.id === id)?.name ?? id ?? 'nobody'));
  const query = mentionQueryAt(draft.text, caret);
  const open = query !== null && dismissedAt !== query.start;
  // Everyone active but me: a note is how I tell others.
  const candidates = open ? mentionCandidates(users.filter((u) => u.id !== me.userId), query.query) : [];
  const shown = candidates.length > 0;
  const active = Math.min(highlight, Math.max(candidates.length - 1, 0));

  const pick = (userId: string) => {
    if (!query) return;
    const next = insertMention(current.current.text, query, userId);
    setDraft({ ...current.current, text: next.text });
    setCaret(next.caret);
    setHighlight(0);
    window.setTimeout(() => {
      const el = textarea.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    }, 0);
  };

  const send = async () => {
    const { text, idempotencyKey } = current.current;
    if (text.trim() === '' || text.length > maxReplyLength || inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    props.onError(null);
    props.onNotice(null);
    const mentions = mentionsIn(text, users);
    try {
      await api.post(`${path}/notes`, { text, mentions }, { idempotencyKey });
      // What was typed while it went out stays, as a new note with its own key.
      if (current.current.text !== text) setDraft({ text: current.current.text, idempotencyKey: newIdempotencyKey() });
      else setDraftState((current.current = drafts.clear(c.id, 'note')));
      props.onNotice(mentions.length > 0 ? `Note added; ${mentions.map(nameOf).join(', ')} notified` : 'Note added');
    } catch (e) {
      if (e instanceof ApiFailure && e.status < 500) {
        setDraft({ text: current.current.text, idempotencyKey: newIdempotencyKey() });
        props.onError(`Note not added: ${describeRefusal(e, nameOf)}`);
      } else {
        props.onError('Note not confirmed: the server did not answer. Add it again: it will not be added twice.');
      }
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  const tooLong = draft.text.length > maxReplyLength;
  const listId = `mention-list-${c.id}`;
  return (
    <div class="composer note-composer">
      <p class="window note" role="status">
        Notes are internal: only your team sees them, the customer never does. Type @ to mention someone.
      </p>
      <form
        class="reply note"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label for="note-text" class="visually-hidden">
          Note
        </label>
        <div class="mention-box">
          <textarea
            id="note-text"
            ref={textarea}
            placeholder="Write a note for your team… (Ctrl+Enter adds it)"
            value={draft.text}
            rows={2}
            aria-autocomplete="list"
            aria-expanded={shown}
            aria-controls={listId}
            aria-activedescendant={shown ? `${listId}-${active}` : undefined}
            aria-invalid={tooLong || undefined}
            onInput={(e) => {
              setDraft({ ...draft, text: e.currentTarget.value });
              setCaret(e.currentTarget.selectionStart ?? e.currentTarget.value.length);
              setHighlight(0);
              setDismissedAt(null);
            }}
            onKeyUp={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
            onClick={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
            onKeyDown={(e) => {
              if (shown && query) {
                if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                  e.preventDefault();
                  setHighlight((active + (e.key === 'ArrowDown' ? 1 : candidates.length - 1)) % candidates.length);
                  return;
                }
                if ((e.key === 'Enter' && !e.ctrlKey && !e.metaKey) || e.key === 'Tab') {
                  e.preventDefault();
                  pick(candidates[active]!.id);
                  return;
                }
                if (e.key === 'Escape') {
                  e.preventDefault();
                  e.stopPropagation();
                  setDismissedAt(query.start);
                  return;
                }
              }
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void send();
              }
              if (e.key === 'Escape') {
                e.stopPropagation();
                e.currentTarget.blur();
              }
            }}
          />
          {shown && (
            <ul id={listId} class="mention-list" role="listbox" aria-label="Mention a teammate">
              {candidates.map((u, i) => (
                <li
                  key={u.id}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === active}
                  class={i === active ? 'active' : undefined}
                  data-user-id={u.id}
                  // mousedown, not click: the textarea keeps its focus and caret.
                  onMouseDown={(e) => {
                    e.preventDefault();
                    pick(u.id);
                  }}
                >
                  <strong>{u.name}</strong> <span class="hint">@{u.id}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <button type="submit" disabled={draft.text.trim() === '' || tooLong || busy}>
          {busy ? 'Adding…' : 'Add note'}
        </button>
      </form>
      {tooLong && (
        <p class="error length" role="alert">
          {draft.text.length - maxReplyLength} characters too long: a note takes at most {maxReplyLength}.
        </p>
      )}
    </div>
  );
}
