/**
 * How a role is read from an access token's claims, in one place for both builds: the API decides with
 * it (`roleFromClaims` in oidc.ts) and the web app chooses what to show with it (`claimsOf` in
 * web/src/auth.ts). Pure: no imports, so the browser bundle can take it as it is.
 *
 * The claim is a top-level claim of that name, else a dotted path (`realm_access.roles`); its value a
 * role name or a list of them, matched case-insensitively; unknown names are ignored and the highest
 * known role wins.
 */

/** The roles in ascending order of what they may do; the names match the API's `Role` enum. */
export const ROLE_RANK = { USER: 0, PARTNER: 1, ADMIN: 2 } as const;

export type RoleName = keyof typeof ROLE_RANK;

/** The claim's value: a top-level claim of that name first, else the dotted path through objects. */
export function claimValue(claims: Record<string, unknown>, claim: string): unknown {
  const direct = claims[claim];
  if (direct !== undefined || !claim.includes('.')) return direct;
  return claim
    .split('.')
    .reduce<unknown>((at, part) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined), claims);
}

/** The highest known role named by the claim, or undefined when it names none. */
export function highestRole(claims: Record<string, unknown>, claim: string): RoleName | undefined {
  const value = claimValue(claims, claim);
  let best: RoleName | undefined;
  for (const name of Array.isArray(value) ? value : [value]) {
    if (typeof name !== 'string') continue;
    const candidate = name.toUpperCase();
    if (!Object.hasOwn(ROLE_RANK, candidate)) continue;
    const role = candidate as RoleName;
    if (best === undefined || ROLE_RANK[role] > ROLE_RANK[best]) best = role;
  }
  return best;
}
