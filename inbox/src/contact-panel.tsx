import { useEffect, useState } from 'preact/hooks';
import type { Api, ContactProfile } from './api';
import { ApiFailure } from './api';
import { fullTime, relativeTime } from './time';

/**
 * SPEC 11: the contact beside the open conversation (any user): the name, attributes, when the customer
 * was first and last seen, and every conversation of theirs (one per channel) with its status and
 * episode count, each opening it. Edit changes the name and attributes with one PATCH of what changed;
 * what is shown after it is the profile the API answered. The API merges attributes key by key; a saved
 * attribute taken out of the form is sent as `null`, which removes it.
 */

type Row = { key: string; value: string; saved: boolean };

type Load = { state: 'loading' } | { state: 'loaded'; profile: ContactProfile } | { state: 'missing' } | { state: 'failed'; text: string };

export function ContactPanel(props: {
  api: Api;
  accountId: string;
  customer: string;
  /** The conversation open beside it (listed, not a link). */
  conversationId: string;
  /** Changes when the open conversation does (a new message, a status): the profile is read again. */
  version: number;
  onOpen: (conversationId: string) => void;
  /** The contact's name each time the profile is read or saved (null: none), for the list and the header. */
  onName?: (customer: string, name: string | null) => void;
}) {
  const { api, customer, conversationId } = props;
  const path = `/v1/accounts/${encodeURIComponent(props.accountId)}/contacts/${encodeURIComponent(customer)}`;
  // Beside the conversation on a wide screen; on a phone a strip above it, closed until asked (inbox.css).
  const [open, setOpen] = useState(() => !window.matchMedia('(max-width: 760px)').matches);
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [editing, setEditing] = useState<{ name: string; rows: Row[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [tries, setTries] = useState(0);

  useEffect(() => {
    let current = true;
    api.get<ContactProfile>(path).then(
      (profile) => {
        if (!current) return;
        setLoad({ state: 'loaded', profile });
        props.onName?.(customer, profile.name);
      },
      (e: unknown) => {
        if (!current) return;
        if (e instanceof ApiFailure && e.status === 404) setLoad({ state: 'missing' });
        else setLoad({ state: 'failed', text: e instanceof ApiFailure ? e.message : 'The server could not be reached.' });
      },
    );
    return () => {
      current = false;
    };
  }, [api, path, props.version, tries]);

  const startEditing = (profile: ContactProfile) => {
    setError(null);
    setNotice(null);
    setEditing({ name: profile.name ?? '', rows: Object.entries(profile.attributes).map(([key, value]) => ({ key, value, saved: true })) });
  };

  const save = async (profile: ContactProfile, form: { name: string; rows: Row[] }) => {
    setError(null);
    setNotice(null);
    const body: { name?: string; attributes?: Record<string, string | null> } = {};
    const name = form.name.trim();
    if (name !== (profile.name ?? '') && name !== '') body.name = name;
    const attributes: Record<string, string | null> = {};
    const kept = new Set<string>();
    for (const row of form.rows) {
      const key = row.key.trim();
      if (key === '') continue;
      kept.add(key);
      if (!Object.hasOwn(profile.attributes, key) || profile.attributes[key] !== row.value) Object.defineProperty(attributes, key, { value: row.value, enumerable: true });
    }
    for (const key of Object.keys(profile.attributes)) if (!kept.has(key)) Object.defineProperty(attributes, key, { value: null, enumerable: true });
    if (Object.keys(attributes).length > 0) body.attributes = attributes;
    if (Object.keys(body).length === 0) {
      setEditing(null);
      setNotice('Nothing changed.');
      return;
    }
    setSaving(true);
    try {
      const next = await api.patch<ContactProfile>(path, body);
      setLoad({ state: 'loaded', profile: next });
      props.onName?.(customer, next.name);
      setEditing(null);
      setNotice('Contact saved.');
    } catch (e) {
      // A 400 names the field (`attributes.<key>: …`, `name: …`): shown as the API says it, the form kept.
      setError(e instanceof ApiFailure ? `Not saved: ${e.message}` : 'Not saved: the server could not be reached.');
    } finally {
      setSaving(false);
    }
  };

  return (
    <aside class={`contact-panel${open ? '' : ' collapsed'}`} role="complementary" aria-label="Contact">
      <div class="contact-head">
        <button type="button" class="link" aria-expanded={open} aria-controls="contact-body" onClick={() => setOpen(!open)}>
          {open ? 'Hide contact' : 'Contact'}
        </button>
      </div>
      {open && (
        <div id="contact-body" class="contact-body">
          {load.state === 'loading' && <p class="hint">Loading the contact…</p>}
          {load.state === 'missing' && (
            <p class="hint" role="status">
              No contact profile for +{customer} yet: it is kept from their messages, a moment after each arrives.{' '}
              <button type="button" class="link" onClick={() => setTries(tries + 1)}>
                Try again
              </button>
            </p>
          )}
          {load.state === 'failed' && (
            <p class="error" role="alert">
              The contact could not be loaded: {load.text}{' '}
              <button type="button" class="link" onClick={() => setTries(tries + 1)}>
                Try again
              </button>
            </p>
          )}
          {load.state === 'loaded' && (
            <ContactDetails
              profile={load.profile}
              editing={editing}
              saving={saving}
              conversationId={conversationId}
              onEdit={() => startEditing(load.profile)}
              onChange={setEditing}
              onCancel={() => {
                setEditing(null);
                setError(null);
              }}
              onSave={(form) => void save(load.profile, form)}
              onOpen={props.onOpen}
            />
          )}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          {notice && !error && (
            <p class="notice" role="status">
              {notice}
            </p>
          )}
        </div>
      )}
    </aside>
  );
}

function ContactDetails(props: {
  profile: ContactProfile;
  editing: { name: string; rows: Row[] } | null;
  saving: boolean;
  conversationId: string;
  onEdit: () => void;
  onChange: (form: { name: string; rows: Row[] }) => void;
  onCancel: () => void;
  onSave: (form: { name: string; rows: Row[] }) => void;
  onOpen: (conversationId: string) => void;
}) {
  const { profile, editing } = props;
  const attributes = Object.entries(profile.attributes);
  const setRow = (i: number, patch: Partial<Row>) => editing && props.onChange({ ...editing, rows: editing.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  return (
    <>
      {editing ? (
        <form
          class="contact-edit"
          aria-label="Edit the contact"
          onSubmit={(e) => {
            e.preventDefault();
            props.onSave(editing);
          }}
        >
          <label>
            Name
            <input value={editing.name} maxLength={200} onInput={(e) => props.onChange({ ...editing, name: e.currentTarget.value })} />
          </label>
          <fieldset>
            <legend>Attributes</legend>
            {editing.rows.map((row, i) => (
              <div class="attribute-row" key={i}>
                {row.saved ? (
                  <span class="attribute-key">{row.key}</span>
                ) : (
                  <input aria-label={`Attribute ${i + 1} name`} placeholder="name" value={row.key} maxLength={64} onInput={(e) => setRow(i, { key: e.currentTarget.value })} />
                )}
                <input aria-label={row.saved ? `Value of ${row.key}` : `Attribute ${i + 1} value`} placeholder="value" value={row.value} maxLength={256} onInput={(e) => setRow(i, { value: e.currentTarget.value })} />
                <button
                  type="button"
                  class="link"
                  aria-label={row.saved ? `Remove ${row.key}` : `Remove attribute ${i + 1}`}
                  onClick={() => props.onChange({ ...editing, rows: editing.rows.filter((_, j) => j !== i) })}
                >
                  ✕
                </button>
              </div>
            ))}
            <button type="button" class="link" onClick={() => props.onChange({ ...editing, rows: [...editing.rows, { key: '', value: '', saved: false }] })}>
              Add an attribute
            </button>
          </fieldset>
          <div class="settings-actions">
            <button type="submit" disabled={props.saving}>
              Save contact
            </button>
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <h3 class="contact-name">{profile.name ?? `+${profile.customer}`}</h3>
          <dl class="contact-facts">
            <dt>Phone</dt>
            <dd>+{profile.customer}</dd>
            <dt>First seen</dt>
            <dd>{profile.firstSeenAt ? <time dateTime={profile.firstSeenAt}>{fullTime(profile.firstSeenAt)}</time> : '–'}</dd>
            <dt>Last seen</dt>
            <dd>{profile.lastSeenAt ? <time dateTime={profile.lastSeenAt} title={fullTime(profile.lastSeenAt)}>{relativeTime(profile.lastSeenAt)}</time> : '–'}</dd>
            {attributes.map(([key, value]) => (
              <div key={key} class="attribute" data-attribute={key}>
                <dt>{key}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          <button type="button" onClick={props.onEdit}>
            Edit contact
          </button>
        </>
      )}
      <h4>Conversations</h4>
      <ul class="contact-conversations">
        {profile.conversations.map((c) => (
          <li key={c.conversationId}>
            {c.conversationId === props.conversationId ? (
              <span aria-current="true">
                {c.channel} · <span class={`status status-${c.status}`}>{c.status.replace('_', ' ')}</span> · {episodesWords(c.episodes)} (this one)
              </span>
            ) : (
              <button type="button" class="link" data-conversation={c.conversationId} onClick={() => props.onOpen(c.conversationId)}>
                {c.channel} · {c.status.replace('_', ' ')} · {episodesWords(c.episodes)}
              </button>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

const episodesWords = (n: number) => `${n} ${n === 1 ? 'episode' : 'episodes'}`;
