/**
 * The product's web app (web/, built by `npm run build` into dist/web) served by the API at `/`, in
 * every environment, beside `/graphql` (where Apollo Sandbox stays in development):
 * - `/assets/*`: the hashed bundles, cached for a year (`immutable`: a new build has new names);
 * - a GET of one of the app's routes (`/`, `/conversions/<id>`, `/history`, `/admin`) that accepts HTML:
 *   `index.html`, `no-cache` (always revalidated, so a deploy is seen at once), with the app's own
 *   Content-Security-Policy: scripts, styles, media and connections (HTTP and graphql-ws) from this
 *   origin only, no inline script, no framing.
 * - `/app-config.json`: what the app needs to know of this deployment: the OpenID Connect issuer and
 *   client to sign in with (authorization code + PKCE), or null (the app then asks for a token).
 * When dist/web has no build, nothing is served here (the JSON 404 answers, as for any unknown path).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { OidcConfig } from '../platform/config.js';

/**
 * The app's CSP. `connect-src 'self'` covers same-origin `ws:`/`wss:` (CSP Level 3); `media-src`
 * the signed `/files/…` links (PUBLIC_URL is this origin); `blob:` the recording played back before it
 * is sent; `data:` the inline SVG icon.
 */
export const WEB_APP_CSP = webAppCsp(null);

/** The CSP with the OpenID Connect issuer's origin allowed for connections (discovery, token endpoint). */
export function webAppCsp(issuer: string | null): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob:",
    issuer ? `connect-src 'self' ${new URL(issuer).origin}` : "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** What the app reads from `/app-config.json`. */
export interface WebAppConfig {
  oidc: { issuer: string; clientId: string; scope: string; audience: string; roleClaim: string } | null;
}

export function webAppConfig(oidc: OidcConfig | null): WebAppConfig {
  if (!oidc?.clientId) return { oidc: null };
  const { issuer, clientId, scope, audience, roleClaim } = oidc;
  return { oidc: { issuer, clientId, scope, audience, roleClaim } };
}

/**
 * The app's client-side routes (web/src/router.ts): only these answer with index.html; any other path
 * stays the API's JSON 404 (the app shows its own "not found" page for unknown in-app links).
 */
const APP_ROUTES = /^\/(history|admin|auth\/callback|conversions\/[^/]+)?$/;

/** dist/web of this checkout: the first folder above this module that holds package.json, + dist/web. */
export function defaultWebAppDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'web');
}

/** Routes serving the built app from `dir`; a no-op router when it has not been built. */
export function webAppRoutes(dir = defaultWebAppDir(), oidc: OidcConfig | null = null): Router {
  const router = express.Router();
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return router;
  const index = readFileSync(indexPath);
  const csp = webAppCsp(oidc?.clientId ? oidc.issuer : null);
  const appConfig = JSON.stringify(webAppConfig(oidc));
  router.get('/app-config.json', (_req: Request, res: Response) => {
    res.set({ 'Cache-Control': 'no-cache', 'Content-Type': 'application/json; charset=utf-8' }).send(appConfig);
  });
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      index: false,
      fallthrough: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'public, max-age=31536000, immutable'),
    }),
  );
  router.get(APP_ROUTES, (req: Request, res: Response, next: NextFunction) => {
    if (!req.accepts('html')) {
      next();
      return;
    }
    res.set({ 'Cache-Control': 'no-cache', 'Content-Security-Policy': csp, 'Content-Type': 'text/html; charset=utf-8' }).send(index);
  });
  return router;
}
