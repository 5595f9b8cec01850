import type { Conversation, User } from './api';
import { relativeTime } from './time';

/**
 * The conversations of the current tab, newest activity first. Arrow keys move between them, Enter
 * opens one (and moves focus to it); Home and End jump to the ends.
 */
export function ConversationList(props: {
  items: Conversation[];
  selectedId: string | null;
  users: User[];
  onSelect: (id: string) => void;
  hasMore: boolean;
  onMore: () => void;
}) {
  const nameOf = (id: string | null) => (id ? (props.users.find((u) => u.id === id)?.name ?? id) : null);
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
      <ul id="conversation-list" class="list" aria-label="Conversations" onKeyDown={onKeyDown}>
        {props.items.length === 0 && <li class="empty">No conversations here.</li>}
        {props.items.map((c) => {
          const assignee = nameOf(c.assigneeId);
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
                {c.unreadCount > 0 && (
                  <span class="unread" aria-label={`${c.unreadCount} unread`}>
                    {c.unreadCount}
                  </span>
                )}
                <span class="meta">
                  <span class="channel" title="Channel">
                    {c.channel}
                  </span>
                  <span class={`status status-${c.status}`}>{c.status.replace('_', ' ')}</span>
                  {assignee && <span class="assignee">→ {assignee}</span>}
                  <time dateTime={c.lastActivityAt ?? undefined}>{relativeTime(c.lastActivityAt)}</time>
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
