/**
 * A real OpenID provider for tests: `oidc-provider` (npm; OpenID Certified) on loopback, with its
 * development sign-in pages (any login, any password; then a consent page), one public client for the
 * web app (authorization code + PKCE S256, no secret) and our API as a resource server: access tokens
 * are ES256 JWTs with `aud` = the API's audience and a `role` claim (`ADMIN` for logins starting with
 * "admin", else `USER`). CORS is open to the web app's origin only, as a real deployment would set it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import type { Cleanup } from './service-harness.js';

export interface TestOidcProvider {
  /** `http://localhost:<port>`: a different origin from the app at 127.0.0.1. */
  issuer: string;
  clientId: string;
  audience: string;
  /** The scope the web app asks for (`openid` and the API's own). */
  scope: string;
  /** OIDC_* for the API. */
  env: Record<string, string>;
}

export interface OidcProviderOptions {
  /** A free port for the provider (the issuer URL must be known before the API starts). */
  port: number;
  /** The web app's origin (the API's URL): its `/auth/callback` is the client's redirect URI. */
  appOrigin: string;
}

/** The issuer URL a provider started with `port` will have (to configure the API first). */
export const issuerFor = (port: number) => `http://localhost:${port}`;
export const TEST_CLIENT_ID = 'melody-web';
export const TEST_AUDIENCE = 'https://api.melody-vocals.test';
export const TEST_SCOPE = 'openid api';

/** OIDC_* for an API that trusts the provider that will listen on `port`. */
export function oidcEnv(port: number): Record<string, string> {
  return { OIDC_ISSUER: issuerFor(port), OIDC_AUDIENCE: TEST_AUDIENCE, OIDC_CLIENT_ID: TEST_CLIENT_ID, OIDC_SCOPE: TEST_SCOPE };
}

export async function startOidcProvider(cleanup: Cleanup, options: OidcProviderOptions): Promise<TestOidcProvider> {
  const issuer = issuerFor(options.port);
  const clientId = TEST_CLIENT_ID;
  const audience = TEST_AUDIENCE;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'test-es256' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${options.appOrigin}/auth/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['melody-vocals-test-cookies'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== audience) throw new errors.InvalidTarget();
          return { scope: 'api', audience, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    extraTokenClaims: (_ctx, token) => {
      const account = (token as { accountId?: string }).accountId ?? '';
      return { role: account.startsWith('admin') ? 'ADMIN' : 'USER' };
    },
    clientBasedCORS: (_ctx, origin) => origin === options.appOrigin,
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  if (port !== options.port) throw new Error(`the provider listens on ${port}, not ${options.port}`);
  return { issuer, clientId, audience, scope: TEST_SCOPE, env: oidcEnv(options.port) };
}
