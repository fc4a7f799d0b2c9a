/** Bearer token verification (src/platform/auth.ts): what a token must carry to identify anybody. */
import jwt from 'jsonwebtoken';
import { AuthError, signToken, verifyToken } from '../../../src/platform/auth.js';
import { Role } from '../../../src/modules/user/user.entity.js';

const SECRET = 'a-test-secret-of-enough-length-0123456789';

describe('verifyToken', () => {
  it('accepts a token signed by signToken, with its subject and role', () => {
    expect(verifyToken(SECRET, signToken(SECRET, 'ada', Role.ADMIN))).toEqual({ id: 'ada', role: Role.ADMIN });
  });

  it('refuses a token signed with another secret, also after both secrets were used (one key object per secret)', () => {
    const other = `${SECRET}-other`;
    expect(verifyToken(other, signToken(other, 'eve'))).toEqual({ id: 'eve', role: Role.USER });
    expect(() => verifyToken(SECRET, signToken(other, 'eve'))).toThrow(AuthError);
    expect(() => verifyToken(other, signToken(SECRET, 'ada'))).toThrow(AuthError);
    expect(verifyToken(SECRET, signToken(SECRET, 'ada'))).toEqual({ id: 'ada', role: Role.USER });
  });

  it('refuses an unsigned token (alg none) and one signed with HS512', () => {
    const [, body] = signToken(SECRET, 'ada').split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${body}.`;
    expect(() => verifyToken(SECRET, none)).toThrow(AuthError);
    const hs512 = jwt.sign({ role: 'ADMIN' }, SECRET, { algorithm: 'HS512', subject: 'ada', expiresIn: 60 });
    expect(() => verifyToken(SECRET, hs512)).toThrow(AuthError);
  });

  it('refuses a correctly signed token without exp: it would never expire', () => {
    const forever = jwt.sign({ role: Role.ADMIN }, SECRET, { algorithm: 'HS256', subject: 'ada' });
    expect(() => verifyToken(SECRET, forever)).toThrow(AuthError);
  });

  it('refuses an expired token', () => {
    const expired = jwt.sign({ role: Role.USER, exp: Math.floor(Date.now() / 1000) - 10 }, SECRET, { algorithm: 'HS256', subject: 'ada' });
    expect(() => verifyToken(SECRET, expired)).toThrow(AuthError);
  });

  it('checks iss and aud when configured, and only then', () => {
    const settings = { secret: SECRET, issuer: 'melody-vocals', audience: 'api' };
    expect(verifyToken(settings, signToken(settings, 'ada'))).toEqual({ id: 'ada', role: Role.USER });
    expect(() => verifyToken(settings, signToken(SECRET, 'ada'))).toThrow(AuthError);
    expect(() => verifyToken(settings, signToken({ ...settings, issuer: 'someone-else' }, 'ada'))).toThrow(AuthError);
    expect(() => verifyToken(settings, signToken({ ...settings, audience: 'other' }, 'ada'))).toThrow(AuthError);
    expect(verifyToken(SECRET, signToken(settings, 'ada'))).toEqual({ id: 'ada', role: Role.USER });
  });

  it('answers a token verified before from the cache only until its exp, then refuses it', () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = jwt.sign({ role: Role.PARTNER, exp }, SECRET, { algorithm: 'HS256', subject: 'ada' });
    expect(verifyToken(SECRET, token, exp * 1000 - 2000)).toEqual({ id: 'ada', role: Role.PARTNER });
    expect(verifyToken(SECRET, token, exp * 1000 - 1)).toEqual({ id: 'ada', role: Role.PARTNER });
    expect(() => verifyToken(SECRET, token, exp * 1000)).toThrow(AuthError);
    expect(() => verifyToken(SECRET, token, exp * 1000 + 60_000)).toThrow(AuthError);
  });

  it('does not let a cached token pass under another secret, issuer or audience', () => {
    const settings = { secret: SECRET, issuer: 'melody-vocals', audience: 'api' };
    const token = signToken(settings, 'ada');
    expect(verifyToken(settings, token)).toEqual({ id: 'ada', role: Role.USER });
    expect(() => verifyToken({ ...settings, secret: `${SECRET}-rotated` }, token)).toThrow(AuthError);
    expect(() => verifyToken({ ...settings, issuer: 'someone-else' }, token)).toThrow(AuthError);
    expect(() => verifyToken({ ...settings, audience: 'other' }, token)).toThrow(AuthError);
  });

  it('hands out a copy of the cached user, so a caller changing it changes nobody else', () => {
    const token = signToken(SECRET, 'ada');
    const first = verifyToken(SECRET, token);
    first.role = Role.ADMIN;
    expect(verifyToken(SECRET, token)).toEqual({ id: 'ada', role: Role.USER });
  });
});
