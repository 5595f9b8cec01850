import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { inTab, tabQuery, tabsFor } from './actions';
import type { Api, Conversation, Me, Message, Presence, Selected, Transition, User, Mention } from './api';
import { ApiFailure, openStream } from './api';
import { ConversationPane } from './conversation';
import type { BusinessHours } from './snooze';
import { Drafts } from './drafts';
import type { ListFilters } from './filters';
import { compareFor, filterQuery, inFilters, noFilters } from './filters';
import { ConversationList } from './list';
import type { NotifyPrefs } from './notify';
import { deliver, loadPrefs, noticeForMention, noticeForMessage, noticeForTransition, notifyEvents, pageTitle, savePrefs, unlockSound } from './notify';
import { SettingsPage } from './settings';
import { CannedResponsesPage } from './canned-page';
import { ContactPanel } from './contact-panel';
import { ReportsPage } from './reports-page';
import { SearchBox } from './search-box';
import { reportActivity, tabId } from './tab-presence';
import type { Place } from './url-state';
import { parsePlace, placeSearch, samePlace } from './url-state';

function NotificationSettings({ prefs, onChange }: { prefs: NotifyPrefs; onChange: (p: NotifyPrefs) => void }) {
  const permission = typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  const setDesktop = async (event: keyof NotifyPrefs['desktop'], on: boolean) => {
    // Asked on this click (a user gesture), as browsers require, and only when turning one on.
    if (on && typeof Notification !== 'undefined' && Notification.permission === 'default') await Notification.requestPermission();
    onChange({ ...prefs, desktop: { ...prefs.desktop, [event]: on } });
  };
  return (
    <details class="notify-settings">
      <summary>Notifications</summary>
      <div class="notify-panel">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Sound</th>
              <th scope="col">Desktop</th>
            </tr>
          </thead>
          <tbody>
            {notifyEvents.map((e) => (
              <tr key={e.id}>
                <th scope="row">{e.label}</th>
                <td>
                  <input type="checkbox" aria-label={`Sound: ${e.label}`} checked={prefs.sound[e.id]} onChange={(ev) => onChange({ ...prefs, sound: { ...prefs.sound, [e.id]: ev.currentTarget.checked } })} />
                </td>
                <td>
                  <input type="checkbox" aria-label={`Desktop: ${e.label}`} checked={prefs.desktop[e.id]} onChange={(ev) => void setDesktop(e.id, ev.currentTarget.checked)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <label>
          <input type="checkbox" checked={prefs.titleCount} onChange={(ev) => onChange({ ...prefs, titleCount: ev.currentTarget.checked })} /> Unread count in the tab title
        </label>
        {permission === 'denied' && <p class="hint">This browser blocks desktop notifications for this site; allow them in its site settings.</p>}
      </div>
    </details>
  );
}

/** Every tab any preset has: a URL names one before the account's preset is known. */
/** Records of each kind a conversation opens with, and each "Show earlier" reads (the API's most per page). */
const timelinePage = 500;

const everyTabId = [...new Set([...tabsFor('work_items'), ...tabsFor('status_inbox')].map((t) => t.id))];

export function Inbox({ api, me: initialMe, onSignOut }: { api: Api; me: Me; onSignOut: () => void }) {
  const [me, setMe] = useState(initialMe);
  const [policy, setPolicy] = useState<{ preset: string; serviceWindow: string; businessHours?: BusinessHours | null }>({ preset: 'default', serviceWindow: '24h' });
  const preset = policy.preset;
  const tabs = useMemo(() => tabsFor(preset), [preset]);
  const [users, setUsers] = useState<User[]>([]);
  /** SPEC 10: mentions of me that arrived on the stream and I have not opened yet, newest first. */
  const [mentions, setMentions] = useState<Mention[]>([]);
  const usersNow = useRef(users);
  usersNow.current = users;
  const [place, setPlaceState] = useState<Place>(() => parsePlace(location.search, everyTabId));
  const tab = place.tab;
  const placeNow = useRef(place);
  placeNow.current = place;
  const [filters, setFilters] = useState<ListFilters>(noFilters);
  const [list, setList] = useState<Conversation[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [selected, setSelected] = useState<Selected | null>(null);
  // SPEC 11: a contact's name as its profile says (a user's correction wins over the WhatsApp profile
  // name the views carry), learnt from the contact panel: the list and the conversation show the same.
  const [contactNames, setContactNames] = useState<ReadonlyMap<string, string>>(new Map());
  const named = useCallback((c: Conversation): Conversation => {
    const name = contactNames.get(c.customer);
    return name === undefined || name === c.customerName ? c : { ...c, customerName: name };
  }, [contactNames]);
  const shownList = useMemo(() => list.map(named), [list, named]);
  const shownSelected = useMemo(() => selected && { ...selected, conversation: named(selected.conversation) }, [selected, named]);
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [error, setError] = useState<string | null>(null);
  /** SPEC 11: a message chosen in the search results, shown (scrolled to and marked) once its conversation is. */
  const [foundMessage, setFoundMessage] = useState<{ conversationId: string; messageId: string } | null>(null);
  const [prefs, setPrefsState] = useState(() => loadPrefs(localStorage, initialMe));
  const [mineUnread, setMineUnread] = useState<Record<string, number>>({});
  /** Whether the user chose their presence by hand (it holds) or lets their tabs decide. */
  const [manual, setManual] = useState(false);
  const thisTab = useMemo(() => tabId(), []);
  const drafts = useMemo(() => new Drafts(localStorage, `${initialMe.accountId}.${initialMe.userId}`), [initialMe]);
  const account = `/v1/accounts/${encodeURIComponent(me.accountId)}`;

  // The stream handler is set up once; it reads the current state through refs.
  const state = useRef({ tab, selected, me, filters, prefs });
  state.current = { tab, selected, me, filters, prefs };
  /** Every conversation this page has seen, newest version: whose it is, for notices and the title. */
  const known = useRef(new Map<string, Conversation>());
  const remember = (incoming: Conversation) => {
    const old = known.current.get(incoming.id);
    // Stream views carry no per-user fields: what this user has read stays from the last answer.
    const c = old && old.version > incoming.version ? old : { ...old, ...incoming };
    known.current.set(c.id, c);
    const mine = c.assigneeId === state.current.me.userId && c.status !== 'closed';
    setMineUnread((before) => {
      const unread = mine ? (c.unreadForMe ?? c.unreadCount) : 0;
      if ((before[c.id] ?? 0) === unread) return before;
      const next = { ...before };
      if (unread > 0) next[c.id] = unread;
      else delete next[c.id];
      return next;
    });
  };

  /** This user's unread count of one conversation changed: the list row, the title and what we know. */
  const setUnreadForMe = (conversationId: string, unread: (before: number) => number, readUpToSeq?: number) => {
    const old = known.current.get(conversationId);
    if (old) remember({ ...old, unreadForMe: unread(old.unreadForMe ?? 0), ...(readUpToSeq !== undefined ? { readUpToSeq } : {}) });
    setList((before) => before.map((c) => (c.id === conversationId ? { ...c, unreadForMe: unread(c.unreadForMe ?? 0), ...(readUpToSeq !== undefined ? { readUpToSeq } : {}) } : c)));
  };

  /**
   * Marks the open conversation read while it is on screen and the page is in front (the assignee, or a
   * supervisor watching): on opening it, on each customer message that arrives, on coming back to the tab.
   */
  const markRead = useCallback(() => {
    const current = state.current.selected?.conversation;
    const who = state.current.me;
    if (!current || document.visibilityState !== 'visible') return;
    if (current.assigneeId !== who.userId && who.role === 'agent') return;
    const known_ = known.current.get(current.id);
    const lastSeq = Math.max(0, ...(state.current.selected?.messages ?? []).map((m) => m.seq));
    if ((known_?.readUpToSeq ?? -1) >= lastSeq && (known_?.unreadForMe ?? 0) === 0) return;
    api
      .post<{ readUpToSeq: number }>(`${account}/conversations/${encodeURIComponent(current.id)}/read`, {})
      .then((r) => setUnreadForMe(current.id, () => 0, r.readUpToSeq))
      .catch(() => undefined);
  }, [api, account]);

  const setPrefs = (next: NotifyPrefs) => {
    setPrefsState(next);
    savePrefs(localStorage, me, next);
  };

  const unreadTotal = Object.values(mineUnread).reduce((a, b) => a + b, 0);
  useEffect(() => {
    document.title = pageTitle(unreadTotal, prefs.titleCount);
  }, [unreadTotal, prefs.titleCount]);

  // Sound needs a gesture first: the first click or key press anywhere unlocks it.
  useEffect(() => {
    const unlock = () => unlockSound();
    window.addEventListener('pointerdown', unlock, { once: true });
    window.addEventListener('keydown', unlock, { once: true });
    return () => {
      window.removeEventListener('pointerdown', unlock);
      window.removeEventListener('keydown', unlock);
    };
  }, []);

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
    async (forTab: string, forFilters: ListFilters, cursor?: string) => {
      const res = await api.get<{ conversations: Conversation[]; nextCursor: string | null }>(
        `${account}/conversations?${tabQuery(forTab)}${filterQuery(forFilters)}&limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (state.current.tab !== forTab || state.current.filters !== forFilters) return;
      const rows = res.conversations.filter((c) => c.id !== null);
      rows.forEach(remember);
      setList((before) => (cursor ? [...before, ...rows.filter((c) => !before.some((b) => b.id === c.id))] : rows));
      setNextCursor(res.nextCursor);
    },
    [api, account],
  );

  // Mine, once at the start, for the title's count and for notices about conversations not on screen.
  const loadMine = useCallback(async () => {
    const res = await api.get<{ conversations: Conversation[] }>(`${account}/conversations?assignee=me&limit=100`);
    res.conversations.forEach(remember);
  }, [api, account]);

  const open = useCallback(
    async (id: string) => {
      const path = `${account}/conversations/${encodeURIComponent(id)}`;
      try {
        // The newest records; earlier ones on demand (loadEarlier).
        const [conversation, messages, transitions] = await Promise.all([
          api.get<Conversation>(path),
          api.get<{ messages: Message[] }>(`${path}/messages?before=end&limit=${timelinePage}`),
          api.get<{ events: Transition[] }>(`${path}/events?before=end&limit=${timelinePage}`),
        ]);
        // The place may have moved on while this was loading (Back, another click): then it is not shown.
        if (placeNow.current.conversationId !== id) return;
        remember(conversation);
        const opened = { conversation, messages: messages.messages, transitions: transitions.events, earlier: messages.messages.length === timelinePage || transitions.events.length === timelinePage };
        setSelected(opened);
        state.current.selected = opened;
        markRead();
      } catch (e) {
        if (placeNow.current.conversationId !== id) return;
        setSelected(null);
        setError(e instanceof ApiFailure && e.status === 404 ? 'That conversation does not exist, or is not in your account.' : 'The conversation could not be loaded.');
      }
    },
    [api, account, markRead],
  );

  /** The open conversation's earlier records: the page before the first message and the first transition shown. */
  const loadingEarlier = useRef<string | null>(null);
  const loadEarlier = useCallback(async () => {
    const s = state.current.selected;
    if (!s || !s.earlier || loadingEarlier.current === s.conversation.id) return;
    const id = s.conversation.id;
    loadingEarlier.current = id;
    const path = `${account}/conversations/${encodeURIComponent(id)}`;
    const [firstMessage, firstTransition] = [s.messages[0]?.seq, s.transitions[0]?.seq];
    try {
      const [messages, transitions] = await Promise.all([
        firstMessage === undefined ? { messages: [] } : api.get<{ messages: Message[] }>(`${path}/messages?before=${firstMessage}&limit=${timelinePage}`),
        firstTransition === undefined ? { events: [] } : api.get<{ events: Transition[] }>(`${path}/events?before=${firstTransition}&limit=${timelinePage}`),
      ]);
      const earlier = messages.messages.length === timelinePage || transitions.events.length === timelinePage;
      setSelected((now) =>
        now && now.conversation.id === id
          ? {
              ...now,
              messages: [...messages.messages.filter((m) => !now.messages.some((x) => x.messageId === m.messageId)), ...now.messages],
              transitions: [...transitions.events.filter((t) => !now.transitions.some((x) => x.seq === t.seq)), ...now.transitions],
              earlier,
            }
          : now,
      );
    } catch (e) {
      setError(e instanceof ApiFailure ? e.message : 'Earlier messages could not be loaded.');
    } finally {
      loadingEarlier.current = null;
    }
  }, [api, account]);

  /** Moves to a place: a new history entry, unless it is where we are (Back and reload return here). */
  const go = useCallback((next: Place, how: 'push' | 'replace' = 'push') => {
    setPlaceState((current) => {
      if (samePlace(current, next) && how === 'push') return current;
      const url = `${location.pathname}${placeSearch(next)}`;
      if (how === 'push') history.pushState(next, '', url);
      else history.replaceState(next, '', url);
      placeNow.current = next;
      return next;
    });
  }, []);

  useEffect(() => {
    history.replaceState(place, '', `${location.pathname}${placeSearch(place)}`);
    const onPop = () => {
      const next = parsePlace(location.search, everyTabId);
      placeNow.current = next;
      setPlaceState(next);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  // Opening a conversation is seeing its mentions of me.
  useEffect(() => {
    if (place.conversationId !== null) setMentions((before) => (before.some((m) => m.conversationId === place.conversationId) ? before.filter((m) => m.conversationId !== place.conversationId) : before));
  }, [place.conversationId]);

  // The open conversation follows the URL (a click, Back, Forward or a reload alike).
  useEffect(() => {
    if (place.conversationId === null) setSelected(null);
    else if (state.current.selected?.conversation.id !== place.conversationId) void open(place.conversationId);
  }, [place.conversationId, open]);

  const reloadAll = useCallback(() => {
    void loadCounts();
    void loadMine();
    void loadList(state.current.tab, state.current.filters);
    const current = state.current.selected;
    if (current) void open(current.conversation.id);
  }, [loadCounts, loadList, loadMine, open]);

  useEffect(() => {
    void api
      .get<{ policy: { preset?: string; serviceWindow?: string; businessHours?: BusinessHours | null } }>(account)
      .then((a) => setPolicy({ preset: a.policy.preset ?? 'default', serviceWindow: a.policy.serviceWindow ?? '24h', businessHours: a.policy.businessHours ?? null }));
    void api.get<{ users: User[] } | { items: User[] }>(`${account}/users`).then((r) => setUsers('users' in r ? r.users : r.items));
  }, [api, account]);

  useEffect(() => {
    setList([]);
    setNextCursor(null);
    void loadList(tab, filters).catch((e: unknown) => setError(e instanceof ApiFailure ? e.message : 'The list could not be loaded.'));
  }, [tab, filters, loadList]);

  // Counts are read again a moment after changes arrive, once for a burst of them.
  const countsTimer = useRef<number | undefined>(undefined);
  const countsSoon = useCallback(() => {
    clearTimeout(countsTimer.current);
    countsTimer.current = window.setTimeout(() => void loadCounts(), 250);
  }, [loadCounts]);

  const openFromNotice = useCallback((id: string) => go({ tab: state.current.tab, conversationId: id }), [go]);

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
          const { tab: currentTab, me: currentMe, filters: currentFilters, prefs: currentPrefs } = state.current;
          if (type === 'reset') reloadAll();
          if (type === 'conversation') {
            const c = data as Conversation;
            remember(c);
            setList((before) => {
              const old = before.find((b) => b.id === c.id);
              if (old && old.version >= c.version) return before;
              const rest = before.filter((b) => b.id !== c.id);
              if (!inTab(currentTab, currentMe, c) || !inFilters(currentFilters, c)) return rest;
              return [{ ...old, ...c }, ...rest].sort(compareFor(currentFilters));
            });
            setSelected((s) => (s && s.conversation.id === c.id && c.version > s.conversation.version ? { ...s, conversation: { ...s.conversation, ...c } } : s));
            countsSoon();
          }
          if (type === 'message') {
            const m = data as Message;
            setSelected((s) =>
              s && s.conversation.id === m.conversationId && !s.messages.some((x) => x.messageId === m.messageId) ? { ...s, messages: [...s.messages, m] } : s,
            );
            const notice = noticeForMessage(m, currentMe, known.current.get(m.conversationId));
            if (notice) deliver(notice, currentPrefs, openFromNotice);
            if (m.direction === 'inbound') {
              const onScreen = state.current.selected?.conversation.id === m.conversationId && document.visibilityState === 'visible';
              if (onScreen) window.setTimeout(markRead, 0);
              else setUnreadForMe(m.conversationId, (n) => n + 1);
            }
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
            const notice = noticeForTransition(t, currentMe, known.current.get(t.conversationId));
            if (notice) deliver(notice, currentPrefs, openFromNotice);
          }
          if (type === 'presence') {
            const p = data as { userId: string; presence: Presence; manual?: boolean };
            setUsers((before) => before.map((u) => (u.id === p.userId ? { ...u, presence: p.presence } : u)));
            if (p.userId === currentMe.userId) {
              setMe((m) => ({ ...m, presence: p.presence }));
              if (typeof p.manual === 'boolean') setManual(p.manual);
            }
          }
          if (type === 'mention') {
            // Only mine reach this stream (api/routes/stream.ts); a repeat of one (a resumed stream) counts once.
            const m = data as Mention;
            setMentions((before) => [m, ...before.filter((x) => x.messageId !== m.messageId || x.conversationId !== m.conversationId)].slice(0, 50));
            const userName = (id: string) => usersNow.current.find((u) => u.id === id)?.name ?? id;
            deliver(noticeForMention(m, userName), currentPrefs, openFromNotice);
          }
          if (type === 'read') {
            // This user read it in another tab (or this one): the badge clears everywhere.
            const r = data as { conversationId: string; userId: string; readUpToSeq: number };
            if (r.userId === currentMe.userId) setUnreadForMe(r.conversationId, () => 0, r.readUpToSeq);
          }
        },
      }, { tabId: thisTab }),
    [api, me.accountId, reloadAll, countsSoon, openFromNotice, thisTab, markRead],
  );

  // This tab tells the server when the person uses it or leaves it; presence follows (docs/presence.md).
  useEffect(
    () =>
      reportActivity(api, me.accountId, thisTab, (a) => {
        setMe((m) => ({ ...m, presence: a.presence }));
        setManual(a.manual);
      }),
    [api, me.accountId, thisTab],
  );
  // Coming back to the tab reads what arrived in the open conversation meanwhile.
  useEffect(() => {
    const onVisible = () => document.visibilityState === 'visible' && markRead();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [markRead]);

  const setPresence = async (status: Presence | 'automatic') => {
    try {
      await api.call('PUT', `${account}/users/${encodeURIComponent(me.userId)}/presence`, { status });
      setManual(status !== 'automatic');
      if (status !== 'automatic') setMe({ ...me, presence: status });
    } catch (e) {
      setError(e instanceof ApiFailure ? e.message : 'The server could not be reached.');
    }
  };

  // A message found by search: scrolled into view and marked once its conversation's timeline shows it,
  // earlier pages read until it does (or the conversation's first message is shown).
  useEffect(() => {
    if (!foundMessage || selected?.conversation.id !== foundMessage.conversationId) return;
    const row = document.querySelector<HTMLElement>(`.timeline [data-message-id="${CSS.escape(foundMessage.messageId)}"]`);
    if (!row) {
      if (selected.earlier) void loadEarlier();
      return;
    }
    document.querySelectorAll('.timeline .found').forEach((el) => el.classList.remove('found'));
    row.classList.add('found');
    row.scrollIntoView({ block: 'center' });
    setFoundMessage(null);
  }, [foundMessage, selected, loadEarlier]);

  const latestMention = mentions[0];
  const listRef = useRef<HTMLDivElement>(null);
  const backToList = () => {
    const id = selected?.conversation.id;
    go({ tab, conversationId: null });
    window.setTimeout(() => listRef.current?.querySelector<HTMLElement>(`[data-id="${CSS.escape(id ?? '')}"]`)?.focus(), 0);
  };
  // The settings page (SPEC 9's clocks) is for those who may change the policy: owners and admins.
  const mayEditPolicy = me.role === 'owner' || me.role === 'admin';
  const settingsOpen = mayEditPolicy && place.view === 'settings';
  // SPEC 10: every user manages their canned responses (supervisors the account's too); the page hides the inbox like settings.
  const cannedOpen = place.view === 'canned';
  // SPEC 11: the reports page, for supervisors (owners, admins, managers); agents see no link to it.
  const mayReadReports = me.role === 'owner' || me.role === 'admin' || me.role === 'manager';
  const reportsOpen = mayReadReports && place.view === 'reports';
  const pageOpen = settingsOpen || cannedOpen || reportsOpen;
  const onTabKeyDown = (event: KeyboardEvent) => {
    const at = tabs.findIndex((t) => t.id === tab);
    const to = event.key === 'ArrowRight' ? at + 1 : event.key === 'ArrowLeft' ? at - 1 : event.key === 'Home' ? 0 : event.key === 'End' ? tabs.length - 1 : null;
    if (to === null) return;
    event.preventDefault();
    const next = tabs[(to + tabs.length) % tabs.length]!;
    go({ tab: next.id, conversationId: place.conversationId });
    window.setTimeout(() => document.querySelector<HTMLElement>(`[data-tab="${next.id}"]`)?.focus(), 0);
  };

  return (
    <div class={`inbox${selected ? ' has-selection' : ''}`}>
      <a
        class="skip"
        href="#conversation-list"
        onClick={(e) => {
          e.preventDefault();
          const target = document.querySelector<HTMLElement>('#conversation-list button.item') ?? document.getElementById('conversation-list');
          target?.focus();
        }}
      >
        Skip to conversations
      </a>
      <header class="topbar">
        <h1>Inbox</h1>
        <SearchBox
          api={api}
          accountId={me.accountId}
          onOpenMessage={(hit) => {
            setFoundMessage({ conversationId: hit.conversationId, messageId: hit.messageId });
            go({ tab, conversationId: hit.conversationId });
          }}
          onOpenConversation={(id) => go({ tab, conversationId: id })}
        />
        <span class={`live live-${live}`} role="status" aria-live="polite">
          {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
        <span class="who">
          {me.name} · {me.role}
        </span>
        <label class="presence">
          <span class={`dot dot-${me.presence}`} aria-hidden="true" />
          <span class="visually-hidden">Your presence</span>
          <select aria-label="Your presence" value={manual ? me.presence : 'automatic'} onChange={(e) => void setPresence(e.currentTarget.value as Presence | 'automatic')}>
            <option value="automatic">Automatic ({me.presence})</option>
            <option value="online">Online</option>
            <option value="away">Away</option>
            <option value="offline">Offline</option>
          </select>
        </label>
        {mentions.length > 0 && (
          <button
            type="button"
            class="mentions-badge"
            aria-label={`${mentions.length} new ${mentions.length === 1 ? 'mention' : 'mentions'}: open the latest`}
            onClick={() => {
              const [latest, ...rest] = mentions;
              setMentions(rest);
              if (latest) go({ tab, conversationId: latest.conversationId });
            }}
          >
            @ {mentions.length}
          </button>
        )}
        <NotificationSettings prefs={prefs} onChange={setPrefs} />
        {mayEditPolicy && (
          <button type="button" class="link" aria-current={settingsOpen ? 'page' : undefined} onClick={() => go({ tab, conversationId: null, view: 'settings' })}>
            Settings
          </button>
        )}
        {mayReadReports && (
          <button type="button" class="link reports-link" aria-current={reportsOpen ? 'page' : undefined} onClick={() => go({ tab, conversationId: null, view: 'reports' })}>
            Reports
          </button>
        )}
        <button type="button" class="link" aria-current={cannedOpen ? 'page' : undefined} onClick={() => go({ tab, conversationId: null, view: 'canned' })}>
          Canned responses
        </button>
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
      {latestMention && (
        <p class="toast mention-toast" role="status">
          <strong>{users.find((u) => u.id === latestMention.by)?.name ?? latestMention.by}</strong> mentioned you: “
          {latestMention.text.length > 140 ? `${latestMention.text.slice(0, 139)}…` : latestMention.text}”{' '}
          <button
            type="button"
            class="link"
            onClick={() => {
              setMentions((before) => before.slice(1));
              go({ tab, conversationId: latestMention.conversationId });
            }}
          >
            Open
          </button>{' '}
          <button type="button" class="link" onClick={() => setMentions([])}>
            Dismiss
          </button>
        </p>
      )}
      {settingsOpen && (
        <main class="settings-pane">
          <SettingsPage api={api} accountId={me.accountId} onClose={() => go({ tab, conversationId: null })} />
        </main>
      )}
      {reportsOpen && (
        <main class="settings-pane">
          <ReportsPage api={api} accountId={me.accountId} users={users} onClose={() => go({ tab, conversationId: null })} />
        </main>
      )}
      {cannedOpen && (
        <main class="settings-pane">
          <CannedResponsesPage api={api} me={me} onClose={() => go({ tab, conversationId: null })} />
        </main>
      )}
      <nav class="tabs" aria-label="Conversations by status" role="tablist" onKeyDown={onTabKeyDown} hidden={pageOpen}>
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            tabIndex={tab === t.id ? 0 : -1}
            class={tab === t.id ? 'tab active' : 'tab'}
            onClick={() => go({ tab: t.id, conversationId: place.conversationId })}
            data-tab={t.id}
          >
            {t.label} <span class="count">{counts[t.id] ?? 0}</span>
          </button>
        ))}
      </nav>
      <div class="panes" hidden={pageOpen}>
        <div class="list-pane" ref={listRef}>
          <ConversationList
            items={shownList}
            me={me}
            selectedId={selected?.conversation.id ?? null}
            users={users}
            filters={filters}
            onFilters={setFilters}
            tab={tab}
            onSelect={(id) => go({ tab, conversationId: id })}
            hasMore={nextCursor !== null}
            onMore={() => void loadList(tab, filters, nextCursor ?? undefined)}
          />
        </div>
        <section class="conversation-pane" aria-label="Conversation">
          {selected ? (
            <ConversationPane
              key={selected.conversation.id}
              api={api}
              me={me}
              preset={preset}
              serviceWindow={policy.serviceWindow}
              businessHours={policy.businessHours ?? null}
              users={users}
              selected={shownSelected!}
              drafts={drafts}
              onEarlier={loadEarlier}
              onBack={backToList}
            />
          ) : (
            <p class="empty">Choose a conversation.</p>
          )}
        </section>
        {selected && (
          <ContactPanel
            key={selected.conversation.customer}
            api={api}
            accountId={me.accountId}
            customer={selected.conversation.customer}
            conversationId={selected.conversation.id}
            version={selected.conversation.version}
            onOpen={(id) => go({ tab, conversationId: id })}
            onName={(customer, name) =>
              setContactNames((names) => {
                if (name === null || names.get(customer) === name) return names;
                return new Map(names).set(customer, name);
              })
            }
          />
        )}
      </div>
    </div>
  );
}
