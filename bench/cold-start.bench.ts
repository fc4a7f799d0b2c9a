/**
 * `npm run bench:cold-start`: how long a user waits before anything happens (issue 16's cold-start targets).
 *
 * 1. `melody-vocals analyze --json` on a 10 s melody (the bench's own: 44.1 kHz mono 16-bit WAV of a
 *    sung-like tone with vibrato), run RUNS times as a fresh process: wall time (spawn to exit) and the
 *    process's CPU time (user + system, reported by the child itself at exit), against ≤ 350 ms wall.
 * 2. Which modules a fresh `convert` and `analyze` load: every module URL the ESM loader resolves in
 *    the child (a resolve hook registered with `module.register`, writing to a file), counted, and
 *    checked against the service stack's packages (Apollo, type-graphql, MikroORM, ioredis, Bee-Queue,
 *    express, graphql-ws, winston, OpenTelemetry…), which neither command may load. `convert --help`
 *    would stop before the pipeline's imports matter, so the check runs a real conversion of the same melody.
 * 3. The API's readiness: `node dist/src/main.js api` started RUNS times against a database that is
 *    already migrated (a first start migrates it and is reported apart), timed from spawn to the first
 *    200 of `GET /health/ready` (polled every 10 ms), against ≤ 2 s; beside it the CPU time the process
 *    used from its start to the end of its graceful stop.
 *
 * The load average is printed beside the figures: on a busy machine wall times say little, CPU
 * times more. `--runs=N` (default 5), `--json`, `--root=DIR` times another built checkout's CLI and API
 * (its `bin/` and `dist/`), so a before and an after can be measured alternately on the same machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Cleanup, createTestResources, freePort } from '../test/support/service-harness.js';
import { benchMelodyWav } from './bench-melody.js';
import { median, waitForHttp } from './bench-process.js';

/** The built checkout whose CLI and API are timed: this one, or `--root=DIR` (another built checkout, for a before/after in one run). */
const ROOT =
  process.argv.find((arg) => arg.startsWith('--root='))?.slice('--root='.length) ??
  join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'melody-vocals.js');
const ANALYZE_TARGET_MS = 350;
const READY_TARGET_MS = 2000;
/** Packages of the service shell; the CLI must load none of them. */
const SERVICE_PACKAGES = [
  '@apollo/',
  'type-graphql',
  '@mikro-orm/',
  'ioredis',
  'bee-queue',
  'express',
  'graphql-ws',
  'graphql-redis-subscriptions',
  'graphql-upload-minimal',
  'winston',
  '@opentelemetry/',
  'mollitia',
  'prom-client',
  'jose',
  'pg',
  'knex',
];

/**
 * Preloaded into each measured child (`--import`): reports the process's own CPU time at exit on
 * fd 3, and, when MV_BENCH_MODULES names a file, registers a resolve hook that appends every resolved
 * module URL to it.
 */
const PRELOAD = `
import { writeSync } from 'node:fs';
import { register } from 'node:module';
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  try { writeSync(3, JSON.stringify({ cpuMs: (user + system) / 1000 })); } catch {}
});
if (process.env.MV_BENCH_MODULES) register(${JSON.stringify(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.MV_BENCH_MODULES, result.url + '\\n');
  return result;
}`),
)});
`;

interface ChildRun {
  wallMs: number;
  cpuMs: number;
  code: number | null;
  stderr: string;
}

function runChild(args: string[], env: Record<string, string> = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let report = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (report += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const wallMs = performance.now() - started;
      let cpuMs = NaN;
      try {
        cpuMs = (JSON.parse(report) as { cpuMs: number }).cpuMs;
      } catch {
        // the child died before its exit hook ran
      }
      resolve({ wallMs, cpuMs, code, stderr });
    });
  });
}

function load(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function writeMelody(dir: string, seconds: number): string {
  const file = join(dir, `melody-${seconds}.wav`);
  writeFileSync(file, benchMelodyWav(seconds));
  return file;
}

interface ModuleCheck {
  command: string;
  modules: number;
  servicePackages: string[];
}

async function loadedModules(dir: string, preload: string, label: string, args: string[]): Promise<ModuleCheck> {
  const list = join(dir, `modules-${label}.txt`);
  const run = await runChild(['--import', preload, CLI, ...args], { MV_BENCH_MODULES: list });
  if (run.code !== 0) throw new Error(`${label} exited with ${run.code}: ${run.stderr.slice(-400)}`);
  const urls = [...new Set(existsSync(list) ? readFileSync(list, 'utf8').split('\n').filter(Boolean) : [])];
  const found = new Set<string>();
  for (const url of urls) {
    const at = url.lastIndexOf('/node_modules/');
    if (at < 0) continue;
    const rest = url.slice(at + '/node_modules/'.length);
    for (const name of SERVICE_PACKAGES) if (rest.startsWith(name.endsWith('/') ? name : `${name}/`)) found.add(name);
  }
  return { command: label, modules: urls.length, servicePackages: [...found] };
}

/**
 * Starts the API, times spawn → first 200 of /health/ready, then stops it (SIGTERM) and waits for its
 * exit; also the CPU time it had used by then (its start-up and the graceful stop), from the preload.
 */
async function timeReady(env: Record<string, string>, preload: string): Promise<{ readyMs: number; cpuMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', preload, join(ROOT, 'dist', 'src', 'main.js'), 'api'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  let report = '';
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (report += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let readyMs = NaN;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health/ready`, {
      timeoutMs: 120_000,
      intervalMs: 10,
      exited: () => child.exitCode !== null,
    });
    readyMs = performance.now() - started;
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await closed;
    clearTimeout(killer);
  }
  let cpuMs = NaN;
  try {
    cpuMs = (JSON.parse(report) as { cpuMs: number }).cpuMs;
  } catch {
    // killed before its exit hook ran
  }
  return { readyMs, cpuMs };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const runs = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.slice('--runs='.length) ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'mv-bench-cold-'));
  const cleanup = new Cleanup();
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const preload = join(dir, 'preload.mjs');
    writeFileSync(preload, PRELOAD);
    const preloadUrl = pathToFileURL(preload).href;
    const clip = writeMelody(dir, 10);
    const loadBefore = load();

    // 1. analyze --json, fresh process each time (one unmeasured run first warms the OS file cache).
    await runChild(['--import', preloadUrl, CLI, 'analyze', '--json', clip]);
    const analyze: ChildRun[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await runChild(['--import', preloadUrl, CLI, 'analyze', '--json', clip]);
      if (run.code !== 0) throw new Error(`analyze exited with ${run.code}: ${run.stderr.slice(-400)}`);
      analyze.push(run);
    }

    // 2. What the CLI's commands load.
    const modules = [
      await loadedModules(dir, preloadUrl, 'analyze', ['analyze', '--json', clip]),
      await loadedModules(dir, preloadUrl, 'convert', ['convert', clip, '--out', join(dir, 'out'), '--prompt', 'a short test song']),
    ];

    // 3. API readiness on a migrated database.
    const resources = await createTestResources(cleanup, { storageLabel: 'mv-bench-cold-' });
    const env = { ...resources.env, NODE_ENV: 'production', LOG_LEVEL: 'error' };
    const migrating = await timeReady(env, preloadUrl);
    const ready: Array<{ readyMs: number; cpuMs: number }> = [];
    for (let i = 0; i < runs; i++) ready.push(await timeReady(env, preloadUrl));
    const loadAfter = load();

    const figures = {
      runs,
      loadAverage: { before: loadBefore, after: loadAfter },
      analyze: {
        wallMs: analyze.map((run) => Math.round(run.wallMs)),
        cpuMs: analyze.map((run) => Math.round(run.cpuMs)),
        medianWallMs: Math.round(median(analyze.map((run) => run.wallMs))),
        medianCpuMs: Math.round(median(analyze.map((run) => run.cpuMs))),
        targetWallMs: ANALYZE_TARGET_MS,
      },
      modules,
      api: {
        firstStartMigratingMs: Math.round(migrating.readyMs),
        readyMs: ready.map((run) => Math.round(run.readyMs)),
        cpuMs: ready.map((run) => Math.round(run.cpuMs)),
        medianReadyMs: Math.round(median(ready.map((run) => run.readyMs))),
        medianCpuMs: Math.round(median(ready.map((run) => run.cpuMs))),
        targetMs: READY_TARGET_MS,
      },
    };
    if (json) {
      console.log(JSON.stringify(figures, null, 2));
      return;
    }
    const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
    console.log(`Cold start of ${ROOT}, ${runs} runs each, load average ${loadBefore} → ${loadAfter}`);
    console.log(
      `analyze --json (10 s WAV): wall median ${figures.analyze.medianWallMs} ms (${figures.analyze.wallMs.join(', ')}), ` +
        `CPU median ${figures.analyze.medianCpuMs} ms (${figures.analyze.cpuMs.join(', ')}); target ≤ ${ANALYZE_TARGET_MS} ms wall: ` +
        verdict(figures.analyze.medianWallMs <= ANALYZE_TARGET_MS),
    );
    for (const check of modules) {
      console.log(
        `${check.command}: ${check.modules} modules loaded; service stack: ` +
          (check.servicePackages.length ? `LOADED (${check.servicePackages.join(', ')})` : 'none (met)'),
      );
    }
    console.log(
      `API /health/ready 200 after start, migrated database: median ${figures.api.medianReadyMs} ms (${figures.api.readyMs.join(', ')}), ` +
        `CPU to ready and stop median ${figures.api.medianCpuMs} ms (${figures.api.cpuMs.join(', ')}); ` +
        `target ≤ ${READY_TARGET_MS} ms: ${verdict(figures.api.medianReadyMs <= READY_TARGET_MS)}; first start (migrating): ${figures.api.firstStartMigratingMs} ms`,
    );
  } finally {
    await cleanup.run();
  }
}

await main();
