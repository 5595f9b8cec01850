import type { Presence } from '../workflows/routing/routing';

/**
 * The presence rule (issue 22, items 4 and 15; docs/presence.md): which presence a user's open tabs say
 * they have. Pure: tabs, the manual choice, the clock value and the settings in, a presence out. The API
 * (api/presence.ts) gathers the inputs from the database and applies the answer.
 */

/** One stream a tab of the user holds or held (a reload opens a new one), joined with that tab's activity. */
export interface TabConnection {
  /** When the stream opened: opening or reloading the page counts as activity. */
  openedAt: number;
  /** The last time the API process holding the stream said it is still open. */
  lastSeen: number;
  /** When the stream closed, if its process saw it close (a process that died never says so). */
  closedAt: number | null;
  /** The tab's newest heartbeat (`POST .../presence-heartbeats`), if any. */
  activity: { active: boolean; at: number } | null;
}

export interface PresenceSettings {
  /** All tabs idle this long: away. */
  awayAfterMs: number;
  /** The last tab gone this long: offline; a reload inside it does not flap. */
  offlineGraceMs: number;
  /** A stream not refreshed this long is gone (its API process died or lost the database). */
  tabStaleMs: number;
}

export const defaultPresenceSettings: PresenceSettings = { awayAfterMs: 10 * 60_000, offlineGraceMs: 30_000, tabStaleMs: 45_000 };

/**
 * - A manual choice (`PUT .../presence` with `online`, `away` or `offline`) holds until the user
 *   chooses `automatic`.
 * - Otherwise: a tab is there while its stream is open and fresh, and for `offlineGraceMs` after it
 *   closed or went stale. No tab there: offline. A tab there that was active within `awayAfterMs`:
 *   online. Else away.
 * - A tab's last activity is its newest heartbeat if that came after the stream opened (an idle one
 *   says "not active since"), else the opening itself.
 */
export function presenceOf(input: { manual: Presence | null; tabs: TabConnection[]; now: number; settings: PresenceSettings }): Presence {
  const { manual, tabs, now, settings } = input;
  if (manual !== null) return manual;
  const there = tabs.filter((tab) => now < goneAt(tab, settings) + settings.offlineGraceMs);
  if (there.length === 0) return 'offline';
  return there.some((tab) => {
    const active = lastActiveAt(tab);
    return active !== null && now - active < settings.awayAfterMs;
  })
    ? 'online'
    : 'away';
}

/**
 * When the tab went (or, if nothing refreshes it, will go) away: its close, or the moment its stream
 * goes stale. An open stream's moves forwards with each refresh.
 */
export function goneAt(tab: Pick<TabConnection, 'lastSeen' | 'closedAt'>, settings: Pick<PresenceSettings, 'tabStaleMs'>): number {
  // A close its process wrote late (after a stall) does not keep a stale stream there any longer.
  return Math.min(tab.closedAt ?? Infinity, tab.lastSeen + settings.tabStaleMs);
}

function lastActiveAt(tab: TabConnection): number | null {
  if (tab.activity && tab.activity.at >= tab.openedAt) return tab.activity.active ? tab.activity.at : null;
  return tab.openedAt;
}

/** The settings of the API process that applies the rule: the rule's own, and how often it looks. */
export interface PresenceOptions extends PresenceSettings {
  /** How often the process holding a tab's stream says it is still open (well below `tabStaleMs`). */
  tabRefreshMs: number;
  /** How often each API process looks for users whose tabs went away or idle. */
  sweepMs: number;
}

export const defaultPresenceOptions: PresenceOptions = { ...defaultPresenceSettings, tabRefreshMs: 15_000, sweepMs: 10_000 };
