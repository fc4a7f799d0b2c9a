/**
 * Unguessable, expiring links to stored files: `<publicUrl>/files/<key>?expires=<unix s>&sig=<hex>`,
 * where `sig` is HMAC-SHA256 (RFC 2104) over `<key>\n<expires>` with `URL_SIGNING_SECRET`. Anyone
 * holding the link may fetch the file until it expires; nobody can make a link for another key or
 * stretch the expiry without the secret. Signatures are compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from './config.js';
import { isValidKey } from './storage.js';

export type SignedUrlConfig = Pick<Config, 'urlSigningSecret' | 'signedUrlTtlSeconds' | 'publicUrl'>;

/** The path prefix the files route serves. */
export const FILES_PATH = '/files/';

function signature(secret: string, key: string, expires: number): string {
  return createHmac('sha256', secret).update(`${key}\n${expires}`).digest('hex');
}

/** The path-and-query part of a signed link (no host). `now` in ms since the epoch, for tests. */
export function signedPath(
  config: SignedUrlConfig,
  key: string,
  now: number = Date.now(),
  ttlSeconds: number = config.signedUrlTtlSeconds,
): string {
  if (!isValidKey(key)) throw new Error('Invalid storage key.');
  const expires = Math.floor(now / 1000) + ttlSeconds;
  const encodedKey = key.split('/').map(encodeURIComponent).join('/');
  return `${FILES_PATH}${encodedKey}?expires=${expires}&sig=${signature(config.urlSigningSecret, key, expires)}`;
}

/** A full signed link under `config.publicUrl`, valid for `ttlSeconds` (default `SIGNED_URL_TTL_SECONDS`). */
export function signUrl(config: SignedUrlConfig, key: string, now: number = Date.now(), ttlSeconds?: number): string {
  return `${config.publicUrl}${signedPath(config, key, now, ttlSeconds)}`;
}

export type SignatureCheck =
  { ok: true; key: string; expires: number } | { ok: false; reason: 'INVALID_KEY' | 'MALFORMED' | 'EXPIRED' | 'BAD_SIGNATURE' };

/**
 * Checks a request for `key` (already URL-decoded) with the query values `expires` and `sig`.
 * The signature is checked before the expiry, so an expired link tells nothing about its validity.
 */
export function verifySignedRequest(
  config: Pick<Config, 'urlSigningSecret'>,
  key: string,
  expiresRaw: unknown,
  sigRaw: unknown,
  now: number = Date.now(),
): SignatureCheck {
  if (!isValidKey(key)) return { ok: false, reason: 'INVALID_KEY' };
  if (typeof expiresRaw !== 'string' || !/^\d{1,12}$/.test(expiresRaw) || typeof sigRaw !== 'string' || !/^[0-9a-f]{64}$/.test(sigRaw)) {
    return { ok: false, reason: 'MALFORMED' };
  }
  const expires = Number(expiresRaw);
  const expected = Buffer.from(signature(config.urlSigningSecret, key, expires), 'hex');
  const given = Buffer.from(sigRaw, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'BAD_SIGNATURE' };
  if (expires * 1000 <= now) return { ok: false, reason: 'EXPIRED' };
  return { ok: true, key, expires };
}
