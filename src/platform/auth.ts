/**
 * Bearer tokens: HS256 JWTs whose `sub` is the user id and `role` one of {@link Role}. Tokens are
 * never logged; verification failures are one generic error so callers learn nothing from them.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** What a caller may do; a token's `role` claim and the user row's `role` column. */
export enum Role {
  USER = 'USER',
  PARTNER = 'PARTNER',
  ADMIN = 'ADMIN',
}

export interface AuthUser {
  id: string;
  role: Role;
}

export class AuthError extends Error {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'A valid bearer token is required.') {
    super(message);
  }
}

const ROLES = new Set<string>(Object.values(Role));

/** What a token is verified against: the HS256 secret and, when configured, the expected issuer and audience. */
export interface JwtSettings {
  secret: string;
  issuer?: string | null;
  audience?: string | null;
}

function settingsOf(secret: string | JwtSettings): JwtSettings {
  return typeof secret === 'string' ? { secret } : secret;
}

/** One HMAC key object per secret, made on first use (a process has one or two secrets). */
const SECRET_KEYS = new Map<string, KeyObject>();

/**
 * The secret as a `KeyObject`. Given a string, `jsonwebtoken` 9 builds the key on every call, and first
 * tries to read the string as a PEM public key, failing with an exception: ~20 % of an API request's CPU
 * under load (issue 16's profile). Handed a key object, it does neither.
 */
function secretKey(secret: string): KeyObject {
  let key = SECRET_KEYS.get(secret);
  if (!key) {
    if (SECRET_KEYS.size >= 16) SECRET_KEYS.clear(); // tests make many; a process keeps a few
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    SECRET_KEYS.set(secret, key);
  }
  return key;
}

/** Signs a token for `userId` (for `npm run token` and tests), with the configured `iss`/`aud` if any. Default lifetime 30 days. */
export function signToken(secret: string | JwtSettings, userId: string, role: Role = Role.USER, expiresInSeconds = 30 * 24 * 3600): string {
  const settings = settingsOf(secret);
  return jwt.sign({ role }, settings.secret, {
    algorithm: 'HS256',
    subject: userId,
    expiresIn: expiresInSeconds,
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: settings.audience } : {}),
  });
}

/** Largest number of verified tokens kept by {@link verifyToken} (a few hundred bytes each). */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

interface VerifiedToken {
  user: AuthUser;
  /** The token's `exp`, ms since the epoch: the entry is never used at or after it. */
  expiresAtMs: number;
}

/**
 * Tokens that passed {@link verifyToken}, by secret, issuer, audience and token text, in insertion
 * order (the oldest is dropped first). Verification is a pure function of those and the clock, and the
 * clock only matters through `exp` (and `nbf`, which a token that already passed is past): an entry is
 * used only before its `exp`, so a cached answer is the answer verifying again would give. Failures are
 * not cached (a bad token costs a full verification every time, as before).
 */
const VERIFIED_TOKENS = new Map<string, VerifiedToken>();

function cacheKey(settings: JwtSettings, token: string): string {
  // The secret is in the key so that a rotated secret never finds entries verified with the old one.
  return `${settings.secret}\u0000${settings.issuer ?? ''}\u0000${settings.audience ?? ''}\u0000${token}`;
}

/**
 * Verifies a raw token (no `Bearer ` prefix): HS256 with the secret, an `exp` (a token without one
 * would never expire), and the configured `iss` and `aud` when there are. A token verified before is
 * answered from a bounded cache until its `exp` (see {@link VERIFIED_TOKENS}). @throws AuthError
 */
export function verifyToken(secret: string | JwtSettings, token: string, now: number = Date.now()): AuthUser {
  const settings = settingsOf(secret);
  const key = cacheKey(settings, token);
  const cached = VERIFIED_TOKENS.get(key);
  if (cached) {
    if (now < cached.expiresAtMs) return { ...cached.user };
    VERIFIED_TOKENS.delete(key);
  }
  let user: AuthUser;
  let expiresAtMs: number;
  try {
    const payload = jwt.verify(token, secretKey(settings.secret), {
      algorithms: ['HS256'],
      clockTimestamp: Math.floor(now / 1000),
      ...(settings.issuer ? { issuer: settings.issuer } : {}),
      ...(settings.audience ? { audience: settings.audience } : {}),
    });
    if (
      typeof payload !== 'object' ||
      typeof payload.exp !== 'number' ||
      typeof payload.sub !== 'string' ||
      payload.sub.length === 0 ||
      payload.sub.length > 128
    )
      throw new AuthError();
    const role = typeof payload.role === 'string' && ROLES.has(payload.role) ? (payload.role as Role) : Role.USER;
    user = { id: payload.sub, role };
    expiresAtMs = payload.exp * 1000;
  } catch {
    throw new AuthError();
  }
  if (VERIFIED_TOKENS.size >= VERIFIED_TOKEN_CACHE_SIZE) VERIFIED_TOKENS.delete(VERIFIED_TOKENS.keys().next().value!);
  VERIFIED_TOKENS.set(key, { user, expiresAtMs });
  return { ...user };
}

/** Reads `Authorization: Bearer <token>`; null when the header is absent. @throws AuthError when present but bad. */
export function userFromAuthorizationHeader(secret: string | JwtSettings, header: string | undefined | null): AuthUser | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) throw new AuthError();
  return verifyToken(secret, match[1]);
}
