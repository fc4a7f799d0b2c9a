/**
 * The web app's production build (dist/web) for browser tests: built by `npm run build` (and so by
 * `npm ci`'s prepare), rebuilt here when it is missing or older than any file under web/ (a clean
 * clone whose build was skipped, or sources changed since), so a browser test never drives a stale app.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB_BUILD_INDEX = join(ROOT, 'dist', 'web', 'index.html');

function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/web unless it is newer than every file under web/. */
export function ensureWebBuild(): void {
  if (existsSync(WEB_BUILD_INDEX) && statSync(WEB_BUILD_INDEX).mtimeMs >= newestUnder(join(ROOT, 'web'))) return;
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const run = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`vite build failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
}
