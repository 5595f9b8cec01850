/**
 * Where the page is, in its URL: `/app/?tab=mine&c=<conversation id>` (or `&view=settings`). Each tab and each open
 * conversation is a history entry, so Back returns to the previous one and a reload (or a shared link)
 * opens the same place. Pure: test/unit/inbox-url-state.test.ts covers it.
 */
export interface Place {
  tab: string;
  conversationId: string | null;
  /** A page other than the inbox (`?view=settings`: the account's settings, for owners and admins). */
  view?: 'settings' | 'canned' | 'reports';
}

export function parsePlace(search: string, tabs: readonly string[], fallbackTab = 'open'): Place {
  const params = new URLSearchParams(search);
  const tab = params.get('tab');
  const conversationId = params.get('c');
  const place: Place = { tab: tab && tabs.includes(tab) ? tab : fallbackTab, conversationId: conversationId && conversationId.length <= 512 ? conversationId : null };
  if (params.get('view') === 'settings') place.view = 'settings';
  // SPEC 10: managing canned responses (`?view=canned`), for every user.
  if (params.get('view') === 'canned') place.view = 'canned';
  // SPEC 11: the reports page (`?view=reports`), for supervisors.
  if (params.get('view') === 'reports') place.view = 'reports';
  return place;
}

export function placeSearch(place: Place): string {
  const params = new URLSearchParams({ tab: place.tab });
  if (place.conversationId) params.set('c', place.conversationId);
  if (place.view) params.set('view', place.view);
  return `?${params.toString()}`;
}

export const samePlace = (a: Place, b: Place) => a.tab === b.tab && a.conversationId === b.conversationId && a.view === b.view;
