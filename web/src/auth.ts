/**
 * The credential the app sends, kept in localStorage: the access token from signing in with the
 * deployment's OpenID Connect issuer (web/src/oidc.ts), or, where no issuer is configured, a bearer JWT
 * (`npm run token`) or a partner API key (`mvk_…`) pasted by the user.
 */
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

const RANK: Record<string, number> = { USER: 0, PARTNER: 1, ADMIN: 2 };

/**
 * The `sub`, role and expiry of a JWT, read without verifying (for display only; the API verifies).
 * The role is read from `roleClaim` as the API reads it (a top-level claim of that name, else a dotted
 * path; a string or a list, the highest role wins).
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
    let value: unknown = claims[roleClaim];
    if (value === undefined && roleClaim.includes('.')) {
      value = roleClaim
        .split('.')
        .reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), claims);
    }
    const roles = (Array.isArray(value) ? value : [value]).filter((r): r is string => typeof r === 'string').map((r) => r.toUpperCase());
    const role = roles.filter((r) => r in RANK).sort((a, b) => RANK[b] - RANK[a])[0];
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
