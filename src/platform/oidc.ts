/**
 * Access tokens of an OpenID Connect issuer (`OIDC_ISSUER`): signed JWTs (RS256, PS256, ES256, EdDSA…)
 * checked against the issuer's published keys with `jose`. The keys' address comes from the issuer's
 * discovery document (`/.well-known/openid-configuration`, fetched once per process and again after a
 * failure); the key set is cached and fetched again when a token names a key it does not hold (the
 * issuer rotated its keys), at most once per cool-down, so a flood of forged `kid`s cannot make us
 * hammer the issuer. A token must carry `iss` = the issuer, `aud` ∋ `OIDC_AUDIENCE`, `exp` and `sub`;
 * the role is read from `OIDC_ROLE_CLAIM`. Any failure is an {@link AuthError}, the same as a bad
 * token of our own.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { AuthError, Role, type AuthUser } from './auth.js';
import type { OidcConfig } from './config.js';
import { highestRole } from './role-claim.js';

/** Asymmetric algorithms only: a symmetric one would let anyone holding a public key forge tokens. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const ASYMMETRIC = new Set(ALGORITHMS);

export interface OidcVerifierOptions {
  /** How long an unknown `kid` must wait before the keys are fetched again (ms). Default 30 s. */
  cooldownMs?: number;
  /** How long fetched keys are trusted before they are fetched again (ms). Default 10 min. */
  cacheMaxAgeMs?: number;
  /** How long a discovery or key request may take (ms). Default 5 s. */
  timeoutMs?: number;
}

/** True when `token` looks like a JWT signed with an asymmetric algorithm (an issuer's, not ours). */
export function isAsymmetricJwt(token: string): boolean {
  try {
    const { alg } = decodeProtectedHeader(token);
    return typeof alg === 'string' && ASYMMETRIC.has(alg);
  } catch {
    return false;
  }
}

/** The role named by `claim` in `payload`: a top-level claim of that exact name, else a dotted path. */
export function roleFromClaims(payload: JWTPayload, claim: string): Role {
  return (highestRole(payload, claim) as Role | undefined) ?? Role.USER;
}

/** Verifies access tokens of one issuer; one per process (it holds the key cache). */
export class OidcVerifier {
  private keys: ReturnType<typeof createRemoteJWKSet> | null = null;
  private discovering: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  constructor(
    readonly settings: OidcConfig,
    private readonly options: OidcVerifierOptions = {},
  ) {}

  /** The issuer's key set, from its discovery document (fetched once; again after a failure). */
  private keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.keys) return Promise.resolve(this.keys);
    this.discovering ??= this.discover().then(
      (keys) => (this.keys = keys),
      (error: unknown) => {
        this.discovering = null;
        throw error;
      },
    );
    return this.discovering;
  }

  private async discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const { issuer } = this.settings;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000) });
    if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
    const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery §4.3: the document must name exactly the issuer we were given.
    if (metadata.issuer !== issuer) throw new Error(`OIDC discovery names issuer ${String(metadata.issuer)}, not ${issuer}`);
    if (typeof metadata.jwks_uri !== 'string') throw new Error('OIDC discovery names no jwks_uri');
    return createRemoteJWKSet(new URL(metadata.jwks_uri), {
      cooldownDuration: this.options.cooldownMs ?? 30_000,
      cacheMaxAge: this.options.cacheMaxAgeMs ?? 600_000,
      timeoutDuration: this.options.timeoutMs ?? 5000,
    });
  }

  /** The user an access token names. @throws AuthError for any bad token; Error when the issuer cannot be reached. */
  async verify(token: string): Promise<AuthUser> {
    if (!isAsymmetricJwt(token)) throw new AuthError();
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      // The key set could not be fetched: not the token's fault, say so to the caller's log.
      if ((error as { code?: string }).code === 'ERR_JWKS_TIMEOUT' || error instanceof TypeError) throw error;
      throw new AuthError();
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) throw new AuthError();
    return { id: payload.sub, role: roleFromClaims(payload, this.settings.roleClaim) };
  }
}
