import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, Me } from './api';
import { ApiFailure } from './api';
import type { CannedResponse } from './canned';

/**
 * Managing canned responses (SPEC 10): every user their own personal ones; owners, admins and managers
 * also the account's. One PUT per save, one DELETE per removal; what is listed afterwards is what the
 * API answers. Sending them is the reply box's `/` picker (inbox/src/canned-picker.tsx).
 */

type Scope = CannedResponse['scope'];
const emptyForm = (scope: Scope) => ({ shortCode: '', title: '', text: '', scope });

export function CannedResponsesPage({ api, me, onClose }: { api: Api; me: Me; onClose: () => void }) {
  const path = `/v1/accounts/${encodeURIComponent(me.accountId)}/canned-responses`;
  const supervisor = me.role !== 'agent';
  const scopes: Scope[] = supervisor ? ['personal', 'account'] : ['personal'];
  const [lists, setLists] = useState<Record<Scope, CannedResponse[]> | null>(null);
  const [form, setForm] = useState(() => emptyForm('personal'));
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  const load = async () => {
    const answers = await Promise.all(scopes.map((scope) => api.get<{ items: CannedResponse[] }>(`${path}?scope=${scope}`)));
    setLists({ personal: answers[0]?.items ?? [], account: answers[1]?.items ?? [] });
  };
  useEffect(() => {
    load().then(
      () => heading.current?.focus(),
      (e: unknown) => setError(e instanceof ApiFailure ? e.message : 'The canned responses could not be loaded.'),
    );
  }, [api, path]);

  const act = async (fn: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await fn();
      await load();
      setNotice(done);
      return true;
    } catch (e) {
      setError(e instanceof ApiFailure ? e.message : 'The server did not answer; try again.');
      return false;
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    const sent = form;
    const saved = await act(() => api.call('PUT', `${path}/${encodeURIComponent(sent.shortCode)}`, { title: sent.title, text: sent.text, scope: sent.scope }), `Saved /${sent.shortCode}`);
    if (saved) setForm(emptyForm(sent.scope));
  };
  const remove = (item: CannedResponse) => act(() => api.delete(`${path}/${encodeURIComponent(item.shortCode)}?scope=${item.scope}`), `Deleted /${item.shortCode}`);

  const section = (scope: Scope) => (
    <section key={scope} aria-labelledby={`canned-${scope}`}>
      <h3 id={`canned-${scope}`}>{scope === 'personal' ? 'Yours' : "The account's"}</h3>
      {lists && lists[scope].length === 0 ? (
        <p class="hint">None yet.</p>
      ) : (
        <ul class="canned-list">
          {(lists?.[scope] ?? []).map((item) => (
            <li key={item.shortCode}>
              <span class="code">/{item.shortCode}</span> <span class="title">{item.title}</span>
              <span class="text">{item.text}</span>
              <button type="button" class="link" disabled={busy} onClick={() => setForm({ shortCode: item.shortCode, title: item.title, text: item.text, scope })}>
                Edit <span class="visually-hidden">/{item.shortCode}</span>
              </button>{' '}
              <button type="button" class="link" disabled={busy} onClick={() => void remove(item)}>
                Delete <span class="visually-hidden">/{item.shortCode}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );

  return (
    <div class="settings-page canned-page">
      <h2 ref={heading} tabIndex={-1}>
        Canned responses
      </h2>
      <p class="hint">
        Type <kbd>/</kbd> in the reply box to use them. Texts may hold {'{{customer.name}}'}, {'{{agent.name}}'} and {'{{attributes.<key>}}'}.
      </p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {notice && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      {scopes.map(section)}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset>
          <legend>Save a canned response</legend>
          <div class="field">
            <label for="canned-code">Short code</label>
            <input id="canned-code" value={form.shortCode} maxLength={32} required onInput={(e) => setForm({ ...form, shortCode: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="canned-title">Title</label>
            <input id="canned-title" value={form.title} maxLength={100} required onInput={(e) => setForm({ ...form, title: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="canned-text">Text</label>
            <textarea id="canned-text" value={form.text} rows={3} maxLength={4096} required onInput={(e) => setForm({ ...form, text: e.currentTarget.value })} />
          </div>
          {supervisor && (
            <div class="field">
              <label for="canned-scope">For</label>
              <select id="canned-scope" value={form.scope} onChange={(e) => setForm({ ...form, scope: e.currentTarget.value as Scope })}>
                <option value="personal">Only me</option>
                <option value="account">Everyone in the account</option>
              </select>
            </div>
          )}
          <div>
            <button type="submit" disabled={busy}>
              Save
            </button>{' '}
            <button type="button" class="link" onClick={onClose}>
              Back to the inbox
            </button>
          </div>
        </fieldset>
      </form>
    </div>
  );
}
