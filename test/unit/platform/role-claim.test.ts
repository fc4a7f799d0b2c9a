import { claimValue, highestRole } from '../../../src/platform/role-claim.js';

describe('the role claim rule shared by the API and the web app', () => {
  it('reads a top-level claim of that exact name before a dotted path', () => {
    const claims = { 'a.b': 'admin', a: { b: 'partner' } };
    expect(claimValue(claims, 'a.b')).toBe('admin');
    expect(claimValue({ a: { b: 'partner' } }, 'a.b')).toBe('partner');
    expect(claimValue({ a: 'x' }, 'a.b')).toBeUndefined();
    expect(claimValue({}, 'role')).toBeUndefined();
  });

  it('takes the highest known role of a string or a list, in any case, ignoring the rest', () => {
    expect(highestRole({ role: 'partner' }, 'role')).toBe('PARTNER');
    expect(highestRole({ roles: ['offline_access', 'Admin', 'user'] }, 'roles')).toBe('ADMIN');
    expect(highestRole({ realm_access: { roles: ['user', 7, null, 'partner'] } }, 'realm_access.roles')).toBe('PARTNER');
  });

  it('names no role when the claim is missing, unknown or not a string', () => {
    expect(highestRole({}, 'role')).toBeUndefined();
    expect(highestRole({ role: 'superuser' }, 'role')).toBeUndefined();
    expect(highestRole({ role: 1 }, 'role')).toBeUndefined();
    // Names inherited from Object.prototype are not roles.
    expect(highestRole({ role: ['constructor', 'toString', '__proto__'] }, 'role')).toBeUndefined();
  });
});
