import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api';
import type { CannedResponse } from './canned';
import { moveActive, pickerQueryOf } from './canned';

/**
 * The `/` picker (SPEC 10): typing `/` in the reply box lists the caller's canned responses, searched as
 * they type; arrows move, Enter or a click chooses, Escape closes. The reply box keeps the focus; the
 * list is its `aria-activedescendant` listbox. The composer decides what a choice does (inbox/src/canned.ts).
 */
export function useCannedPicker(options: { api: Api; accountId: string; draft: string; onChoose: (response: CannedResponse) => void }) {
  const { api, accountId, draft } = options;
  const query = pickerQueryOf(draft);
  const [items, setItems] = useState<CannedResponse[]>([]);
  const [active, setActive] = useState(0);
  const [failed, setFailed] = useState(false);
  // Closed by Escape for this draft: typing anything else opens it again.
  const [dismissedFor, setDismissedFor] = useState<string | null>(null);
  // Answers can arrive out of order while typing: only the latest request's answer is shown.
  const latest = useRef(0);
  const open = query !== null && dismissedFor !== draft;

  useEffect(() => {
    if (query === null) return;
    const request = ++latest.current;
    api
      .get<{ items: CannedResponse[] }>(`/v1/accounts/${encodeURIComponent(accountId)}/canned-responses?q=${encodeURIComponent(query)}`)
      .then(
        (answer) => {
          if (request !== latest.current) return;
          setItems(answer.items);
          setActive(0);
          setFailed(false);
        },
        () => {
          if (request === latest.current) setFailed(true);
        },
      );
  }, [query, accountId]);

  /** Keys the picker takes while open; true when it took the key (the reply box must not act on it). */
  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (!open) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setActive(moveActive(active, items.length, e.key === 'ArrowDown' ? 1 : -1));
      return true;
    }
    const chosen = items[active];
    if (e.key === 'Enter' && !e.shiftKey && chosen) {
      e.preventDefault();
      options.onChoose(chosen);
      return true;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setDismissedFor(draft);
      return true;
    }
    return false;
  };

  const listId = 'canned-picker';
  const optionId = (i: number) => `canned-option-${i}`;
  const textareaProps = open
    ? { 'aria-controls': listId, 'aria-expanded': true, 'aria-autocomplete': 'list' as const, 'aria-activedescendant': items[active] ? optionId(active) : undefined }
    : {};

  const view: JSX.Element | null = !open ? null : (
    <div class="canned-picker">
      {failed ? (
        <p class="hint" role="status">
          Canned responses could not be loaded.
        </p>
      ) : items.length === 0 ? (
        <p class="hint" role="status">
          No canned response starts with “{query}”.
        </p>
      ) : (
        <ul id={listId} role="listbox" aria-label="Canned responses">
          {items.map((item, i) => (
            <li
              key={`${item.scope}/${item.shortCode}`}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              class={i === active ? 'active' : undefined}
              // mousedown, not click: the reply box keeps its focus.
              onMouseDown={(e) => {
                e.preventDefault();
                options.onChoose(item);
              }}
            >
              <span class="code">/{item.shortCode}</span> <span class="title">{item.title}</span>
              {item.scope === 'personal' && <span class="scope"> · yours</span>}
              <span class="text">{item.text}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );

  return { open, onKeyDown, textareaProps, view };
}
