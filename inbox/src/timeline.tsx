import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { InteractiveMessage, Message, Transition } from './api';
import { mediaUrlOf } from './api';
import { clock, dayKey, dayLabel, fullTime } from './time';
import { describeTransition } from './words';

const ticks: Record<string, { mark: string; label: string }> = {
  queued: { mark: '🕓', label: 'queued' },
  sent: { mark: '✓', label: 'sent' },
  delivered: { mark: '✓✓', label: 'delivered' },
  read: { mark: '✓✓', label: 'read' },
  failed: { mark: '!', label: 'failed' },
};

type NameOf = (id: string | null) => string;

/** A note's words, with each `@userId` it mentions shown as the user's name (SPEC 10). */
function NoteText({ m, nameOf }: { m: Message; nameOf: NameOf }) {
  const mentioned = new Set(m.mentions ?? []);
  const parts = (m.text ?? '').split(/(@[A-Za-z0-9][A-Za-z0-9_.-]*)/);
  return (
    <p class="text">
      <span class="note-label">Note</span>{' '}
      {parts.map((part, i) => {
        if (!part.startsWith('@')) return part;
        // "ask @ana." ends a sentence: the "." is not part of the id (as mentions.ts reads it).
        let id = part.slice(1);
        while (!mentioned.has(id) && /[.-]$/.test(id)) id = id.slice(0, -1);
        if (!mentioned.has(id)) return part;
        return [
          <mark key={i} class="mention" title={`@${id}`}>
            @{nameOf(id)}
          </mark>,
          part.slice(1 + id.length),
        ];
      })}
    </p>
  );
}

function Body({ m }: { m: Message }) {
  const media = m.content?.media;
  if (m.kind === 'template') return <p class="text template">Template “{m.template?.name}”{m.template?.language ? ` (${m.template.language})` : ''}</p>;
  // A file kept by convoflow (SPEC 10) is shown where it is: pictures inline, sound and video playable
  // (served in byte ranges), documents as a download. The session cookie goes with these requests.
  const src = mediaUrlOf(m);
  if (media && src) {
    const caption = media.caption ?? m.text ?? '';
    const captionShown = caption ? <figcaption class="text">{caption}</figcaption> : null;
    if (m.kind === 'image' || m.kind === 'sticker') {
      return (
        <figure class="media">
          <a href={src} target="_blank" rel="noopener">
            <img src={src} alt={caption || m.kind} loading="lazy" />
          </a>
          {captionShown}
        </figure>
      );
    }
    if (m.kind === 'audio') {
      return (
        <figure class="media">
          <audio controls preload="metadata" src={src} />
          {captionShown}
        </figure>
      );
    }
    if (m.kind === 'video') {
      return (
        <figure class="media">
          <video controls preload="metadata" src={src} />
          {captionShown}
        </figure>
      );
    }
    return (
      <p class="text media">
        <span aria-hidden="true">📄</span>{' '}
        <a href={src} download={media.filename ?? ''}>
          {media.filename ?? 'document'}
        </a>{' '}
        {caption}
      </p>
    );
  }
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
  if (m.content?.interactive) return <Interactive message={m.content.interactive} />;
  if (m.content?.reaction) return <p class="text">Reacted {m.content.reaction.emoji || '(removed)'}</p>;
  if (m.content?.contacts) return <p class="text">👤 shared {m.content.contacts.length} contact(s)</p>;
  return <p class="text">{m.text ?? `(${m.kind})`}</p>;
}

/** SPEC 10: reply buttons or a list as the customer sees them: the body, then the choices (not clickable here). */
function Interactive({ message }: { message: InteractiveMessage }) {
  switch (message.type) {
    case 'button':
      return (
        <div class="text interactive" data-interactive="button">
          <p>{message.body}</p>
          <ul class="choices" aria-label="Buttons the customer can tap">
            {message.buttons.map((b) => (
              <li key={b.id} class="choice">
                {b.title}
              </li>
            ))}
          </ul>
        </div>
      );
    case 'list':
      return (
        <div class="text interactive" data-interactive="list">
          <p>{message.body}</p>
          <details class="choices">
            <summary>☰ {message.button}</summary>
            {message.sections.map((section, i) => (
              <section key={i} aria-label={section.title ?? message.button}>
                {section.title && <h4>{section.title}</h4>}
                <ul>
                  {section.rows.map((row) => (
                    <li key={row.id} class="choice">
                      {row.title}
                      {row.description ? <small> — {row.description}</small> : null}
                    </li>
                  ))}
                </ul>
              </section>
            ))}
          </details>
        </div>
      );
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
}

/**
 * When a message was written: the customer's own time for what they sent (a message queued on their
 * phone for a day shows that day), ours for what the business sent. The other time is in the hover text.
 */
export const shownTime = (m: Message) => (m.direction === 'inbound' && m.sentAt ? m.sentAt : m.at);

function TimelineMessage({ m, nameOf, timeZone }: { m: Message; nameOf: NameOf; timeZone?: string }) {
  const tick = m.delivery ? ticks[m.delivery.status] : undefined;
  const shown = shownTime(m);
  const hover =
    m.direction === 'inbound' && m.sentAt && m.sentAt !== m.at
      ? `Sent by the customer ${fullTime(m.sentAt, timeZone)} · received ${fullTime(m.at, timeZone)}`
      : `${m.direction === 'inbound' ? 'Received' : m.direction === 'internal' ? 'Noted' : 'Sent'} ${fullTime(m.at, timeZone)}`;
  return (
    <li class={`msg ${m.direction}${m.kind === 'note' ? ' note' : ''}`} data-message-id={m.messageId} aria-label={m.kind === 'note' ? `Internal note by ${nameOf(m.authorId)}` : undefined}>
      {m.kind === 'note' ? <NoteText m={m} nameOf={nameOf} /> : <Body m={m} />}
      <span class="msg-meta">
        {/* A business message with no author is the system's: out of office (SPEC 9), a survey, a broadcast. */}
        {m.direction === 'outbound' ? (m.authorId ? `${nameOf(m.authorId)} · ` : 'System · ') : ''}
        {m.direction === 'internal' ? `${nameOf(m.authorId)} · internal · ` : ''}
        <time dateTime={shown} title={hover}>
          {clock(shown, timeZone)}
        </time>
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

type Item = { key: string; at: string; order: number } & ({ m: Message } | { t: Transition });

/**
 * Messages and transitions in one list, in the order they were recorded (messages by their sequence,
 * transitions placed by time), with a separator at each new day of the times shown.
 */
export function timelineItems(messages: Message[], transitions: Transition[]): Item[] {
  const items: Item[] = [
    ...messages.map((m) => ({ key: `m${m.messageId}`, at: m.at, order: m.seq, m })),
    ...transitions.map((t) => ({ key: `t${t.seq}`, at: t.at, order: t.seq, t })),
  ];
  return items.sort((a, b) => a.at.localeCompare(b.at) || ('m' in a === 'm' in b ? a.order - b.order : 'm' in a ? -1 : 1));
}

export function Timeline({
  messages,
  transitions,
  nameOf,
  now,
  timeZone,
  onEarlier,
}: {
  messages: Message[];
  transitions: Transition[];
  nameOf: NameOf;
  now: number;
  timeZone?: string;
  /** Present while earlier records are not loaded: the button at the top reads them. */
  onEarlier?: (() => Promise<void>) | undefined;
}) {
  const list = useRef<HTMLOListElement>(null);
  const [loading, setLoading] = useState(false);
  // Follows new entries only while the reader is at the bottom: reading history is not interrupted.
  const atBottom = useRef(true);
  const count = messages.length + transitions.length;
  useLayoutEffect(() => {
    const el = list.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [count]);
  const onScroll = () => {
    const el = list.current;
    if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };
  let lastDay = '';
  const rows = [];
  for (const item of timelineItems(messages, transitions)) {
    const shown = 'm' in item ? shownTime(item.m) : item.at;
    const day = dayKey(shown, timeZone);
    if (day !== lastDay) {
      lastDay = day;
      rows.push(
        <li key={`d${day}${item.key}`} class="day" role="separator">
          <span>{dayLabel(shown, now, timeZone)}</span>
        </li>,
      );
    }
    rows.push(
      'm' in item ? (
        <TimelineMessage key={item.key} m={item.m} nameOf={nameOf} timeZone={timeZone} />
      ) : (
        <li key={item.key} class="transition">
          {describeTransition(item.t, nameOf)} ·{' '}
          <time dateTime={item.t.at} title={fullTime(item.t.at, timeZone)}>
            {clock(item.t.at, timeZone)}
          </time>
        </li>
      ),
    );
  }
  const earlier = async () => {
    setLoading(true);
    try {
      await onEarlier?.();
    } finally {
      setLoading(false);
    }
  };
  return (
    <ol class="timeline" ref={list} aria-label="Timeline" tabIndex={0} onScroll={onScroll}>
      {onEarlier && (
        <li class="earlier">
          <button type="button" class="link" disabled={loading} onClick={() => void earlier()}>
            {loading ? 'Loading earlier messages…' : 'Show earlier messages'}
          </button>
        </li>
      )}
      {rows}
    </ol>
  );
}
