/**
 * Sign-in with the deployment's OpenID Connect issuer: the authorization-code flow with PKCE
 * (RFC 7636) through `openid-client`, as a public client (no secret in a browser). The issuer and
 * client come from the API's `/app-config.json`; without them the app asks for a pasted token.
 * The code verifier and state live in sessionStorage between the redirect out and the callback.
 * Loaded only when a sign-in starts or completes (a chunk of its own), so the app's first load stays small.
 */
import * as oidc from 'openid-client';
import type { OidcSettings } from './app-config';

const PENDING = 'melody-vocals.sign-in';
export const CALLBACK_PATH = '/auth/callback';

async function discover(settings: OidcSettings): Promise<oidc.Configuration> {
  const issuer = new URL(settings.issuer);
  // Plain http only for an issuer on this machine (development and the tests' provider).
  const local = issuer.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
  return oidc.discovery(issuer, settings.clientId, undefined, oidc.None(), local ? { execute: [oidc.allowInsecureRequests] } : undefined);
}

/** RFC 8707 resource indicator: sent when the API's audience is an absolute URI. */
function resourceOf(settings: OidcSettings): Record<string, string> {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(settings.audience) ? { resource: settings.audience } : {};
}

/** Leaves for the issuer's sign-in page; it comes back to {@link CALLBACK_PATH}. */
export async function startSignIn(settings: OidcSettings, returnTo: string): Promise<void> {
  const configuration = await discover(settings);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const url = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: `${location.origin}${CALLBACK_PATH}`,
    scope: settings.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...resourceOf(settings),
  });
  location.assign(url.href);
}

/** At the callback: trades the code (with the verifier) for an access token. @throws with a message to show */
export async function completeSignIn(settings: OidcSettings): Promise<{ accessToken: string; returnTo: string }> {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (!raw) throw new Error('This sign-in was not started here (or was already used). Start again.');
  const pending = JSON.parse(raw) as { verifier: string; state: string; returnTo: string };
  const configuration = await discover(settings);
  const tokens = await oidc.authorizationCodeGrant(
    configuration,
    new URL(location.href),
    { pkceCodeVerifier: pending.verifier, expectedState: pending.state },
    resourceOf(settings),
  );
  const returnTo = pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
  return { accessToken: tokens.access_token, returnTo };
}
