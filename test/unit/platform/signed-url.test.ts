/**
 * Signed file links: a link verifies for its own key until it expires, and any change to the key,
 * the expiry or the signature, or another secret, makes it fail.
 */
import { signUrl, signedPath, verifySignedRequest } from '../../../src/platform/signed-url.js';

const config = { urlSigningSecret: 'test-secret-0123456789', signedUrlTtlSeconds: 600, publicUrl: 'https://api.example.com' };
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function parts(path: string) {
  const url = new URL(path, 'http://x');
  return { key: url.pathname.replace(/^\/files\//, ''), expires: url.searchParams.get('expires'), sig: url.searchParams.get('sig') };
}

describe('signed file links', () => {
  it('puts the key, the expiry (now + TTL) and a 64-hex-digit HMAC in the link', () => {
    const url = signUrl(config, 'conversions/abc/vocals.wav', NOW);
    expect(url).toMatch(/^https:\/\/api\.example\.com\/files\/conversions\/abc\/vocals\.wav\?expires=\d+&sig=[0-9a-f]{64}$/);
    expect(parts(url).expires).toBe(String(NOW / 1000 + 600));
  });

  it('verifies its own link until the expiry and not after', () => {
    const { key, expires, sig } = parts(signedPath(config, 'conversions/abc/vocals.wav', NOW));
    expect(verifySignedRequest(config, key, expires, sig, NOW + 599_000)).toEqual({ ok: true, key, expires: NOW / 1000 + 600 });
    expect(verifySignedRequest(config, key, expires, sig, NOW + 600_000)).toEqual({ ok: false, reason: 'EXPIRED' });
  });

  it('rejects another key, a stretched expiry, a changed signature and another secret', () => {
    const { key, expires, sig } = parts(signedPath(config, 'conversions/abc/vocals.wav', NOW));
    expect(verifySignedRequest(config, 'conversions/abd/vocals.wav', expires, sig, NOW).ok).toBe(false);
    expect(verifySignedRequest(config, key, String(Number(expires) + 3600), sig, NOW)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    const flipped = (sig![0] === 'a' ? 'b' : 'a') + sig!.slice(1);
    expect(verifySignedRequest(config, key, expires, flipped, NOW)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(verifySignedRequest({ urlSigningSecret: 'other-secret' }, key, expires, sig, NOW)).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });

  it('answers malformed or missing parameters and invalid keys without computing anything else', () => {
    const { key, expires, sig } = parts(signedPath(config, 'a/b', NOW));
    expect(verifySignedRequest(config, key, undefined, sig, NOW)).toEqual({ ok: false, reason: 'MALFORMED' });
    expect(verifySignedRequest(config, key, expires, undefined, NOW)).toEqual({ ok: false, reason: 'MALFORMED' });
    expect(verifySignedRequest(config, key, [expires, expires], sig, NOW)).toEqual({ ok: false, reason: 'MALFORMED' });
    expect(verifySignedRequest(config, key, expires, sig!.toUpperCase(), NOW)).toEqual({ ok: false, reason: 'MALFORMED' });
    expect(verifySignedRequest(config, '../a/b', expires, sig, NOW)).toEqual({ ok: false, reason: 'INVALID_KEY' });
    expect(() => signedPath(config, '../etc/passwd', NOW)).toThrow('Invalid storage key');
  });
});
