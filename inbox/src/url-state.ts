/**
 * Where the page is, in its URL: `/app/?tab=mine&c=<conversation id>`. Each tab and each open
 * conversation is a history entry, so Back returns to the previous one and a reload (or a shared link)
 * opens the same place. Pure: test/unit/inbox-url-state.test.ts covers it.
 */
export interface Place {
  tab: string;
  conversationId: string | null;
}

export function parsePlace(search: string, tabs: readonly string[], fallbackTab = 'open'): Place {
  const params = new URLSearchParams(search);
  const tab = params.get('tab');
  const conversationId = params.get('c');
  return { tab: tab && tabs.includes(tab) ? tab : fallbackTab, conversationId: conversationId && conversationId.length <= 512 ? conversationId : null };
}

export function placeSearch(place: Place): string {
  const params = new URLSearchParams({ tab: place.tab });
  if (place.conversationId) params.set('c', place.conversationId);
  return `?${params.toString()}`;
}

export const samePlace = (a: Place, b: Place) => a.tab === b.tab && a.conversationId === b.conversationId;
