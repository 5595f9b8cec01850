import type { Conversation } from './api';

/** What narrows the list, beyond the tab; each is a query parameter of the list route. */
export interface ListFilters {
  assignee: string;
  team: string;
  channel: string;
  tag: string;
  sort: 'newest' | 'oldest_waiting';
}

export const noFilters: ListFilters = { assignee: '', team: '', channel: '', tag: '', sort: 'newest' };

export function filterQuery(f: ListFilters): string {
  const params = new URLSearchParams();
  if (f.assignee) params.set('assignee', f.assignee);
  if (f.team) params.set('team', f.team);
  if (f.channel) params.set('channel', f.channel);
  if (f.tag) params.set('tag', f.tag);
  if (f.sort !== 'newest') params.set('sort', f.sort);
  const s = params.toString();
  return s ? `&${s}` : '';
}

/** The same filter as the route's, for conversations that arrive on the stream. */
export function inFilters(f: ListFilters, c: Conversation): boolean {
  if (f.assignee && c.assigneeId !== f.assignee) return false;
  if (f.team && (c.team ?? null) !== f.team) return false;
  if (f.channel && c.channel !== f.channel) return false;
  if (f.tag && !c.tags.includes(f.tag)) return false;
  if (f.sort === 'oldest_waiting' && !c.waitingSince) return false;
  return true;
}

/** The route's order: newest activity first, or the customer who has waited longest first. */
export function compareFor(f: ListFilters): (a: Conversation, b: Conversation) => number {
  if (f.sort === 'oldest_waiting') return (a, b) => (a.waitingSince ?? '').localeCompare(b.waitingSince ?? '') || a.id.localeCompare(b.id);
  return (a, b) => (b.lastActivityAt ?? '').localeCompare(a.lastActivityAt ?? '') || b.id.localeCompare(a.id);
}
