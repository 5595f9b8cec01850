import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { mapLimit } from '../infra/map-limit';
import type { UserDoc } from '../store/collections';
import { userDocId } from '../store/collections';
import type { PresenceState, TabActivityDoc, TabDoc } from '../store/presence';
import { activityOf, claimPresence, newestPresence, tabActivityId, tabDocId, tabsOf, writeActivity, writeTab } from '../store/presence';
import type { Presence } from '../workflows/routing/routing';
import type { ApiDeps } from './deps';
import type { TabConnection } from './presence-rule';
import { goneAt, presenceOf } from './presence-rule';
import { userChanged } from './user-availability';

/**
 * Presence that follows the person (issue 22, items 4 and 15; docs/presence.md): the IO around the pure
 * rule of api/presence-rule.ts. Every change, by hand or by the rule, goes through `changePresence`: it
 * is claimed once across all API processes (store/presence.ts), then put on the account's stream, and
 * told to the router (which releases work on offline when the policy says so) exactly as before.
 */

/** A tab id the inbox makes per tab (kept across its reloads): `GET .../stream?tabId=` and heartbeats. */
export const tabIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64');

/** What a presence decision is made from: the newest state (a manual choice holds). */
type Decide = (current: PresenceState) => Omit<PresenceState, 'rev'> | null;

/**
 * Claims the change `decide` makes (if any) and runs its effects: a `presence` stream event, and the
 * router and the user's conversations told (`userChanged`) when the presence itself changed, or always
 * with `notify: 'always'` (a choice by hand, which may release work again as it always did).
 */
export async function changePresence(deps: ApiDeps, user: UserDoc, decide: Decide, notify: 'on_change' | 'always' = 'on_change'): Promise<{ state: PresenceState; released: number }> {
  const pc = deps.collections.presence;
  const claimed = await claimPresence(pc, user, decide);
  const state = claimed?.after ?? (await newestPresence(pc, user));
  if (claimed) {
    await deps.streams.publish(user.accountId, { type: 'presence', userId: user.userId, presence: state.presence, manual: state.manual, at: claimed.at.toISOString() });
  }
  const changed = claimed !== null && claimed.before.presence !== claimed.after.presence;
  if (!changed && notify === 'on_change') return { state, released: 0 };
  const { released } = await userChanged(deps, { ...user, presence: state.presence });
  return { state, released };
}

/** A choice by hand: a presence, which holds, or `automatic`, which hands presence back to the tabs. */
export async function choosePresence(deps: ApiDeps, user: UserDoc, choice: Presence | 'automatic'): Promise<{ state: PresenceState; released: number }> {
  if (choice !== 'automatic') return changePresence(deps, user, () => ({ presence: choice, manual: true }), 'always');
  const connections = await connectionsOf(deps, user);
  return changePresence(deps, user, () => ({ presence: presenceOf({ manual: null, tabs: connections, now: Date.now(), settings: deps.streams.presence }), manual: false }), 'always');
}

/** The rule applied to the user's tabs now, unless they chose by hand. `known`: tabs already read (the sweep). */
export async function followTabs(deps: ApiDeps, user: UserDoc, now = Date.now(), known?: { tabs: TabDoc[]; activity: TabActivityDoc[] }): Promise<{ state: PresenceState; released: number }> {
  const connections = known ? joinTabs(known.tabs, known.activity) : await connectionsOf(deps, user);
  return changePresence(deps, user, (current) => (current.manual ? null : { presence: presenceOf({ manual: null, tabs: connections, now, settings: deps.streams.presence }), manual: false }));
}

async function connectionsOf(deps: ApiDeps, user: UserDoc): Promise<TabConnection[]> {
  const pc = deps.collections.presence;
  const [tabs, activity] = await Promise.all([tabsOf(pc, user._id), activityOf(pc, user._id)]);
  return joinTabs(tabs, activity);
}

function joinTabs(tabs: TabDoc[], activity: TabActivityDoc[]): TabConnection[] {
  const byTab = new Map(activity.map((a) => [a.tabId, a]));
  return tabs.map((tab) => {
    const beat = byTab.get(tab.tabId);
    return {
      openedAt: tab.openedAt.getTime(),
      lastSeen: tab.lastSeen.getTime(),
      closedAt: tab.closedAt?.getTime() ?? null,
      activity: beat ? { active: beat.active, at: beat.at.getTime() } : null,
    };
  });
}

/** `POST .../presence-heartbeats`: the tab's activity, then the rule (so activity after idling is online at once). */
export async function heartbeat(deps: ApiDeps, user: UserDoc, tabId: string, active: boolean): Promise<PresenceState> {
  await writeActivity(deps.collections.presence, { _id: tabActivityId(user._id, tabId), accountId: user.accountId, userId: user.userId, tabId, active, at: new Date() });
  return (await followTabs(deps, user)).state;
}

/**
 * A tab's stream opened (`GET .../stream?tabId=`): its document is written now and refreshed while the
 * stream is open, and the rule applied (the first tab makes the user online). Answers the function to
 * call when the stream closes; the offline that may follow is the sweep's, after the grace time.
 */
export async function openTab(deps: ApiDeps, user: UserDoc, tabId: string): Promise<() => Promise<void>> {
  const pc = deps.collections.presence;
  const openedAt = new Date();
  const doc: TabDoc = { _id: tabDocId(user._id, randomUUID()), accountId: user.accountId, userId: user.userId, tabId, openedAt, lastSeen: openedAt, closedAt: null };
  await writeTab(pc, doc);
  const refresh = setInterval(() => {
    writeTab(pc, { ...doc, lastSeen: new Date() }).catch((error: unknown) => deps.log.warn({ err: error, userId: user.userId }, 'tab refresh not written; the next one may be'));
  }, deps.streams.presence.tabRefreshMs);
  refresh.unref();
  // A failure here costs the prompt online only: the sweep applies the rule to this tab soon after.
  await followTabs(deps, user).catch((error: unknown) => deps.log.warn({ err: error, userId: user.userId }, 'presence not applied at tab open; the sweep will'));
  return async () => {
    clearInterval(refresh);
    const now = new Date();
    await writeTab(pc, { ...doc, lastSeen: now, closedAt: now });
  };
}

/**
 * One look at every user whose presence may change with no request: users with tab documents, and users
 * online or away by the rule. Each gets the rule applied (claimed once, so several API processes sweeping
 * at once change each user once); tab documents gone past the grace time and old heartbeats are deleted.
 * Reads whole collections: one small document per open tab, per tab heartbeat and per user.
 */
export async function sweepPresence(deps: ApiDeps, now = Date.now()): Promise<void> {
  const pc = deps.collections.presence;
  const settings = deps.streams.presence;
  const [tabs, activity, automatic] = await Promise.all([
    pc.tabs.find({}).toArray(),
    pc.activity.find({}).toArray(),
    pc.presence.find({ manual: false, presence: { $ne: 'offline' } }, { projection: { _id: 1 } }).toArray(),
  ]);
  const owner = (doc: { accountId: string; userId: string }) => userDocId(doc.accountId, doc.userId);
  const users = new Set([...tabs.map(owner), ...automatic.map((doc) => doc._id)]);
  await mapLimit([...users], 4, async (id) => {
    const user = await deps.collections.users.findOne({ _id: id });
    if (!user) return;
    await followTabs(deps, user, now, { tabs: tabs.filter((t) => owner(t) === id), activity: activity.filter((a) => owner(a) === id) });
  });
  // Past the grace time a gone tab decides nothing (the rule ignores it): safe to delete, by `_id`, twice.
  const goneTabs = tabs.filter((t) => goneAt({ lastSeen: t.lastSeen.getTime(), closedAt: t.closedAt?.getTime() ?? null }, settings) + settings.offlineGraceMs + settings.tabStaleMs < now);
  // A heartbeat older than the idle time says "idle" as the tab's opening would: deleting it changes nothing.
  const oldBeats = activity.filter((a) => a.at.getTime() + settings.awayAfterMs + settings.tabStaleMs < now);
  if (goneTabs.length > 0) await pc.tabs.bulkWrite(goneTabs.map((t) => ({ deleteOne: { filter: { _id: t._id } } })), { ordered: false });
  if (oldBeats.length > 0) await pc.activity.bulkWrite(oldBeats.map((a) => ({ deleteOne: { filter: { _id: a._id } } })), { ordered: false });
}

/** Every API process sweeps every `sweepMs` (one sweep at a time), until its stream hub closes. */
export function startPresenceSweep(deps: ApiDeps): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepPresence(deps)
      .catch((error: unknown) => deps.log.warn({ err: error }, 'presence sweep failed; the next one retries'))
      .finally(() => {
        running = false;
      });
  }, deps.streams.presence.sweepMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  deps.streams.onClose(stop);
  return stop;
}
