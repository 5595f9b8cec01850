import { useEffect, useRef, useState } from 'preact/hooks';
import type { Action } from './actions';
import { actionsFor } from './actions';
import type { Api, Me, Selected, User } from './api';
import { ApiFailure } from './api';
import { ComposerWithNotes } from './note-composer';
import type { Drafts } from './drafts';
import { useNow } from './now';
import { Timeline } from './timeline';
import type { BusinessHours } from './snooze';
import { customUntil, snoozeChoices } from './snooze';
import { clockTime, describeRefusal, slaBadge, snoozedWords } from './words';

/** SPEC 9's priorities, most pressing first (the SLA targets of each are in the account's policy). */
const priorities = ['urgent', 'high', 'normal', 'low'] as const;

/** What the API takes as a tag (api/schemas.ts), checked before sending so the refusal is in words. */
const tagPattern = /^[\p{L}\p{N}_ .:-]{1,64}$/u;

export function ConversationPane(props: {
  api: Api;
  me: Me;
  preset: string;
  serviceWindow: string;
  users: User[];
  selected: Selected;
  drafts: Drafts;
  timeZone?: string;
  /** The account's business hours (SPEC 9), for the snooze menu's "Tomorrow 9:00"; null: always open. */
  businessHours?: BusinessHours | null;
  /** Reads the records before the first shown (when `selected.earlier`). */
  onEarlier: () => Promise<void>;
  onBack: () => void;
}) {
  const { api, me, preset, users, selected, onBack } = props;
  const c = selected.conversation;
  // Seconds matter in a window's last minutes and in an SLA countdown: the page's one clock (now.ts).
  const now = useNow();
  const headBadge = slaBadge(c, now, clockTime);
  const path = `/v1/accounts/${encodeURIComponent(me.accountId)}/conversations/${encodeURIComponent(c.id)}`;
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [assignee, setAssignee] = useState('');
  const [team, setTeam] = useState('');
  const [tag, setTag] = useState('');
  /** The priority chosen and on its way: shown until the view says it (or the API refuses it). */
  const [pendingPriority, setPendingPriority] = useState<string | null>(null);
  useEffect(() => setPendingPriority((p) => (p === c.priority ? null : p)), [c.priority]);
  const [snoozeOpen, setSnoozeOpen] = useState(false);
  const [snoozeAt, setSnoozeAt] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  // Mounted once per conversation opened (the pane is keyed by its id): where keyboard focus goes.
  useEffect(() => heading.current?.focus(), []);

  const nameOf = (id: string | null) => (id === me.userId ? 'you' : (users.find((u) => u.id === id)?.name ?? id ?? 'nobody'));
  const run = async (what: string, fn: () => Promise<unknown>) => {
    setError(null);
    setNotice(null);
    try {
      await fn();
      setNotice(`${what}: done`);
      return true;
    } catch (e) {
      setError(e instanceof ApiFailure ? `${what} refused: ${describeRefusal(e, nameOf)}` : `${what} failed: the server could not be reached.`);
      return false;
    }
  };
  const act = (action: Action) => {
    if (action.kind === 'claim') return run('Claim', () => api.post(`${path}/assign`, { assigneeId: me.userId }));
    if (action.kind === 'simple') return run(action.label, () => api.post(`${path}/${action.route}`));
    return undefined;
  };
  const addTag = () => {
    const value = tag.trim();
    if (!tagPattern.test(value)) {
      setNotice(null);
      setError('A tag is 1 to 64 letters, digits, spaces or _ . : - (no emoji or other symbols).');
      return;
    }
    void run('Tag', () => api.post(`${path}/tags`, { add: [value] })).then((ok) => ok && setTag(''));
  };

  const actions = actionsFor(me, preset, c);
  const snooze = (until: string) =>
    void run('Snooze', () => api.post(`${path}/snooze`, { until })).then((ok) => {
      if (ok) setSnoozeOpen(false);
    });
  const windowOpen = c.windowExpiresAt !== null && Date.parse(c.windowExpiresAt) > now;
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const snoozed = snoozedWords(c, props.timeZone);

  return (
    <div
      class="conversation"
      onKeyDown={(e) => {
        // Escape goes back to the list, except from a field, where it only leaves the field (drafts stay).
        const field = (e.target as HTMLElement).closest('input, textarea, select');
        if (e.key === 'Escape' && !field) onBack();
      }}
    >
      <div class="conv-head">
        <button type="button" class="back" onClick={onBack} aria-label="Back to the list">
          ←
        </button>
        <h2 tabIndex={-1} ref={heading}>{c.customerName ?? `+${c.customer}`}</h2>
        <span class="meta">
          +{c.customer} · {c.channel} · <span class={`status status-${c.status}`}>{c.status.replace('_', ' ')}</span>
          {snoozed && <span class="snoozed-until"> {snoozed}</span>}
          {c.assigneeId ? ` · held by ${nameOf(c.assigneeId)}` : ''}
          {c.tags.length > 0 ? ` · tags: ${c.tags.join(', ')}` : ''}
          {headBadge && (
            <>
              {' · '}
              <span class={`sla sla-${headBadge.kind}`} title={headBadge.title}>
                {headBadge.text}
              </span>
            </>
          )}
        </span>
        <label class="priority-control">
          <span aria-hidden="true">Priority </span>
          <select
            aria-label="Priority"
            value={pendingPriority ?? c.priority ?? 'normal'}
            onChange={(e) => {
              const priority = e.currentTarget.value;
              setPendingPriority(priority);
              void run('Priority', () => api.post(`${path}/priority`, { priority })).then((ok) => ok || setPendingPriority(null));
            }}
          >
            {priorities.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="actions" role="group" aria-label="Actions">
        {actions.map((a) =>
          a.kind === 'assign' ? (
            <form
              key="assign"
              class="inline"
              onSubmit={(e) => {
                e.preventDefault();
                void run('Assign', () => api.post(`${path}/assign`, { assigneeId: assignee }));
              }}
            >
              <label>
                <span class="visually-hidden">Assign to</span>
                <select aria-label="Assign to" value={assignee} onChange={(e) => setAssignee(e.currentTarget.value)}>
                  <option value="">Assign to…</option>
                  {users
                    .filter((u) => u.active)
                    .map((u) => (
                      <option key={u.id} value={u.id}>
                        {u.name} ({u.role}, {u.presence})
                      </option>
                    ))}
                </select>
              </label>
              <button type="submit" disabled={!assignee}>
                Assign
              </button>
            </form>
          ) : a.kind === 'transfer' ? (
            <form
              key="transfer"
              class="inline"
              onSubmit={(e) => {
                e.preventDefault();
                void run('Transfer', () => api.post(`${path}/transfer`, { team }));
              }}
            >
              <input aria-label="Team to transfer to" placeholder="team" value={team} onInput={(e) => setTeam(e.currentTarget.value)} />
              <button type="submit" disabled={!team}>
                Transfer
              </button>
            </form>
          ) : a.kind === 'snooze' ? (
            <button key="snooze" type="button" aria-expanded={snoozeOpen} aria-controls="snooze-menu" onClick={() => setSnoozeOpen(!snoozeOpen)}>
              {a.label}
            </button>
          ) : (
            <button key={a.label} type="button" onClick={() => void act(a)}>
              {a.label}
            </button>
          ),
        )}
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            addTag();
          }}
        >
          <input aria-label="Add a tag" placeholder="tag" value={tag} maxLength={64} onInput={(e) => setTag(e.currentTarget.value)} />
          <button type="submit" disabled={!tag}>
            Add tag
          </button>
        </form>
      </div>
      {snoozeOpen && actions.some((a) => a.kind === 'snooze') && (
        <div id="snooze-menu" class="snooze-menu" role="group" aria-label="Snooze until">
          {snoozeChoices(now, props.businessHours ?? null, browserZone, windowOpen).map((choice) => (
            <button key={choice.id} type="button" title={choice.until.includes('T') ? new Date(choice.until).toLocaleString() : choice.until} onClick={() => snooze(choice.until)}>
              {choice.label}
            </button>
          ))}
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              const until = customUntil(snoozeAt);
              if (until) snooze(until);
            }}
          >
            <input type="datetime-local" aria-label="Snooze until (date and time)" value={snoozeAt} onInput={(e) => setSnoozeAt(e.currentTarget.value)} />
            <button type="submit" disabled={!customUntil(snoozeAt)}>
              Snooze
            </button>
          </form>
        </div>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {notice && !error && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      <Timeline messages={selected.messages} transitions={selected.transitions} nameOf={nameOf} now={now} timeZone={props.timeZone} onEarlier={selected.earlier ? props.onEarlier : undefined} />
      <ComposerWithNotes
        api={api}
        me={me}
        users={users}
        conversation={c}
        path={path}
        serviceWindow={props.serviceWindow}
        drafts={props.drafts}
        now={now}
        onError={setError}
        onNotice={setNotice}
        onSent={() => undefined}
      />
    </div>
  );
}
