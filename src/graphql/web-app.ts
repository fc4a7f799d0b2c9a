/**
 * The product's web app (web/, built by `npm run build` into dist/web) served by the API at `/`, in
 * every environment, beside `/graphql` (where Apollo Sandbox stays in development):
 * - `/assets/*`: the hashed bundles, cached for a year (`immutable`: a new build has new names);
 * - any other GET that asks for HTML and is not an API path (`/`, `/conversions/…`, `/history`…):
 *   `index.html`, `no-cache` (always revalidated, so a deploy is seen at once), with the app's own
 *   Content-Security-Policy: scripts, styles, media and connections (HTTP and graphql-ws) from this
 *   origin only, no inline script, no framing.
 * When dist/web has no build, nothing is served here (the JSON 404 answers, as for any unknown path).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

/**
 * The app's CSP. `connect-src 'self'` covers same-origin `ws:`/`wss:` (CSP Level 3); `media-src`
 * the signed `/files/…` links (PUBLIC_URL is this origin); `blob:` the recording played back before it
 * is sent; `data:` the inline SVG icon.
 */
export const WEB_APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the API, never to the app's client-side routes. */
const API_PATHS = /^\/(graphql|files|health|metrics|assets)(\/|$)/;

/** dist/web of this checkout: the first folder above this module that holds package.json, + dist/web. */
export function defaultWebAppDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'web');
}

/** Routes serving the built app from `dir`; a no-op router when it has not been built. */
export function webAppRoutes(dir = defaultWebAppDir()): Router {
  const router = express.Router();
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return router;
  const index = readFileSync(indexPath);
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      index: false,
      fallthrough: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'public, max-age=31536000, immutable'),
    }),
  );
  router.get(/.*/, (req: Request, res: Response, next: NextFunction) => {
    if (API_PATHS.test(req.path) || !req.accepts('html')) {
      next();
      return;
    }
    // A file of the build other than the bundles (favicon…): served as is, revalidated.
    const name = req.path.slice(1);
    if (name && !name.includes('..') && /^[\w.-]+$/.test(name) && existsSync(join(dir, name)) && name !== 'index.html') {
      res.set('Cache-Control', 'no-cache').sendFile(join(dir, name));
      return;
    }
    res
      .set({ 'Cache-Control': 'no-cache', 'Content-Security-Policy': WEB_APP_CSP, 'Content-Type': 'text/html; charset=utf-8' })
      .send(index);
  });
  return router;
}
