import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Me } from './api';
import { Api, ApiFailure, csrfHeader } from './api';

/**
 * Signing in once per browser (README "Signing in"). The page never keeps a key: the key form exchanges
 * it for a session (`POST /v1/sessions`, which sets an HttpOnly cookie the page cannot read) and forgets
 * it; every tab of the browser then shares that session, and a tab opened later restores it with
 * `GET /v1/me`. Single sign-on is a plain link to the API, which sends the browser to the provider and
 * back to /app/ with the same cookie.
 */

export interface SignedIn {
  api: Api;
  me: Me;
}

/** Why a single sign-on came back without a session (the API's `?sso_error=`), in words. */
const ssoErrors: Record<string, string> = {
  denied: 'Single sign-on was cancelled at the provider.',
  email_unverified: 'Your provider has not verified your e-mail address, so it cannot be matched to a user.',
  failed: 'Single sign-on failed: the provider’s answer could not be checked. Try again.',
  expired: 'That sign-in took too long or was started in another browser. Try again.',
  no_user: 'No active user here has the e-mail your provider gave. Ask an admin to add it to your user.',
  ambiguous: 'Several users of this account have your e-mail. Ask an admin to fix it.',
  choose_account: 'Your e-mail belongs to users of several accounts: use the sign-in link of your account (…/v1/auth/oidc/login?account=ID).',
  unavailable: 'The single sign-on provider cannot be reached right now. Try again, or sign in with your key.',
};

/** The session this browser already has, if any: `null` when it is signed out. */
export async function restoreSession(): Promise<SignedIn | null> {
  const api = new Api();
  try {
    const me = await api.get<Me | { kind: string }>('/v1/me');
    return me.kind === 'user' ? { api, me: me as Me } : null;
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) return null;
    throw e;
  }
}

/** The tabs of this browser tell each other about signing out on this channel. */
const sessionChannel = 'convoflow-session';

/** Ends this browser's session, in every tab (their next request answers 401). */
export async function signOut(api: Api): Promise<void> {
  try {
    await api.delete('/v1/sessions/current');
  } catch (e) {
    // Already over (404, 401): signed out all the same.
    if (!(e instanceof ApiFailure) || e.status >= 500) throw e;
  }
}

/** Exchanges a user's key for this browser's session; the key is not kept anywhere. */
async function exchangeKey(apiKey: string): Promise<SignedIn> {
  const res = await fetch('/v1/sessions', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', ...csrfHeader },
    body: JSON.stringify({ apiKey }),
  });
  const json = (await res.json().catch(() => undefined)) as { me?: Me; error?: { code?: string; message?: string } } | undefined;
  if (!res.ok || !json?.me) {
    const message =
      res.status === 403 ? 'This is not a user key: sign in with the key you were given as an agent or supervisor.' : (json?.error?.message ?? `the server answered ${res.status}`);
    throw new ApiFailure(res.status, json?.error?.code ?? 'error', message);
  }
  return { api: new Api(), me: json.me };
}

/** The sign-in form: an API key, and "Sign in with SSO" when the API has single sign-on. */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (session: SignedIn) => void; notice?: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(() => {
    const sso = new URLSearchParams(location.search).get('sso_error');
    return sso ? (ssoErrors[sso] ?? 'Single sign-on failed.') : null;
  });
  const [busy, setBusy] = useState(false);
  const [ssoUrl, setSsoUrl] = useState<string | null>(null);
  useEffect(() => {
    // The error came in the URL: keep it out of the address bar (and a reload).
    if (new URLSearchParams(location.search).has('sso_error')) history.replaceState(null, '', location.pathname);
    fetch('/v1/auth/config')
      .then((res) => (res.ok ? (res.json() as Promise<{ oidc: boolean; loginUrl: string | null }>) : null))
      .then((config) => setSsoUrl(config?.oidc ? config.loginUrl : null))
      .catch(() => setSsoUrl(null));
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await exchangeKey(key.trim());
      setKey('');
      onSignedIn(session);
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
        {notice && <p class="hint">{notice}</p>}
        <label for="api-key">Your API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="current-password" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
        <p class="hint">
          The key shown once when your user was created (it starts with <code>cf_u_</code>). It is exchanged for a session of this browser and not kept.
        </p>
        <button type="submit" disabled={busy || key.trim() === ''}>
          Sign in
        </button>
        {ssoUrl && (
          <p>
            <a class="sso" href={ssoUrl}>
              Sign in with SSO
            </a>
          </p>
        )}
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

/**
 * Everything main.tsx needs: restores the browser's session on load, shows SignIn without one, and
 * renders `children` with it. When the server says the session is over (revoked key, deactivated user,
 * signed out in another tab, expired), the next request brings SignIn back with a notice.
 */
export function SessionGate({ children }: { children: (session: SignedIn & { signOut: () => void }) => ComponentChildren }) {
  const [session, setSession] = useState<SignedIn | null>(null);
  const [checking, setChecking] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);
  /** The session on screen: an ended one's requests (its stream reconnecting) must not speak over what ended it. */
  const current = useRef<SignedIn | null>(null);
  const watch = (s: SignedIn) => {
    current.current = s;
    s.api.onSessionEnded(() => {
      if (current.current !== s) return;
      current.current = null;
      setNotice('Your session has ended: sign in again.');
      setSession(null);
    });
    setNotice(null);
    setSession(s);
  };
  useEffect(() => {
    restoreSession()
      .then((s) => s && watch(s))
      .catch(() => setNotice('The server could not be reached.'))
      .finally(() => setChecking(false));
  }, []);
  // A sign-out in another tab of this browser ends this one at once, not at its next request.
  useEffect(() => {
    if (typeof BroadcastChannel === 'undefined') return undefined;
    const channel = new BroadcastChannel(sessionChannel);
    channel.onmessage = (e: MessageEvent) => {
      if (e.data === 'signed-out') {
        // Whichever comes first, this message or this tab's own request refused, the tab says why.
        current.current = null;
        setNotice('You signed out in another tab.');
        setSession(null);
      }
    };
    return () => channel.close();
  }, []);
  if (checking) return null;
  if (!session) return <SignIn onSignedIn={watch} notice={notice} />;
  return (
    <>
      {children({
        ...session,
        signOut: () => {
          const { api } = session;
          api.onSessionEnded(() => undefined);
          current.current = null;
          // The session is over on the server before the page says so; then every tab learns it.
          void signOut(api)
            .catch(() => undefined)
            .then(() => {
              setSession(null);
              if (typeof BroadcastChannel !== 'undefined') {
                const channel = new BroadcastChannel(sessionChannel);
                channel.postMessage('signed-out');
                channel.close();
              }
            });
        },
      })}
    </>
  );
}
