/**
 * The OpenID Connect access-token check (src/platform/oidc.ts) against an issuer played by a loopback
 * HTTP server that publishes a discovery document and a key set, counting the requests: tokens signed
 * by the issuer's keys are accepted with the role read from the configured claim; a wrong issuer,
 * audience, an expired token, a missing `sub`, an HS256 token (algorithm confusion) or `alg: none`
 * are refused; the keys are fetched once for many tokens and fetched again when the issuer rotates
 * to a key we have not seen; a discovery document naming another issuer is refused.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { AuthError, Role } from '../../../src/platform/auth.js';
import { ConfigError, loadConfig, type OidcConfig } from '../../../src/platform/config.js';
import { isAsymmetricJwt, OidcVerifier, roleFromClaims } from '../../../src/platform/oidc.js';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

let server: Server;
let issuer: string;
/** What the JWKS endpoint publishes now. */
let published: JWK[] = [];
let discoveryIssuer: string | null = null;
const requests = { discovery: 0, jwks: 0 };
let es: KeyPair;
let rs: KeyPair;
let rotated: KeyPair;

const AUDIENCE = 'https://api.melody-vocals.test';

async function publicJwk(pair: KeyPair, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
}

function settings(overrides: Partial<OidcConfig> = {}): OidcConfig {
  return { issuer, audience: AUDIENCE, roleClaim: 'role', clientId: null, scope: 'openid', ...overrides };
}

async function token(
  pair: KeyPair,
  kid: string,
  alg: string,
  claims: Record<string, unknown> = {},
  options: { iss?: string; aud?: string; exp?: number | string; sub?: string | null } = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, kid })
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '10m');
  if (options.sub !== null) jwt.setSubject(options.sub ?? 'alice');
  return jwt.sign(pair.privateKey);
}

beforeAll(async () => {
  es = await generateKeyPair('ES256');
  rs = await generateKeyPair('RS256');
  rotated = await generateKeyPair('ES256');
  server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      requests.discovery++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: discoveryIssuer ?? issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      requests.jwks++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  published = [await publicJwk(es, 'es-1', 'ES256'), await publicJwk(rs, 'rs-1', 'RS256')];
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

beforeEach(() => {
  requests.discovery = 0;
  requests.jwks = 0;
  discoveryIssuer = null;
});

describe('OIDC access tokens', () => {
  it('accepts ES256 and RS256 tokens of the issuer, fetching discovery and keys once for many tokens', async () => {
    const verifier = new OidcVerifier(settings());
    for (let i = 0; i < 5; i++) {
      await expect(verifier.verify(await token(es, 'es-1', 'ES256', {}, { sub: `user-${i}` }))).resolves.toEqual({
        id: `user-${i}`,
        role: Role.USER,
      });
    }
    await expect(verifier.verify(await token(rs, 'rs-1', 'RS256', { role: 'admin' }))).resolves.toEqual({ id: 'alice', role: Role.ADMIN });
    expect(requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it('fetches the keys again when the issuer rotates to a key it has not seen', async () => {
    const verifier = new OidcVerifier(settings(), { cooldownMs: 0 });
    await verifier.verify(await token(es, 'es-1', 'ES256'));
    expect(requests.jwks).toBe(1);
    published = [await publicJwk(rotated, 'es-2', 'ES256'), ...published];
    await expect(verifier.verify(await token(rotated, 'es-2', 'ES256'))).resolves.toMatchObject({ id: 'alice' });
    expect(requests.jwks).toBe(2);
    // A key the issuer no longer publishes (and never did) is refused, after one more look.
    const stranger = await generateKeyPair('ES256');
    await expect(verifier.verify(await token(stranger, 'es-9', 'ES256'))).rejects.toBeInstanceOf(AuthError);
  });

  it('does not fetch the keys again within the cool-down, however many unknown kids arrive', async () => {
    const verifier = new OidcVerifier(settings(), { cooldownMs: 60_000 });
    await verifier.verify(await token(es, 'es-1', 'ES256'));
    const stranger = await generateKeyPair('ES256');
    for (let i = 0; i < 5; i++) {
      await expect(verifier.verify(await token(stranger, `forged-${i}`, 'ES256'))).rejects.toBeInstanceOf(AuthError);
    }
    expect(requests.jwks).toBe(1);
  });

  it.each([
    ['another issuer', { iss: 'https://evil.example' }],
    ['another audience', { aud: 'https://other-api.example' }],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 60 }],
    ['no subject', { sub: null }],
  ])('refuses %s', async (_what, options) => {
    const verifier = new OidcVerifier(settings());
    await expect(verifier.verify(await token(es, 'es-1', 'ES256', {}, options))).rejects.toBeInstanceOf(AuthError);
  });

  it('refuses HS256 tokens (algorithm confusion: a public key is no secret) and alg none', async () => {
    const verifier = new OidcVerifier(settings());
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'es-1' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setSubject('mallory')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JSON.stringify(published[0])));
    expect(isAsymmetricJwt(hs)).toBe(false);
    await expect(verifier.verify(hs)).rejects.toBeInstanceOf(AuthError);
    const body = Buffer.from(JSON.stringify({ iss: issuer, aud: AUDIENCE, sub: 'mallory', exp: 4102444800 })).toString('base64url');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    await expect(verifier.verify(none)).rejects.toBeInstanceOf(AuthError);
    await expect(verifier.verify('not a token')).rejects.toBeInstanceOf(AuthError);
  });

  it('refuses to trust a discovery document that names another issuer, and tries again later', async () => {
    discoveryIssuer = 'https://evil.example';
    const verifier = new OidcVerifier(settings());
    const good = await token(es, 'es-1', 'ES256');
    await expect(verifier.verify(good)).rejects.toThrow(/names issuer https:\/\/evil.example/);
    discoveryIssuer = null;
    await expect(verifier.verify(good)).resolves.toMatchObject({ id: 'alice' });
    expect(requests.discovery).toBe(2);
  });

  it('reads the role from the configured claim: a name, a dotted path, a list (highest wins), any case', () => {
    expect(roleFromClaims({ role: 'ADMIN' }, 'role')).toBe(Role.ADMIN);
    expect(roleFromClaims({ role: 'partner' }, 'role')).toBe(Role.PARTNER);
    expect(roleFromClaims({ realm_access: { roles: ['offline_access', 'user', 'admin'] } }, 'realm_access.roles')).toBe(Role.ADMIN);
    expect(roleFromClaims({ 'https://melody-vocals/roles': ['PARTNER'] }, 'https://melody-vocals/roles')).toBe(Role.PARTNER);
    expect(roleFromClaims({ role: 'superuser' }, 'role')).toBe(Role.USER);
    expect(roleFromClaims({}, 'role')).toBe(Role.USER);
  });
});

describe('OIDC settings', () => {
  it('are off without OIDC_ISSUER and read with their defaults when it is set', () => {
    expect(loadConfig({}).oidc).toBeNull();
    expect(loadConfig({ OIDC_ISSUER: 'https://id.example.com/realms/music', OIDC_AUDIENCE: 'melody-api' }).oidc).toEqual({
      issuer: 'https://id.example.com/realms/music',
      audience: 'melody-api',
      roleClaim: 'role',
      clientId: null,
      scope: 'openid profile',
    });
  });

  it.each([
    [{ OIDC_ISSUER: 'https://id.example.com' }, 'OIDC_AUDIENCE'],
    [{ OIDC_ISSUER: 'id.example.com', OIDC_AUDIENCE: 'api' }, 'OIDC_ISSUER'],
    [{ OIDC_ISSUER: 'https://id.example.com', OIDC_AUDIENCE: 'api', OIDC_SCOPE: 'profile email' }, 'OIDC_SCOPE'],
    [{ OIDC_ISSUER: 'https://id.example.com', OIDC_AUDIENCE: 'api', OIDC_CLIENT_ID: 'web app' }, 'OIDC_CLIENT_ID'],
  ])('refuse %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
