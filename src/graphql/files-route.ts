/**
 * `GET /files/<key>?expires=…&sig=…`: serves stored files behind signed, expiring links
 * (src/platform/signed-url.ts). 403 for a missing, forged or expired signature (checked before the
 * file is looked up, so probing tells nothing), 404 when a validly signed file is gone. Single byte
 * ranges (RFC 9110 §14) get 206 with `Content-Range`; unsatisfiable ones 416; a header with several
 * ranges or bad syntax is ignored and the whole file is sent, as the RFC allows.
 *
 * With `S3_DOWNLOADS=presigned` a valid link for a file that exists is answered `302 Found` to a
 * presigned S3 GET that expires with the link (same content type, disposition and cache rule, signed
 * into the URL); the store then serves the bytes and the ranges itself.
 */
import { pipeline } from 'node:stream/promises';
import type { Request, RequestHandler, Response } from 'express';
import { verifySignedRequest } from '../platform/signed-url.js';
import type { Services } from '../platform/services.js';

/** Content types by file extension; anything else is `application/octet-stream`. */
const CONTENT_TYPES: Record<string, string> = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  mid: 'audio/midi',
  midi: 'audio/midi',
  musicxml: 'application/vnd.recordare.musicxml+xml',
  json: 'application/json',
};

export function contentTypeOf(key: string): string {
  const extension = /\.([A-Za-z0-9]+)$/.exec(key)?.[1]?.toLowerCase();
  return (extension && CONTENT_TYPES[extension]) || 'application/octet-stream';
}

/** A satisfiable single range (inclusive ends), `unsatisfiable`, or null (send the whole file). */
export type RangeResult = { start: number; end: number } | 'unsatisfiable' | null;

/** Parses a `Range` header against a file of `size` bytes. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null; // other units, several ranges or bad syntax: ignore the header
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return null; // invalid range: ignore the header
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function deny(res: Response, status: number, message: string): void {
  res
    .status(status)
    .type('application/json')
    .set('Cache-Control', 'no-store')
    .send(JSON.stringify({ error: message }));
}

/** The handler, mounted at `/files`. */
export function filesRoute(services: Services): RequestHandler {
  const { config, storage, logger } = services;
  const presigned = config.s3?.downloads === 'presigned' && storage.presignRead ? storage.presignRead.bind(storage) : null;
  return async (req: Request, res: Response) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD');
      deny(res, 405, 'Method not allowed.');
      return;
    }
    let key: string;
    try {
      key = req.path.replace(/^\/+/, '').split('/').map(decodeURIComponent).join('/');
    } catch {
      deny(res, 403, 'Forbidden.');
      return;
    }
    const now = Date.now();
    const check = verifySignedRequest(config, key, req.query.expires, req.query.sig, now);
    if (!check.ok) {
      deny(res, 403, check.reason === 'EXPIRED' ? 'This link has expired.' : 'Forbidden.');
      return;
    }
    try {
      const info = await storage.stat(key);
      if (!info) {
        deny(res, 404, 'Not found.');
        return;
      }
      const life = Math.max(0, check.expires - Math.floor(now / 1000));
      const headers = {
        'Content-Type': contentTypeOf(key),
        'Cache-Control': `private, max-age=${life}`,
        'Content-Disposition': `inline; filename="${key.split('/').pop()}"`,
      };
      if (presigned) {
        const location = await presigned(key, {
          expiresInSeconds: life,
          contentType: headers['Content-Type'],
          contentDisposition: headers['Content-Disposition'],
          cacheControl: headers['Cache-Control'],
        });
        // The redirect itself is not cached: a new one is signed for whatever life the link has left.
        res.status(302).set({ Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).end();
        return;
      }
      const range = parseRange(req.headers.range, info.size);
      res.set({
        ...headers,
        'Accept-Ranges': 'bytes',
        'X-Content-Type-Options': 'nosniff',
        'Last-Modified': info.modifiedAt.toUTCString(),
      });
      if (range === 'unsatisfiable') {
        res.status(416).set('Content-Range', `bytes */${info.size}`).end();
        return;
      }
      if (range) {
        res.status(206).set({
          'Content-Range': `bytes ${range.start}-${range.end}/${info.size}`,
          'Content-Length': String(range.end - range.start + 1),
        });
      } else {
        res.status(200).set('Content-Length', String(info.size));
      }
      if (req.method === 'HEAD' || info.size === 0) {
        res.end();
        return;
      }
      const stream = await storage.openRead(key, range ?? undefined);
      await pipeline(stream, res);
    } catch (error) {
      const reason = (error as { reason?: string }).reason;
      if (!res.headersSent) {
        if (reason === 'NOT_FOUND') deny(res, 404, 'Not found.');
        else deny(res, 500, 'Could not read the file.');
      } else {
        res.destroy();
      }
      if (reason !== 'NOT_FOUND' && (error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        logger.warn('Files route failed', { key, error: (error as Error).message });
      }
    }
  };
}
