/**
 * Vite for the web app (web/): `npm run web:dev` serves it with `/graphql` (HTTP and graphql-ws) and
 * `/files` proxied to a local API (API_URL, default http://localhost:4000); `npm run build` writes
 * the production bundle to dist/web, which the API serves at `/` (src/graphql/web-app.ts).
 *
 * JSX is compiled by Vite's own transform (automatic runtime); no React plugin is needed (it only
 * adds Fast Refresh, and pulled a Babel 8 pre-release that conflicts with jest's Babel 7).
 */
import { defineConfig } from 'vite';

const api = process.env.API_URL ?? 'http://localhost:4000';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // Inline nothing as data: URLs (the CSP allows scripts and styles from the origin only).
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/files': { target: api, changeOrigin: true },
      '/app-config.json': { target: api, changeOrigin: true },
    },
  },
});
