/**
 * Bearer tokens: HS256 JWTs whose `sub` is the user id and `role` one of {@link Role}. Tokens are
 * never logged; verification failures are one generic error so callers learn nothing from them.
 */
import jwt from 'jsonwebtoken';
import { Role } from '../modules/user/user.entity.js';

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

/** Signs a token for `userId` (for `npm run token` and tests). Default lifetime 30 days. */
export function signToken(secret: string, userId: string, role: Role = Role.USER, expiresInSeconds = 30 * 24 * 3600): string {
  return jwt.sign({ role }, secret, { algorithm: 'HS256', subject: userId, expiresIn: expiresInSeconds });
}

/** Verifies a raw token (no `Bearer ` prefix); it must carry an `exp` (a token without one would never expire). @throws AuthError */
export function verifyToken(secret: string, token: string): AuthUser {
  try {
    const payload = jwt.verify(token, secret, { algorithms: ['HS256'] });
    if (typeof payload !== 'object' || typeof payload.exp !== 'number' || typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) throw new AuthError();
    const role = typeof payload.role === 'string' && ROLES.has(payload.role) ? (payload.role as Role) : Role.USER;
    return { id: payload.sub, role };
  } catch {
    throw new AuthError();
  }
}

/** Reads `Authorization: Bearer <token>`; null when the header is absent. @throws AuthError when present but bad. */
export function userFromAuthorizationHeader(secret: string, header: string | undefined | null): AuthUser | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) throw new AuthError();
  return verifyToken(secret, match[1]);
}
