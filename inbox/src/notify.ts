import type { Conversation, Me, Mention, Transition } from './api';

/**
 * What the inbox tells a person who is looking elsewhere: a sound and a desktop notification for the
 * three things an agent must not miss, and the unread count in the tab's title. Each is switched per
 * user of this browser (localStorage), so two people sharing a machine keep their own choices.
 */
export type NotifyEvent = 'new_conversation' | 'customer_message' | 'assigned_to_me' | 'mentioned';
export const notifyEvents: readonly { id: NotifyEvent; label: string }[] = [
  { id: 'new_conversation', label: 'A new conversation in the queue' },
  { id: 'customer_message', label: 'A customer writes in a conversation I hold' },
  { id: 'assigned_to_me', label: 'A conversation is assigned to me' },
  { id: 'mentioned', label: 'Someone mentions me in a note' },
];

export interface NotifyPrefs {
  sound: Record<NotifyEvent, boolean>;
  desktop: Record<NotifyEvent, boolean>;
  titleCount: boolean;
}

const all = (on: boolean): Record<NotifyEvent, boolean> => ({ new_conversation: on, customer_message: on, assigned_to_me: on, mentioned: on });
/** Sound and title on, desktop off until the person turns it on (the browser asks them then). */
export const defaultPrefs: NotifyPrefs = { sound: all(true), desktop: all(false), titleCount: true };

const prefsKey = (me: Pick<Me, 'accountId' | 'userId'>) => `convoflow.notify.${me.accountId}.${me.userId}`;

export function loadPrefs(storage: Pick<Storage, 'getItem'>, me: Pick<Me, 'accountId' | 'userId'>): NotifyPrefs {
  try {
    const saved = JSON.parse(storage.getItem(prefsKey(me)) ?? 'null') as Partial<NotifyPrefs> | null;
    if (!saved) return defaultPrefs;
    return {
      sound: { ...defaultPrefs.sound, ...saved.sound },
      desktop: { ...defaultPrefs.desktop, ...saved.desktop },
      titleCount: typeof saved.titleCount === 'boolean' ? saved.titleCount : defaultPrefs.titleCount,
    };
  } catch {
    return defaultPrefs;
  }
}

export function savePrefs(storage: Pick<Storage, 'setItem'>, me: Pick<Me, 'accountId' | 'userId'>, prefs: NotifyPrefs): void {
  try {
    storage.setItem(prefsKey(me), JSON.stringify(prefs));
  } catch {
    // kept for this page only
  }
}

export interface Notice {
  event: NotifyEvent;
  conversationId: string;
  title: string;
  body: string;
}

const customerOf = (c: Pick<Conversation, 'customerName' | 'customer'> | undefined) => (c ? (c.customerName ?? `+${c.customer}`) : 'A customer');

/**
 * Which notice a transition deserves for this user, if any: a conversation that (re)opens into the
 * queue, or one assigned to them by someone else. Pure; the caller knows the conversation if it can.
 */
export function noticeForTransition(t: Transition, me: Pick<Me, 'userId'>, c: Conversation | undefined): Notice | null {
  if (t.to === 'open' && (t.reason === 'customer_message' || t.reason === 'first_customer_message'))
    return { event: 'new_conversation', conversationId: t.conversationId, title: 'New conversation', body: `${customerOf(c)} is waiting in the queue` };
  if (t.to === 'assigned' && t.assigneeAfter === me.userId && t.actor.id !== me.userId)
    return { event: 'assigned_to_me', conversationId: t.conversationId, title: 'Assigned to you', body: `${customerOf(c)} is yours now` };
  return null;
}

/** SPEC 10: a teammate mentioned this user in a note (the stream sends `mention` only to them). */
export function noticeForMention(m: Mention, nameOf: (id: string) => string): Notice {
  const text = m.text.length > 140 ? `${m.text.slice(0, 139)}…` : m.text;
  return { event: 'mentioned', conversationId: m.conversationId, title: `${nameOf(m.by)} mentioned you`, body: text };
}

/** A customer's message in a conversation the user holds. */
export function noticeForMessage(m: { conversationId: string; direction: string; text: string | null; kind: string }, me: Pick<Me, 'userId'>, c: Conversation | undefined): Notice | null {
  if (m.direction !== 'inbound' || !c || c.assigneeId !== me.userId) return null;
  const text = m.text ?? `(${m.kind})`;
  return { event: 'customer_message', conversationId: m.conversationId, title: customerOf(c), body: text.length > 120 ? `${text.slice(0, 119)}…` : text };
}

/** "(3) Inbox · convoflow" */
export const pageTitle = (unread: number, on: boolean) => `${on && unread > 0 ? `(${unread}) ` : ''}Inbox · convoflow`;

let audio: AudioContext | undefined;
/** Browsers allow sound only after a gesture: the page calls this from its first click or key press. */
export function unlockSound(): void {
  try {
    audio ??= new AudioContext();
    void audio.resume();
  } catch {
    // no audio here
  }
}

/** Two short soft tones, made here rather than fetched (nothing leaves the page's own origin). */
export function playChime(): void {
  if (!audio || audio.state !== 'running') return;
  const start = audio.currentTime;
  for (const [i, freq] of [880, 1320].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + i * 0.15);
    gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.15 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.15 + 0.14);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + i * 0.15);
    osc.stop(start + i * 0.15 + 0.15);
  }
}

/** Shows a notice as the user chose. Desktop notifications only while the page is not in view. */
export function deliver(notice: Notice, prefs: NotifyPrefs, onClick: (conversationId: string) => void): void {
  if (prefs.sound[notice.event]) playChime();
  if (prefs.desktop[notice.event] && typeof Notification !== 'undefined' && Notification.permission === 'granted' && (document.visibilityState !== "visible" || !document.hasFocus())) {
    const n = new Notification(notice.title, { body: notice.body, tag: `${notice.event}:${notice.conversationId}` });
    n.onclick = () => {
      window.focus();
      onClick(notice.conversationId);
      n.close();
    };
  }
}
