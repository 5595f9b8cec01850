import { useEffect, useRef, useState } from 'preact/hooks';
import type { Conversation, Me, User } from './api';
import type { ListFilters } from './filters';
import { filterQuery, noFilters } from './filters';
import { useNow } from './now';
import { relativeTime } from './time';
import { clockTime, slaBadge, snoozedWords } from './words';

/**
 * A filter typed by hand: applied a moment after typing stops (and at once on Enter or leaving the
 * field), so the list follows what is typed without a request per key.
 */
function TypedFilter({ label, value, list, onValue }: { label: string; value: string; list?: string; onValue: (v: string) => void }) {
  const [text, setText] = useState(value);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => setText(value), [value]);
  useEffect(() => () => clearTimeout(timer.current), []);
  const apply = (v: string) => {
    clearTimeout(timer.current);
    if (v.trim() !== value) onValue(v.trim());
  };
  return (
    <input
      aria-label={label}
      list={list}
      value={text}
      maxLength={64}
      onInput={(e) => {
        const v = e.currentTarget.value;
        setText(v);
        clearTimeout(timer.current);
        timer.current = window.setTimeout(() => apply(v), 400);
      }}
      onChange={(e) => apply(e.currentTarget.value)}
    />
  );
}

function Filters({ filters, onFilters, users, items, tab }: { filters: ListFilters; onFilters: (f: ListFilters) => void; users: User[]; items: Conversation[]; tab: string }) {
  const teams = [...new Set(users.flatMap((u) => u.teams ?? []))].sort();
  const channels = [...new Set(items.map((c) => c.channel))].sort();
  const set = (patch: Partial<ListFilters>) => onFilters({ ...filters, ...patch });
  const active = filterQuery(filters) !== '';
  return (
    <details class="filters">
      <summary>
        Filter and sort{active ? ' (on)' : ''}
      </summary>
      <div class="filter-grid">
        {tab !== 'mine' && (
          <label>
            Assignee
            <select aria-label="Assignee" value={filters.assignee} onChange={(e) => set({ assignee: e.currentTarget.value })}>
              <option value="">Anyone</option>
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Team
          <select aria-label="Team" value={filters.team} onChange={(e) => set({ team: e.currentTarget.value })}>
            <option value="">Any team</option>
            {teams.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <TypedFilter label="Channel" list="channels-seen" value={filters.channel} onValue={(channel) => set({ channel })} />
          <datalist id="channels-seen">
            {channels.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </label>
        <label>
          Tag
          <TypedFilter label="Tag" value={filters.tag} onValue={(tag) => set({ tag })} />
        </label>
        <label>
          Sort
          <select aria-label="Sort" value={filters.sort} onChange={(e) => set({ sort: e.currentTarget.value as ListFilters['sort'] })}>
            <option value="newest">Newest activity first</option>
            <option value="oldest_waiting">Waiting longest first</option>
          </select>
        </label>
        {active && (
          <button type="button" class="link" onClick={() => onFilters(noFilters)}>
            Clear filters
          </button>
        )}
      </div>
    </details>
  );
}

/**
 * The conversations of the current tab. Arrow keys move between them, Enter opens one; Home and End
 * jump to the ends. Each row: the customer, the last message, when, who holds it and its tags.
 */
export function ConversationList(props: {
  items: Conversation[];
  me: Me;
  selectedId: string | null;
  users: User[];
  filters: ListFilters;
  onFilters: (f: ListFilters) => void;
  onSelect: (id: string) => void;
  hasMore: boolean;
  onMore: () => void;
  tab?: string;
}) {
  // One clock for every row's SLA countdown, ticking only while some row counts down; each render reads
  // the time itself, so a row that arrives between ticks starts from the right second.
  useNow(props.items.some((c) => slaBadge(c, Date.now(), clockTime)?.kind === 'due'));
  const now = Date.now();
  const nameOf = (id: string | null) => (id ? (id === props.me.userId ? 'you' : (props.users.find((u) => u.id === id)?.name ?? id)) : null);
  const onKeyDown = (event: KeyboardEvent) => {
    const buttons = [...(event.currentTarget as HTMLElement).querySelectorAll<HTMLButtonElement>('button.item')];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const go = (i: number) => {
      event.preventDefault();
      buttons[Math.max(0, Math.min(buttons.length - 1, i))]?.focus();
    };
    if (event.key === 'ArrowDown') go(at + 1);
    else if (event.key === 'ArrowUp') go(at - 1);
    else if (event.key === 'Home') go(0);
    else if (event.key === 'End') go(buttons.length - 1);
  };
  return (
    <div>
      <Filters filters={props.filters} onFilters={props.onFilters} users={props.users} items={props.items} tab={props.tab ?? ''} />
      <ul id="conversation-list" class="list" aria-label="Conversations" onKeyDown={onKeyDown} tabIndex={-1}>
        {props.items.length === 0 && <li class="empty">No conversations here.</li>}
        {props.items.map((c) => {
          const assignee = nameOf(c.assigneeId);
          const unread = c.assigneeId === props.me.userId ? (c.unreadForMe ?? c.unreadCount) : c.unreadCount;
          const last = c.lastMessage;
          const when = last?.at ?? c.lastActivityAt;
          const badge = slaBadge(c, now, clockTime);
          return (
            <li key={c.id}>
              <button
                type="button"
                class={`item${c.id === props.selectedId ? ' selected' : ''}`}
                data-id={c.id}
                aria-current={c.id === props.selectedId ? 'true' : undefined}
                onClick={() => props.onSelect(c.id)}
              >
                <span class="name">{c.customerName ?? `+${c.customer}`}</span>
                <time dateTime={when ?? undefined} class="when">
                  {relativeTime(when)}
                </time>
                <span class="preview">
                  {last ? (
                    <>
                      {last.direction === 'outbound' ? <span class="you-said">↩ </span> : null}
                      {last.text}
                    </>
                  ) : (
                    ''
                  )}
                </span>
                {unread > 0 ? (
                  <span class="unread" aria-label={`${unread} unread`}>
                    {unread}
                  </span>
                ) : (
                  <span />
                )}
                <span class="meta">
                  <span class="channel" title="Channel">
                    {c.channel}
                  </span>
                  <span class={`status status-${c.status}`}>{c.status.replace('_', ' ')}</span>
                  {snoozedWords(c) && <span class="snoozed-until">{snoozedWords(c)}</span>}
                  {assignee && <span class="assignee">{assignee === 'you' ? 'yours' : `held by ${assignee}`}</span>}
                  {c.team && <span class="team">team {c.team}</span>}
                  {c.priority && c.priority !== 'normal' && <span class={`priority priority-${c.priority}`}>{c.priority}</span>}
                  {badge && (
                    <span class={`sla sla-${badge.kind}`} title={badge.title}>
                      {badge.text}
                    </span>
                  )}
                  {c.tags.map((t) => (
                    <span key={t} class="tag">
                      {t}
                    </span>
                  ))}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {props.hasMore && (
        <button type="button" class="more" onClick={props.onMore}>
          Load more
        </button>
      )}
    </div>
  );
}
