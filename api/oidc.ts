import * as client from 'openid-client';
import type { OidcConfig } from '../infra/config';

/**
 * The relying party of single sign-on (README "Signing in"), on openid-client: the authorization code
 * flow with PKCE, a `state` and a `nonce`, and an ID token checked for its issuer, audience, expiry,
 * nonce and signature (against the provider's JWKS). What it answers is a verified e-mail; which user
 * that is, and the session, are the routes' business (api/routes/sessions.ts).
 */
export interface OidcClient {
  /** The provider, as configured (OIDC_ISSUER). */
  readonly issuer: string;
  /** Where to send the browser, and what the callback must be given back to check the answer. */
  start(): Promise<{ url: string; state: string; nonce: string; codeVerifier: string }>;
  /**
   * Redeems the code of the callback's query (`search`, as the provider sent it) and checks the ID token.
   * Throws OidcRefusal when the provider said no, could not be reached, or the token does not hold.
   */
  finish(search: string, expected: { state: string; nonce: string; codeVerifier: string }): Promise<{ subject: string; email: string }>;
}

export type OidcRefusalReason = 'denied' | 'email_unverified' | 'failed';

/** Thrown when a sign-in through the provider cannot succeed: the user refused, or the answer did not check out. */
export class OidcRefusal extends Error {
  override name = 'OidcRefusal';
  readonly reason: OidcRefusalReason;

  constructor(options: { reason: OidcRefusalReason; message: string }) {
    super(options.message);
    this.reason = options.reason;
  }
}

/** http is allowed only for a provider on this machine (config refuses it elsewhere): development and tests. */
const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

export function createOidcClient(settings: OidcConfig): OidcClient {
  // Discovered at the first sign-in, not at start: an API whose provider is briefly away still serves
  // keys and sessions. A failed discovery is tried again at the next sign-in.
  let configuration: Promise<client.Configuration> | undefined;
  const discover = () => {
    configuration ??= (async () => {
      const issuer = new URL(settings.issuer);
      const config = await client.discovery(issuer, settings.clientId, settings.clientSecret, undefined, {
        execute: [...(issuer.protocol === 'http:' && isLoopback(issuer) ? [client.allowInsecureRequests] : []), client.enableNonRepudiationChecks],
        timeout: 10,
      });
      return config;
    })().catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  };

  return {
    issuer: settings.issuer,
    async start() {
      const config = await discover();
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUrl,
        scope: 'openid email',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url: url.href, state, nonce, codeVerifier };
    },

    async finish(search, expected) {
      const config = await discover();
      const callback = new URL(settings.redirectUrl);
      callback.search = search;
      const providerError = callback.searchParams.get('error');
      if (providerError) throw new OidcRefusal({ reason: 'denied', message: `the provider answered ${providerError.slice(0, 64)}` });
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: expected.codeVerifier,
          expectedState: expected.state,
          expectedNonce: expected.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        // The provider refused the code, its answer failed a check (signature, audience, nonce...), or it
        // could not be reached: either way this sign-in is over, and the browser starts a new one.
        throw new OidcRefusal({ reason: 'failed', message: `the code exchange failed: ${error instanceof Error ? error.message : String(error)}` });
      }
      const idToken = tokens.claims();
      if (!idToken) throw new OidcRefusal({ reason: 'failed', message: 'the provider sent no ID token' });
      // A conforming provider may keep the e-mail out of the ID token and answer it from UserInfo only
      // (OIDC Core 5.4): then ask there, for the same subject (openid-client checks that it matches).
      let claims: Record<string, unknown> = { ...idToken };
      if (typeof idToken.email !== 'string') {
        try {
          claims = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
        } catch (error) {
          throw new OidcRefusal({ reason: 'failed', message: `the UserInfo request failed: ${error instanceof Error ? error.message : String(error)}` });
        }
      }
      if (typeof claims.email !== 'string' || claims.email === '') throw new OidcRefusal({ reason: 'failed', message: 'the provider gave no e-mail (is the "email" scope allowed?)' });
      // An address the provider has not verified could be anyone's: matching it to a user would let
      // whoever typed it in at the provider sign in as that user.
      if (claims.email_verified !== true) throw new OidcRefusal({ reason: 'email_unverified', message: 'the provider has not verified this e-mail' });
      return { subject: idToken.sub, email: claims.email.toLowerCase() };
    },
  };
}
