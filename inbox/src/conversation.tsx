import { useEffect, useRef, useState } from 'preact/hooks';
import type { Action } from './actions';
import { actionsFor } from './actions';
import type { Api, Me, Message, Selected, Transition, User } from './api';
import { ApiFailure } from './api';
import { clock, timeLeft } from './time';

const ticks: Record<string, { mark: string; label: string }> = {
  queued: { mark: '🕓', label: 'queued' },
  sent: { mark: '✓', label: 'sent' },
  delivered: { mark: '✓✓', label: 'delivered' },
  read: { mark: '✓✓', label: 'read' },
  failed: { mark: '!', label: 'failed' },
};

function Body({ m }: { m: Message }) {
  const media = m.content?.media;
  if (m.kind === 'template') return <p class="text template">Template “{m.template?.name}”{m.template?.language ? ` (${m.template.language})` : ''}</p>;
  if (media) {
    const icon = { image: '🖼', video: '🎬', audio: '🎵', document: '📄', sticker: '🏷' }[m.kind] ?? '📎';
    return (
      <p class="text media">
        <span aria-hidden="true">{icon}</span> {m.kind}
        {media.filename ? `: ${media.filename}` : ''} {media.caption ?? m.text ?? ''}
      </p>
    );
  }
  if (m.content?.location) {
    const l = m.content.location;
    return (
      <p class="text">
        📍 {l.name ?? 'Location'} {l.address ?? ''} ({l.latitude.toFixed(4)}, {l.longitude.toFixed(4)})
      </p>
    );
  }
  if (m.content?.reaction) return <p class="text">Reacted {m.content.reaction.emoji || '(removed)'}</p>;
  if (m.content?.contacts) return <p class="text">👤 shared {m.content.contacts.length} contact(s)</p>;
  return <p class="text">{m.text ?? `(${m.kind})`}</p>;
}

function TimelineMessage({ m, nameOf }: { m: Message; nameOf: (id: string | null) => string }) {
  const tick = m.delivery ? ticks[m.delivery.status] : undefined;
  return (
    <li class={`msg ${m.direction}`} data-message-id={m.messageId}>
      <Body m={m} />
      <span class="msg-meta">
        {m.direction === 'outbound' && m.authorId ? `${nameOf(m.authorId)} · ` : ''}
        {clock(m.at)}
        {m.delivery && tick && (
          <span class={`tick tick-${m.delivery.status}`} data-status={m.delivery.status} title={m.delivery.error ? `failed: ${m.delivery.error.message}` : tick.label} aria-label={tick.label}>
            {' '}
            {tick.mark}
            {m.delivery.status === 'failed' && m.delivery.error ? ` ${m.delivery.error.message}` : ''}
          </span>
        )}
      </span>
    </li>
  );
}

function TimelineTransition({ t, nameOf }: { t: Transition; nameOf: (id: string | null) => string }) {
  const who = t.actor.kind === 'user' ? nameOf(t.actor.id) : t.actor.kind;
  return (
    <li class="transition">
      {t.from ? `${t.from.replace('_', ' ')} → ` : ''}
      {t.to.replace('_', ' ')} · {t.reason.replace(/_/g, ' ')} · by {who}
      {t.assigneeAfter && t.assigneeAfter !== t.actor.id ? ` (to ${nameOf(t.assigneeAfter)})` : ''} · {clock(t.at)}
    </li>
  );
}

export function ConversationPane({ api, me, preset, users, selected, onBack }: { api: Api; me: Me; preset: string; users: User[]; selected: Selected; onBack: () => void }) {
  const c = selected.conversation;
  const path = `/v1/accounts/${encodeURIComponent(me.accountId)}/conversations/${encodeURIComponent(c.id)}`;
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [assignee, setAssignee] = useState('');
  const [team, setTeam] = useState('');
  const [template, setTemplate] = useState({ name: '', language: 'en' });
  const [tag, setTag] = useState('');
  const [now, setNow] = useState(Date.now());
  const timeline = useRef<HTMLOListElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // Mounted once per conversation opened (the pane is keyed by its id): where keyboard focus goes.
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    timeline.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [selected.messages.length, selected.transitions.length, c.id]);

  const nameOf = (id: string | null) => (id === me.userId ? 'you' : (users.find((u) => u.id === id)?.name ?? id ?? 'system'));
  const run = async (what: string, fn: () => Promise<unknown>) => {
    setError(null);
    setNotice(null);
    try {
      await fn();
      setNotice(`${what}: done`);
      return true;
    } catch (e) {
      setError(e instanceof ApiFailure ? `${what} refused: ${e.message}` : `${what} failed: ${String(e)}`);
      return false;
    }
  };
  const act = (action: Action) => {
    if (action.kind === 'claim') return run('Claim', () => api.post(`${path}/assign`, { assigneeId: me.userId }));
    if (action.kind === 'simple') return run(action.label, () => api.post(`${path}/${action.route}`));
    return undefined;
  };

  const left = timeLeft(c.windowExpiresAt, now);
  const closed = c.status === 'closed' || c.status === 'resolved';
  const windowOpen = !closed && left !== null;
  const actions = actionsFor(me, preset, c);
  const items = [...selected.messages.map((m) => ({ at: m.at, key: `m${m.messageId}`, m })), ...selected.transitions.map((t) => ({ at: t.at, key: `t${t.seq}`, t }))].sort(
    (a, b) => a.at.localeCompare(b.at),
  );

  return (
    <div class="conversation" onKeyDown={(e) => e.key === 'Escape' && onBack()}>
      <div class="conv-head">
        <button type="button" class="back" onClick={onBack} aria-label="Back to the list">
          ←
        </button>
        <h2 tabIndex={-1} ref={heading}>{c.customerName ?? `+${c.customer}`}</h2>
        <span class="meta">
          +{c.customer} · {c.channel} · <span class={`status status-${c.status}`}>{c.status.replace('_', ' ')}</span>
          {c.assigneeId ? ` · ${nameOf(c.assigneeId)}` : ''}
          {c.tags.length > 0 ? ` · tags: ${c.tags.join(', ')}` : ''}
        </span>
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
            void run('Tag', () => api.post(`${path}/tags`, { add: [tag] })).then((ok) => ok && setTag(''));
          }}
        >
          <input aria-label="Add a tag" placeholder="tag" value={tag} onInput={(e) => setTag(e.currentTarget.value)} />
          <button type="submit" disabled={!tag}>
            Add tag
          </button>
        </form>
      </div>
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
      <ol class="timeline" ref={timeline} aria-label="Timeline" tabIndex={0}>
        {items.map((item) => ('m' in item ? <TimelineMessage key={item.key} m={item.m} nameOf={nameOf} /> : <TimelineTransition key={item.key} t={item.t} nameOf={nameOf} />))}
      </ol>
      <div class="composer">
        <p class={`window ${windowOpen ? 'open' : 'closed'}`} role="status">
          {closed
            ? 'This conversation is closed: send a template to write to the customer again.'
            : windowOpen
              ? `Reply window closes in ${left}`
              : 'The 24-hour window has closed: free-form replies are refused until the customer writes again. Send a template instead.'}
        </p>
        {/* Shown with the window closed too: the API's refusal, in its words, says what to do. */}
        {!closed && (
          <form
            class="reply"
            onSubmit={(e) => {
              e.preventDefault();
              void run('Reply', () => api.post(`${path}/replies`, { text })).then((ok) => ok && setText(''));
            }}
          >
            <label for="reply-text" class="visually-hidden">
              Reply
            </label>
            <textarea
              id="reply-text"
              placeholder={windowOpen ? 'Write a reply… (Ctrl+Enter sends)' : 'Free-form replies are refused now'}
              value={text}
              rows={2}
              onInput={(e) => setText(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) (e.currentTarget.form as HTMLFormElement).requestSubmit();
              }}
            />
            <button type="submit" disabled={text.trim() === ''}>
              Send
            </button>
          </form>
        )}
        <details class="template-box" open={!windowOpen}>
          <summary>Send a template</summary>
          <form
            class="template"
            onSubmit={(e) => {
              e.preventDefault();
              void run('Template', () => api.post(`${path}/templates`, { name: template.name, language: template.language || undefined }));
            }}
          >
            <label>
              Template name
              <input value={template.name} onInput={(e) => setTemplate({ ...template, name: e.currentTarget.value })} />
            </label>
            <label>
              Language
              <input value={template.language} size={5} onInput={(e) => setTemplate({ ...template, language: e.currentTarget.value })} />
            </label>
            <button type="submit" disabled={!template.name}>
              Send template
            </button>
          </form>
        </details>
      </div>
    </div>
  );
}
