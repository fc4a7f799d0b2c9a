/**
 * Jest global setup of the e2e project: makes sure `dist/` (what `node dist/src/main.js` runs) is
 * built from the current sources before an e2e test starts service processes from it.
 *
 * Why: the e2e tests run the real entry point as separate processes, and those load `dist/`, not
 * the TypeScript sources; a stale build would test yesterday's code and pass or fail for nothing.
 *
 * How: every `.ts` file under `src/` and `migrations/` (tests excepted) must have its
 * `dist/<same path>.js`, at least as new as the source, and `dist/src/main.js` must be newer than the
 * tsconfig files. When that holds, nothing runs (a few ms of `stat`s): the normal case under CI,
 * where `npm ci` ran `prepare` (= `npm run build`) just before. Otherwise `tsc -p
 * tsconfig.build.json` runs incrementally (`--incremental`, build info in
 * `node_modules/.cache/melody-vocals-dist.tsbuildinfo`). Measured on the 2-core dev box under load:
 * a cold build ~20 s, an incremental one after editing a file ~8 s, the fresh check ~0.1 s.
 *
 * - Type errors do not stop the tests (tsc still emits; `npm run typecheck` is the gate for
 *   those): they are printed as a warning.
 * - An incremental tsc does not rewrite an output whose source was touched but not changed, and
 *   does not notice deleted outputs: the first case is settled by marking such outputs fresh, the
 *   second by a full (non-incremental) build when an output is still missing.
 * - Builds of several jest runs at once are serialised by a lock directory holding the owner's pid
 *   (a lock whose owner is gone is taken over), so two compilers never write the same file.
 *
 * Only the e2e project names this setup (jest.config.js), so unit and integration runs never build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(ROOT, 'dist');
const SOURCE_DIRS = ['src', 'migrations'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];
const CACHE_DIR = join(ROOT, 'node_modules', '.cache');
const BUILD_INFO = join(CACHE_DIR, 'melody-vocals-dist.tsbuildinfo');
const LOCK_DIR = join(CACHE_DIR, 'melody-vocals-dist-build.lock');
/** A lock older than this is left over from a killed run. */
const STALE_LOCK_MS = 5 * 60_000;
const LOCK_WAIT_MS = 4 * 60_000;

/** A source and the module tsc emits for it. */
interface Output {
  source: string;
  output: string;
}

function sourcesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function outputs(root = ROOT): Output[] {
  return SOURCE_DIRS.flatMap((dir) => sourcesUnder(join(root, dir))).map((source) => ({
    source,
    output: join(DIST, relative(root, source)).replace(/\.ts$/, '.js'),
  }));
}

/** What makes `dist/` stale: outputs missing or older than their source (and newer config files). */
export function staleOutputs(): { missing: Output[]; older: Output[]; configChanged: boolean } {
  const missing: Output[] = [];
  const older: Output[] = [];
  for (const item of outputs()) {
    if (!existsSync(item.output)) missing.push(item);
    else if (statSync(item.output).mtimeMs < statSync(item.source).mtimeMs) older.push(item);
  }
  const main = join(DIST, 'src', 'main.js');
  const mainTime = existsSync(main) ? statSync(main).mtimeMs : 0;
  const configChanged = CONFIG_FILES.some((file) => statSync(join(ROOT, file)).mtimeMs > mainTime);
  return { missing, older, configChanged };
}

function isFresh(state = staleOutputs()): boolean {
  return state.missing.length === 0 && state.older.length === 0 && !state.configChanged;
}

function runTsc(incremental: boolean): { status: number | null; output: string } {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '-p', 'tsconfig.build.json', '--pretty', 'false'];
  if (incremental) args.push('--incremental', '--tsBuildInfoFile', BUILD_INFO);
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock's owner is gone (killed mid-build) or the lock is older than any build takes. */
function lockIsAbandoned(): boolean {
  const lock = statSync(LOCK_DIR, { throwIfNoEntry: false });
  if (!lock) return false;
  const age = Date.now() - lock.mtimeMs;
  if (age > STALE_LOCK_MS) return true;
  let owner = NaN;
  try {
    owner = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8').trim() || NaN);
  } catch {
    // No pid file (yet).
  }
  // A lock without a pid yet is being taken right now, unless it has been like that for seconds.
  if (Number.isNaN(owner)) return age > 5000;
  return !processExists(owner);
}

function withLock<T>(work: () => T): T {
  mkdirSync(CACHE_DIR, { recursive: true });
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsAbandoned()) rmSync(LOCK_DIR, { recursive: true, force: true });
      else if (Date.now() > until) throw new Error(`Another build holds ${LOCK_DIR}; remove it if no build is running.`);
      else sleep(250);
    }
  }
  writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
  try {
    return work();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

/**
 * Builds `dist/` when it is stale. @returns what was done and how long it took (ms), for the log.
 * Throws when tsc emitted nothing or outputs are still missing afterwards.
 */
export function ensureDistBuilt(): { built: boolean; ms: number } {
  const started = performance.now();
  const before = staleOutputs();
  if (isFresh(before)) return { built: false, ms: performance.now() - started };
  const reason = before.configChanged
    ? 'a tsconfig file changed'
    : `${before.missing.length + before.older.length} module(s) missing or older than their source, e.g. ${relative(ROOT, (before.missing[0] ?? before.older[0]).source)}`;
  process.stderr.write(`\n[e2e] dist/ is stale (${reason}): building with tsc -p tsconfig.build.json...\n`);
  return withLock(() => {
    // Another run may have built it while we waited for the lock.
    if (isFresh()) return { built: false, ms: performance.now() - started };
    let result = runTsc(true);
    if (result.status === 0 || result.status === 2) {
      if (staleOutputs().missing.length > 0) {
        // Deleted outputs that the build info still lists: start over.
        rmSync(BUILD_INFO, { force: true });
        result = runTsc(true);
      }
    }
    if (result.status !== 0 && result.status !== 2)
      throw new Error(`tsc -p tsconfig.build.json emitted nothing (exit ${result.status}):\n${result.output}`);
    if (result.status === 2)
      process.stderr.write(
        `[e2e] tsc reported type errors (outputs written anyway; \`npm run typecheck\` fails on them):\n${result.output.slice(0, 4000)}\n`,
      );
    const after = staleOutputs();
    if (after.missing.length > 0)
      throw new Error(`tsc did not emit ${after.missing.map((item) => relative(ROOT, item.output)).join(', ')}`);
    // tsc (incremental) skips re-emitting modules whose source text is unchanged: mark those fresh.
    const now = new Date();
    for (const item of after.older) utimesSync(item.output, now, now);
    if (after.configChanged) utimesSync(join(DIST, 'src', 'main.js'), now, now);
    const ms = performance.now() - started;
    process.stderr.write(`[e2e] dist/ built in ${(ms / 1000).toFixed(1)} s\n`);
    return { built: true, ms };
  });
}

export default function globalSetup(): void {
  ensureDistBuilt();
}
