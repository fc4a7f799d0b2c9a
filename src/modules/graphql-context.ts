/**
 * The per-operation GraphQL context: who is asking, a fresh EntityManager fork, the shared services
 * and a logger that stamps every line with the request id. Built once per HTTP request and once per
 * subscription operation over graphql-ws.
 */
import { randomUUID } from 'node:crypto';
import { ForbiddenError, UnauthenticatedError } from '../platform/api-errors.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuthError, userFromAuthorizationHeader, verifyToken, type AuthUser, type JwtSettings } from '../platform/auth.js';
import type { OidcConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { isAsymmetricJwt, OidcVerifier } from '../platform/oidc.js';
import type { Services } from '../platform/services.js';
import { ApiKeyService, looksLikeApiKey } from './api-key/api-key.service.js';
import { Role } from './user/user.entity.js';

export interface GraphQLContext {
  /** From a well-formed `X-Request-Id` header, else a new UUID; echoed in the response header. */
  requestId: string;
  /** The verified bearer of the token, or null (no token, or a bad one: see {@link requireUser}). */
  user: AuthUser | null;
  /** This operation's own fork: never share it, never use the global EntityManager. */
  em: EntityManager;
  services: Services;
  /** `services.logger.child({ requestId, userId })`. */
  logger: Logger;
  /** The peer address of the HTTP request (the anonymous rate limit's key); null over graphql-ws. */
  clientIp: string | null;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** A caller-supplied request id when it is safe to log and echo, else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID.test(value) ? value : randomUUID();
}

export function createContext(
  services: Services,
  options: { requestId: string; user: AuthUser | null; clientIp?: string | null },
): GraphQLContext {
  return {
    clientIp: options.clientIp ?? null,
    requestId: options.requestId,
    user: options.user,
    em: services.orm.em.fork() as EntityManager,
    services,
    logger: services.logger.child({ requestId: options.requestId, ...(options.user ? { userId: options.user.id } : {}) }),
  };
}

/**
 * The user named by an `Authorization` value: `Bearer <jwt>` (HTTP) or, for graphql-ws
 * `connectionParams`, also a bare `<jwt>`. Null for no value or a bad one: a bad token never
 * identifies anybody, and operations that need a user say UNAUTHENTICATED.
 */
export function userFromAuthorization(secret: string | JwtSettings, value: unknown): AuthUser | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  try {
    return /^Bearer\s/i.test(value.trim()) ? userFromAuthorizationHeader(secret, value) : verifyToken(secret, value.trim());
  } catch (error) {
    if (error instanceof AuthError) return null;
    throw error;
  }
}

/** One verifier (and so one key cache) per OIDC configuration, i.e. per process. */
const VERIFIERS = new WeakMap<OidcConfig, OidcVerifier>();

function oidcVerifier(settings: OidcConfig): OidcVerifier {
  let verifier = VERIFIERS.get(settings);
  if (!verifier) {
    verifier = new OidcVerifier(settings);
    VERIFIERS.set(settings, verifier);
  }
  return verifier;
}

/**
 * The caller of an HTTP request or graphql-ws connection: an API key (`Authorization: Bearer mvk_…`,
 * a bare `mvk_…` in connectionParams, or `X-Api-Key: mvk_…`), an access token of the OpenID Connect
 * issuer (`OIDC_ISSUER`; an asymmetrically signed JWT) or else a JWT of our own as in
 * {@link userFromAuthorization}. Null for none or a bad/revoked one.
 */
export async function authenticate(
  services: Pick<Services, 'config' | 'orm'> & { logger?: Logger },
  authorization: unknown,
  apiKeyHeader?: unknown,
): Promise<AuthUser | null> {
  const header = Array.isArray(apiKeyHeader) ? apiKeyHeader[0] : apiKeyHeader;
  const bearer = typeof authorization === 'string' ? authorization.trim().replace(/^Bearer\s+/i, '') : '';
  const key = looksLikeApiKey(bearer) ? bearer : typeof header === 'string' && header.trim() !== '' && !bearer ? header.trim() : null;
  if (key !== null) return new ApiKeyService(services.orm.em.fork() as EntityManager).authenticate(key);
  const { oidc } = services.config;
  if (oidc && bearer !== '' && isAsymmetricJwt(bearer)) {
    try {
      return await oidcVerifier(oidc).verify(bearer);
    } catch (error) {
      // The issuer or its keys could not be reached: the caller is not signed in, and operators see why.
      if (!(error instanceof AuthError)) services.logger?.warn('OIDC verification failed', { error: (error as Error).message });
      return null;
    }
  }
  const { jwtSecret, jwtIssuer, jwtAudience } = services.config;
  return userFromAuthorization({ secret: jwtSecret, issuer: jwtIssuer, audience: jwtAudience }, authorization);
}

/** The caller, who must be an ADMIN. @throws UnauthenticatedError (nobody) or ForbiddenError (another role). */
export function requireAdmin(ctx: GraphQLContext): AuthUser {
  const user = requireUser(ctx);
  if (user.role !== Role.ADMIN) throw new ForbiddenError();
  return user;
}

/** The caller. @throws UnauthenticatedError when the request carried no valid token. */
export function requireUser(ctx: GraphQLContext): AuthUser {
  if (!ctx.user) throw new UnauthenticatedError();
  return ctx.user;
}
