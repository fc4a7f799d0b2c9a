/**
 * The credential the app sends, kept in localStorage: the access token from signing in with the
 * deployment's OpenID Connect issuer (web/src/oidc.ts), or, where no issuer is configured, a bearer JWT
 * (`npm run token`) or a partner API key (`mvk_…`) pasted by the user.
 */
import { highestRole } from '../../src/platform/role-claim.js';

const KEY = 'melody-vocals.credential';

export function storedCredential(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeCredential(value: string | null): void {
  if (value) localStorage.setItem(KEY, value);
  else localStorage.removeItem(KEY);
}

/** `Bearer <credential>`; a pasted `Bearer …` is not doubled. */
export function authorizationOf(credential: string): string {
  const bare = credential.trim().replace(/^bearer\s+/i, '');
  return `Bearer ${bare}`;
}

/**
 * The `sub`, role and expiry of a JWT, read without verifying (for display only; the API verifies).
 * The role is read from `roleClaim` by the rule the API decides with (src/platform/role-claim.ts).
 */
export function claimsOf(credential: string, roleClaim = 'role'): { sub?: string; role?: string; exp?: number } {
  const parts = credential
    .trim()
    .replace(/^bearer\s+/i, '')
    .split('.');
  if (parts.length !== 3) return {};
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as Record<string, unknown>;
    const role = highestRole(claims, roleClaim);
    return {
      sub: typeof claims.sub === 'string' ? claims.sub : undefined,
      role,
      exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    };
  } catch {
    return {};
  }
}

/** True for a JWT whose `exp` has passed (an API key or opaque token never counts as expired here). */
export function isExpired(credential: string, now = Date.now()): boolean {
  const { exp } = claimsOf(credential);
  return exp !== undefined && exp * 1000 <= now;
}
