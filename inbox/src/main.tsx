import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Me } from './api';
import { Api, ApiFailure } from './api';
import { Inbox } from './inbox';

const keyStorage = 'convoflow.key';

function SignIn({ onSignedIn }: { onSignedIn: (api: Api, me: Me) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const api = new Api(key.trim());
      const me = await api.get<Me | { kind: string }>('/v1/me');
      if (me.kind !== 'user') throw new ApiFailure(403, 'forbidden', 'This is not a user key: sign in with the key you were given as an agent or supervisor.');
      sessionStorage.setItem(keyStorage, api.key);
      onSignedIn(api, me as Me);
    } catch (e) {
      setError(e instanceof ApiFailure ? e.message : 'The server could not be reached.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">convoflow inbox</h1>
        <label for="api-key">Your API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="current-password" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
        <p class="hint">The key shown once when your user was created (it starts with <code>cf_u_</code>). It stays in this tab only.</p>
        <button type="submit" disabled={busy || key.trim() === ''}>
          Sign in
        </button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<{ api: Api; me: Me } | null>(null);
  const [checking, setChecking] = useState(true);
  useEffect(() => {
    const key = sessionStorage.getItem(keyStorage);
    if (!key) return setChecking(false);
    const api = new Api(key);
    api
      .get<Me>('/v1/me')
      .then((me) => setSession({ api, me }))
      .catch(() => sessionStorage.removeItem(keyStorage))
      .finally(() => setChecking(false));
  }, []);
  if (checking) return null;
  if (!session) return <SignIn onSignedIn={(api, me) => setSession({ api, me })} />;
  return (
    <Inbox
      api={session.api}
      me={session.me}
      onSignOut={() => {
        sessionStorage.removeItem(keyStorage);
        setSession(null);
      }}
    />
  );
}

render(<App />, document.getElementById('root')!);
