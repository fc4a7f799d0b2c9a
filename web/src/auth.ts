/**
 * The credential the app sends: a bearer JWT (`npm run token`) or a partner API key (`mvk_…`),
 * pasted by the user and kept in localStorage (no OpenID Connect issuer is configured yet, so the app
 * asks for one, as the API's development mode expects).
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

/** The `sub` and `role` of a JWT, read without verifying (for display only; the API verifies). */
export function claimsOf(credential: string): { sub?: string; role?: string } {
  const parts = credential
    .trim()
    .replace(/^bearer\s+/i, '')
    .split('.');
  if (parts.length !== 3) return {};
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as { sub?: unknown; role?: unknown };
    return {
      sub: typeof claims.sub === 'string' ? claims.sub : undefined,
      role: typeof claims.role === 'string' ? claims.role : undefined,
    };
  } catch {
    return {};
  }
}
