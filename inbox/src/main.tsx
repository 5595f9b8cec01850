import { render } from 'preact';
import { Inbox } from './inbox';
import { SessionGate } from './signin';

/**
 * The page: signed in through a session (an HttpOnly cookie every tab of the browser shares, made from
 * a user's API key or by single sign-on; README "Signing in"), then the inbox.
 */
function App() {
  return <SessionGate>{({ api, me, signOut }) => <Inbox api={api} me={me} onSignOut={signOut} />}</SessionGate>;
}

render(<App />, document.getElementById('root')!);
