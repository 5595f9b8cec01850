import fc from 'fast-check';
import type { PresenceSettings, TabConnection } from '../../api/presence-rule';
import { presenceOf } from '../../api/presence-rule';
import type { Presence } from '../../workflows/routing/routing';

/** Issue 22, items 4 and 15: the rule from tabs, the manual choice, the clock and the settings to a presence. */
const settings: PresenceSettings = { awayAfterMs: 600_000, offlineGraceMs: 30_000, tabStaleMs: 45_000 };
const now = 10_000_000;
const tab = (fields: Partial<TabConnection> = {}): TabConnection => ({ openedAt: now - 1_000, lastSeen: now - 1_000, closedAt: null, activity: null, ...fields });

describe('the presence rule', () => {
  test.each<[string, { manual?: Presence; tabs: TabConnection[] }, Presence]>([
    ['no tab: offline', { tabs: [] }, 'offline'],
    ['a tab that just opened: online (opening is activity)', { tabs: [tab()] }, 'online'],
    ['an open tab whose person was active a minute ago: online', { tabs: [tab({ openedAt: now - 3_600_000, activity: { active: true, at: now - 60_000 } })] }, 'online'],
    ['an open tab idle longer than awayAfter: away', { tabs: [tab({ openedAt: now - 3_600_000, activity: { active: true, at: now - 700_000 } })] }, 'away'],
    ['an open tab that said idle: away at once', { tabs: [tab({ activity: { active: false, at: now - 500 } })] }, 'away'],
    ['one idle and one active tab: online', { tabs: [tab({ activity: { active: false, at: now - 500 } }), tab()] }, 'online'],
    ['a heartbeat from before the stream opened (a reload) counts the opening instead', { tabs: [tab({ activity: { active: false, at: now - 5_000 } })] }, 'online'],
    ['the last tab closed within the grace time: still there (a reload does not flap)', { tabs: [tab({ closedAt: now - 29_000 })] }, 'online'],
    ['the last tab closed longer ago than the grace time: offline', { tabs: [tab({ closedAt: now - 30_000 })] }, 'offline'],
    ['a stream not refreshed (its process died): there until stale plus grace', { tabs: [tab({ lastSeen: now - 74_000 })] }, 'online'],
    ['a stream not refreshed past stale plus grace: offline', { tabs: [tab({ lastSeen: now - 75_000 })] }, 'offline'],
    ['a close written late after a stall does not extend a stale stream', { tabs: [tab({ lastSeen: now - 80_000, closedAt: now - 1_000 })] }, 'offline'],
    ['a manual choice holds whatever the tabs say', { manual: 'away', tabs: [tab()] }, 'away'],
    ['a manual online holds with no tab', { manual: 'online', tabs: [] }, 'online'],
  ])('%s', (_name, input, expected) => {
    expect(presenceOf({ manual: input.manual ?? null, tabs: input.tabs, now, settings })).toBe(expected);
  });

  const arbTab = fc.record({
    openedAt: fc.integer({ min: now - 4_000_000, max: now }),
    lastSeen: fc.integer({ min: now - 200_000, max: now }),
    closedAt: fc.option(fc.integer({ min: now - 200_000, max: now }), { nil: null }),
    activity: fc.option(fc.record({ active: fc.boolean(), at: fc.integer({ min: now - 4_000_000, max: now }) }), { nil: null }),
  });

  test('a manual choice is always the answer; without one, offline exactly when no tab is within its grace time', () => {
    fc.assert(
      fc.property(fc.array(arbTab, { maxLength: 5 }), fc.option(fc.constantFrom<Presence>('online', 'away', 'offline'), { nil: null }), (tabs, manual) => {
        const presence = presenceOf({ manual, tabs, now, settings });
        if (manual !== null) return presence === manual;
        const there = tabs.some((t) => now < Math.min(t.closedAt ?? Infinity, t.lastSeen + settings.tabStaleMs) + settings.offlineGraceMs);
        return (presence === 'offline') === !there;
      }),
    );
  });

  test('adding a tab never makes a user less present, and one more active heartbeat never makes them away', () => {
    const rank: Record<Presence, number> = { offline: 0, away: 1, online: 2 };
    fc.assert(
      fc.property(fc.array(arbTab, { maxLength: 4 }), arbTab, (tabs, extra) => {
        const before = presenceOf({ manual: null, tabs, now, settings });
        const after = presenceOf({ manual: null, tabs: [...tabs, extra], now, settings });
        const fresh = presenceOf({ manual: null, tabs: [...tabs, { ...extra, lastSeen: now, closedAt: null, activity: { active: true, at: now } }], now, settings });
        return rank[after] >= rank[before] && fresh === 'online';
      }),
    );
  });
});
