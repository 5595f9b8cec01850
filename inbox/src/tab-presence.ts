import type { Api, Presence } from './api';

/**
 * This tab's part in the person's presence (docs/presence.md): the stream it opens carries its `tabId`
 * (kept in sessionStorage, so a reload is the same tab and does not flap), and it tells the server when
 * the person uses it or leaves it. The server decides online, away and offline from every tab of theirs.
 */
const tabIdKey = 'convoflow.tabId';

export function tabId(storage: Pick<Storage, 'getItem' | 'setItem'> = sessionStorage): string {
  const saved = storage.getItem(tabIdKey);
  if (saved && /^[A-Za-z0-9_-]{1,64}$/.test(saved)) return saved;
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const id = `tab-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  storage.setItem(tabIdKey, id);
  return id;
}

/** How often a tab in use says so: the server's idle time is minutes, so twice a minute is plenty. */
const activeEveryMs = 30_000;

export interface PresenceAnswer {
  userId: string;
  presence: Presence;
  manual: boolean;
}

/**
 * Reports activity (a key, a click, a scroll, the tab coming to the front) at most every 30 s, and
 * `active: false` when the tab is hidden. Returns a stop function.
 */
export function reportActivity(api: Api, accountId: string, id: string, onAnswer: (a: PresenceAnswer) => void): () => void {
  let lastSent = 0;
  let lastActive: boolean | null = null;
  const send = (active: boolean) => {
    const now = Date.now();
    if (active && lastActive === true && now - lastSent < activeEveryMs) return;
    lastSent = now;
    lastActive = active;
    api
      .post<PresenceAnswer>(`/v1/accounts/${encodeURIComponent(accountId)}/presence-heartbeats`, { tabId: id, active })
      .then(onAnswer)
      .catch(() => {
        // the next activity tries again; the stream keeps the tab present meanwhile
        lastActive = null;
      });
  };
  const onActivity = () => {
    if (document.visibilityState === 'visible') send(true);
  };
  const onVisibility = () => send(document.visibilityState === 'visible');
  const events = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;
  for (const e of events) window.addEventListener(e, onActivity, { passive: true });
  document.addEventListener('visibilitychange', onVisibility);
  send(document.visibilityState === 'visible');
  return () => {
    for (const e of events) window.removeEventListener(e, onActivity);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
