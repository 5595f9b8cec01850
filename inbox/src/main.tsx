import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { inTab, tabQuery, tabsFor } from './actions';
import type { Conversation, Me, Message, Presence, Selected, Transition, User } from './api';
import { Api, ApiFailure, openStream } from './api';
import { ConversationPane } from './conversation';
import { ConversationList } from './list';

const keyStorage = 'convoflow.key';

function SignIn({ onSignedIn }: { onSignedIn: (api: Api, me: Me) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const api = new Api(key.trim());
      const me = await api.get<Me | { kind: string }>('/v1/me');
      if (me.kind !== 'user') throw new ApiFailure(403, 'forbidden', 'This is not a user key: sign in with the key you were given as an agent or supervisor.');
      sessionStorage.setItem(keyStorage, api.key);
      onSignedIn(api, me as Me);
    } catch (e) {
      setError(e instanceof ApiFailure ? e.message : 'The server could not be reached.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">convoflow inbox</h1>
        <label for="api-key">Your API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="current-password" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
        <p class="hint">The key shown once when your user was created (it starts with <code>cf_u_</code>). It stays in this tab only.</p>
        <button type="submit" disabled={busy || key.trim() === ''}>
          Sign in
        </button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function Inbox({ api, me: initialMe, onSignOut }: { api: Api; me: Me; onSignOut: () => void }) {
  const [me, setMe] = useState(initialMe);
  const [preset, setPreset] = useState('default');
  const [users, setUsers] = useState<User[]>([]);
  const [tab, setTab] = useState('open');
  const [list, setList] = useState<Conversation[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [selected, setSelected] = useState<Selected | null>(null);
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [error, setError] = useState<string | null>(null);
  const account = `/v1/accounts/${encodeURIComponent(me.accountId)}`;

  // The stream handler is set up once; it reads the current state through refs.
  const state = useRef({ tab, selected, me });
  state.current = { tab, selected, me };

  const loadCounts = useCallback(async () => {
    const res = await api.get<{ items: { status: string; count: number; mine: number }[] }>(`${account}/conversation-counts`);
    const next: Record<string, number> = { mine: 0 };
    for (const row of res.items) {
      next[row.status] = row.count;
      next.mine! += row.status === 'closed' ? 0 : row.mine;
    }
    setCounts(next);
  }, [api, account]);

  const loadList = useCallback(
    async (forTab: string, cursor?: string) => {
      const res = await api.get<{ conversations: Conversation[]; nextCursor: string | null }>(
        `${account}/conversations?${tabQuery(forTab)}&limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (state.current.tab !== forTab) return;
      setList((before) => (cursor ? [...before, ...res.conversations.filter((c) => !before.some((b) => b.id === c.id))] : res.conversations));
      setNextCursor(res.nextCursor);
    },
    [api, account],
  );

  const open = useCallback(
    async (id: string) => {
      const path = `${account}/conversations/${encodeURIComponent(id)}`;
      const [conversation, messages, transitions] = await Promise.all([
        api.get<Conversation>(path),
        api.get<{ messages: Message[] }>(`${path}/messages?limit=500`),
        api.get<{ events: Transition[] }>(`${path}/events?limit=500`),
      ]);
      setSelected({ conversation, messages: messages.messages, transitions: transitions.events });
    },
    [api, account],
  );

  const reloadAll = useCallback(() => {
    void loadCounts();
    void loadList(state.current.tab);
    const current = state.current.selected;
    if (current) void open(current.conversation.id);
  }, [loadCounts, loadList, open]);

  useEffect(() => {
    void api.get<{ policy: { preset?: string } }>(account).then((a) => setPreset(a.policy.preset ?? 'default'));
    void api.get<{ users: User[] } | { items: User[] }>(`${account}/users`).then((r) => setUsers('users' in r ? r.users : r.items));
  }, [api, account]);

  useEffect(() => {
    setList([]);
    setNextCursor(null);
    void loadList(tab).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [tab, loadList]);

  // Counts are read again a moment after changes arrive, once for a burst of them.
  const countsTimer = useRef<number | undefined>(undefined);
  const countsSoon = useCallback(() => {
    clearTimeout(countsTimer.current);
    countsTimer.current = window.setTimeout(() => void loadCounts(), 250);
  }, [loadCounts]);

  useEffect(
    () =>
      openStream(api, me.accountId, {
        connected(resumed) {
          setLive('live');
          if (!resumed) reloadAll();
        },
        disconnected() {
          setLive('reconnecting');
        },
        event(type, data) {
          const { tab: currentTab, me: currentMe } = state.current;
          if (type === 'reset') reloadAll();
          if (type === 'conversation') {
            const c = data as Conversation;
            setList((before) => {
              const old = before.find((b) => b.id === c.id);
              if (old && old.version >= c.version) return before;
              const rest = before.filter((b) => b.id !== c.id);
              if (!inTab(currentTab, currentMe, c)) return rest;
              return [c, ...rest].sort((a, b) => (b.lastActivityAt ?? '').localeCompare(a.lastActivityAt ?? '') || b.id.localeCompare(a.id));
            });
            setSelected((s) => (s && s.conversation.id === c.id && c.version > s.conversation.version ? { ...s, conversation: c } : s));
            countsSoon();
          }
          if (type === 'message') {
            const m = data as Message;
            setSelected((s) =>
              s && s.conversation.id === m.conversationId && !s.messages.some((x) => x.messageId === m.messageId) ? { ...s, messages: [...s.messages, m] } : s,
            );
          }
          if (type === 'delivery') {
            const d = data as { conversationId: string; messageId: string; delivery: Message['delivery'] };
            setSelected((s) =>
              s && s.conversation.id === d.conversationId ? { ...s, messages: s.messages.map((m) => (m.messageId === d.messageId ? { ...m, delivery: d.delivery } : m)) } : s,
            );
          }
          if (type === 'transition') {
            const t = data as Transition;
            setSelected((s) =>
              s && s.conversation.id === t.conversationId && !s.transitions.some((x) => x.seq === t.seq) ? { ...s, transitions: [...s.transitions, t] } : s,
            );
          }
        },
      }),
    [api, me.accountId, reloadAll, countsSoon],
  );

  const setPresence = async (status: Presence) => {
    try {
      await api.call('PUT', `${account}/users/${encodeURIComponent(me.userId)}/presence`, { status });
      setMe({ ...me, presence: status });
    } catch (e) {
      setError(e instanceof ApiFailure ? e.message : String(e));
    }
  };

  const tabs = useMemo(() => tabsFor(preset), [preset]);
  const listRef = useRef<HTMLDivElement>(null);
  // The pane moves focus to its heading when it opens a conversation (keyboard users land there).
  const select = (id: string) => open(id);
  const backToList = () => {
    const id = selected?.conversation.id;
    setSelected(null);
    window.setTimeout(() => listRef.current?.querySelector<HTMLElement>(`[data-id="${CSS.escape(id ?? '')}"]`)?.focus(), 0);
  };

  return (
    <div class={`inbox${selected ? ' has-selection' : ''}`}>
      <a class="skip" href="#conversation-list">
        Skip to conversations
      </a>
      <header class="topbar">
        <h1>Inbox</h1>
        <span class={`live live-${live}`} role="status" aria-live="polite">
          {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
        <span class="who">
          {me.name} · {me.role}
        </span>
        <label class="presence">
          <span class={`dot dot-${me.presence}`} aria-hidden="true" />
          <span class="visually-hidden">Your presence</span>
          <select aria-label="Your presence" value={me.presence} onChange={(e) => void setPresence(e.currentTarget.value as Presence)}>
            <option value="online">Online</option>
            <option value="away">Away</option>
            <option value="offline">Offline</option>
          </select>
        </label>
        <button type="button" class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {error && (
        <p role="alert" class="error banner">
          {error}{' '}
          <button type="button" class="link" onClick={() => setError(null)}>
            Dismiss
          </button>
        </p>
      )}
      <nav class="tabs" aria-label="Conversations by status" role="tablist">
        {tabs.map((t) => (
          <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} class={tab === t.id ? 'tab active' : 'tab'} onClick={() => setTab(t.id)} data-tab={t.id}>
            {t.label} <span class="count">{counts[t.id] ?? 0}</span>
          </button>
        ))}
      </nav>
      <div class="panes">
        <div class="list-pane" ref={listRef}>
          <ConversationList
            items={list}
            selectedId={selected?.conversation.id ?? null}
            users={users}
            onSelect={(id) => void select(id)}
            hasMore={nextCursor !== null}
            onMore={() => void loadList(tab, nextCursor ?? undefined)}
          />
        </div>
        <section class="conversation-pane" aria-label="Conversation">
          {selected ? (
            <ConversationPane key={selected.conversation.id} api={api} me={me} preset={preset} users={users} selected={selected} onBack={backToList} />
          ) : (
            <p class="empty">Choose a conversation.</p>
          )}
        </section>
      </div>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<{ api: Api; me: Me } | null>(null);
  const [checking, setChecking] = useState(true);
  useEffect(() => {
    const key = sessionStorage.getItem(keyStorage);
    if (!key) return setChecking(false);
    const api = new Api(key);
    api
      .get<Me>('/v1/me')
      .then((me) => setSession({ api, me }))
      .catch(() => sessionStorage.removeItem(keyStorage))
      .finally(() => setChecking(false));
  }, []);
  if (checking) return null;
  if (!session) return <SignIn onSignedIn={(api, me) => setSession({ api, me })} />;
  return (
    <Inbox
      api={session.api}
      me={session.me}
      onSignOut={() => {
        sessionStorage.removeItem(keyStorage);
        setSession(null);
      }}
    />
  );
}

render(<App />, document.getElementById('root')!);
