import Provider from 'oidc-provider';
import type { ClaimsParameterMember } from 'oidc-provider';

/**
 * A real OpenID Connect provider for the sign-in tests: panva's `oidc-provider` (the certified
 * implementation many identity servers are built on), in its own process so that Jest never loads its
 * ES modules, with its development login and consent pages. Any password is accepted; the login name
 * picks one of the people of OIDC_TEST_PEOPLE, whose claims the ID token carries.
 *
 * Env: OIDC_TEST_ISSUER (http://host:port), OIDC_TEST_CLIENT (JSON: client_id, client_secret,
 * redirect_uris), OIDC_TEST_PEOPLE (JSON: { login: { email, email_verified } }).
 * Sends `{ type: 'ready' }` over IPC once it listens (dev/node-child.ts).
 */
const issuer = new URL(process.env.OIDC_TEST_ISSUER!);
const registered = JSON.parse(process.env.OIDC_TEST_CLIENT!) as { client_id: string; client_secret: string; redirect_uris: string[] };
const people = JSON.parse(process.env.OIDC_TEST_PEOPLE!) as Record<string, { email: string; email_verified: boolean }>;

const provider = new Provider(issuer.href.replace(/\/$/, ''), {
  clients: [{ ...registered, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
  async findAccount(_ctx, sub) {
    const person = people[sub];
    if (!person) return undefined;
    return { accountId: sub, claims: async (_use: string, _scope: string, _claims: Record<string, ClaimsParameterMember | null>) => ({ sub, ...person }) };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ['convoflow-test-provider-cookie-key'] },
});

const server = provider.listen(Number(issuer.port), issuer.hostname === 'localhost' ? '127.0.0.1' : issuer.hostname, () => {
  process.send?.({ type: 'ready' });
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
