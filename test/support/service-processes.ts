/**
 * The service as real processes for end-to-end tests: `node dist/src/main.js api|worker` with an
 * environment of the test's own (service-harness.ts), started, awaited until ready, and stopped
 * (SIGTERM, then SIGKILL after a grace period) by the cleanup list. Whatever a process printed is
 * kept (the last lines) so a failing test can show it.
 *
 * A process the cleanup never reached (the test process was killed, or exited first) is stopped by
 * an orphan guard (below), so no service process outlives its test run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';
import { freePort, type Cleanup } from './service-harness.js';

/** The repository root: two folders up from test/support, three when this runs compiled from dist/test/support (bench scripts). */
const ROOT = ((up2: string) => (existsSync(join(up2, 'package.json')) ? up2 : resolve(up2, '..')))(
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'),
);
/** The built entry point (test/support/dist-build.global-setup.ts keeps it current). */
export const MAIN_SCRIPT = join(ROOT, 'dist', 'src', 'main.js');

/** Variables of the test runner's own environment a service process may see (everything else is set explicitly). */
const PASSED_THROUGH = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SYSTEMROOT'];
/** Lines of output kept per process. */
const KEPT_LINES = 400;

/**
 * The orphan guard: a small process holding the pids of the service processes this test process
 * started, on a pipe from us. When this process ends in any way (even SIGKILL, which skips every
 * handler; and jest's sandbox gives a test its own copy of `process`, whose 'exit' and signal
 * listeners never fire), the pipe closes and the guard sends SIGTERM to every pid still registered,
 * then SIGKILL after 5 s. Lines: `+<pid>` registers, `-<pid>` forgets (the process exited).
 */
const GUARD_SCRIPT = `
const pids = new Set();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let end = pending.indexOf('\\n'); end >= 0; end = pending.indexOf('\\n')) {
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    const pid = Number(line.slice(1));
    if (line[0] === '+') pids.add(pid); else pids.delete(pid);
  }
});
const signal = (name) => { for (const pid of pids) { try { process.kill(pid, name); } catch {} } };
process.stdin.on('end', () => {
  if (pids.size === 0) process.exit(0);
  signal('SIGTERM');
  setTimeout(() => { signal('SIGKILL'); process.exit(0); }, 5000);
});
`;

let guard: ChildProcess | null = null;

function guardLine(line: string): void {
  if (!guard) {
    guard = spawn(process.execPath, ['-e', GUARD_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
    // Neither the guard nor its pipe may keep this process alive.
    guard.unref();
    (guard.stdin as unknown as { unref(): void }).unref();
    guard.stdin!.on('error', () => undefined);
  }
  guard.stdin!.write(`${line}\n`);
}

export type ServiceMode = 'api' | 'worker' | 'all';

export interface ServiceProcess {
  /** e.g. `api-1`: used in messages. */
  name: string;
  mode: ServiceMode;
  child: ChildProcess;
  pid: number;
  /** `http://127.0.0.1:<PORT>` for `api`/`all`; null for a worker. */
  url: string | null;
  /** The last lines it printed (stdout and stderr, interleaved as received). */
  output(): string;
  /** Resolves with the exit code (or signal name) once it has exited. */
  exited: Promise<number | string>;
  /** True until it has exited. */
  running(): boolean;
  /**
   * SIGTERM, then SIGKILL if it has not exited after `graceMs` (default 20 000). Resolves with how it
   * ended: its exit code, or the signal that killed it. Safe to call again.
   */
  stop(graceMs?: number): Promise<number | string>;
}

export interface StartOptions {
  name: string;
  mode: ServiceMode;
  /** The service's environment: DATABASE_URL, REDIS_PREFIX, STORAGE_DIR, JWT_SECRET, PORT… */
  env: Record<string, string>;
  /** How long the start may go without getting ready or using more CPU, ms (default 30 000). */
  readyTimeoutMs?: number;
  /** Called with every line the process prints (stdout and stderr), e.g. to count log events. */
  onLine?: (line: string) => void;
}

/**
 * Starts `node dist/src/main.js <mode>` and waits until it is ready: for an API, until
 * `GET /health/live` answers 200 (PORT, HOST and PUBLIC_URL are set from `env.PORT`); for a worker,
 * until it logs `Worker started` (LOG_LEVEL is at least `info`). Registers its stop with `cleanup`.
 * Rejects, with its output, when it exits or is not ready in time.
 */
export async function startServiceProcess(cleanup: Cleanup, options: StartOptions): Promise<ServiceProcess> {
  if (!existsSync(MAIN_SCRIPT)) throw new Error(`${MAIN_SCRIPT} is missing: run npm run build (the e2e global setup should have).`);
  const serves = options.mode !== 'worker';
  const port = options.env.PORT;
  if (serves && !port) throw new Error(`${options.name}: an API process needs env.PORT.`);
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  Object.assign(env, { LOG_LEVEL: 'info' }, serves ? { HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}` } : {}, options.env);

  const child = spawn(process.execPath, [MAIN_SCRIPT, options.mode], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${MAIN_SCRIPT}.`);
  guardLine(`+${child.pid}`);
  const lines: string[] = [];
  let started = false;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      options.onLine?.(line);
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
      if (!started && line.includes('Worker started')) started = true;
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      guardLine(`-${child.pid}`);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  const output = () => lines.join('\n');

  let stopping: Promise<number | string> | null = null;
  const stop = (graceMs = 20_000): Promise<number | string> =>
    (stopping ??= (async () => {
      if (exitedYet) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    })());

  const processHandle: ServiceProcess = {
    name: options.name,
    mode: options.mode,
    child,
    pid: child.pid!,
    url: serves ? `http://127.0.0.1:${port}` : null,
    output,
    exited,
    running: () => !exitedYet,
    stop,
  };
  cleanup.add(() => stop());

  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const failed = (why: string) => new Error(`${options.name} (${options.mode}) ${why}. Its output:\n${output()}`);
  const live = async () => {
    const response = await fetch(`${processHandle.url}/health/live`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  };
  // Ready when it answers /health/live (an API; a probe that throws, not listening yet, is polled again)
  // or has logged "Worker started" (a worker); an exit ends the wait at once. The deadline is on
  // progress: a start that keeps using CPU is slow, not stuck (a cold worker start took over 30 s at a
  // load of 27 on 2 cores), so the wait goes on while the process's CPU time grows from one
  // `readyTimeoutMs` to the next, and fails after one without readiness or progress.
  const readiness = async () => (exitedYet ? 'exited' : (serves ? await live() : started) ? 'ready' : null);
  let outcome: 'ready' | 'exited' | null = null;
  for (let cpu = cpuTime(child.pid); outcome === null;) {
    outcome = await eventually(serves ? 'it answers /health/live with 200' : 'it logs "Worker started"', readiness, {
      timeoutMs: readyTimeoutMs,
      intervalMs: 100,
    }).catch(() => null);
    const now = cpuTime(child.pid);
    if (outcome === null && (now === null || cpu === null || now <= cpu)) {
      throw failed(serves ? 'did not answer /health/live in time' : 'did not log "Worker started" in time');
    }
    cpu = now;
  }
  if (outcome === 'exited') throw failed(`exited with ${await exited} before it was ready`);
  return processHandle;
}

/** CPU time (user + system, in clock ticks) process `pid` has used so far; null where /proc cannot tell. */
function cpuTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": field 3 (state) first, so utime and stime (fields 14 and 15) are at 11 and 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** True when a process with this pid exists (signal 0 probes without signalling). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pids of `pid`'s living child processes (from /proc; empty where /proc cannot tell). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After "pid (comm) ": state, then the parent's pid.
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(parent) === pid && state !== 'Z') children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** True when process `pid` has ended (no such process, or a zombie its parent has not reaped yet). */
export function processEnded(pid: number): boolean {
  if (!pidExists(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/**
 * Starts an API process on a free port (PORT, HOST and PUBLIC_URL set to match). A port taken by
 * someone else between choosing it and listening (EADDRINUSE) is retried with another, up to 3 times.
 */
export async function startApiProcess(
  cleanup: Cleanup,
  options: { name: string; env: Record<string, string>; readyTimeoutMs?: number },
): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startServiceProcess(cleanup, { ...options, mode: 'api', env: { ...options.env, PORT: String(port) } });
    } catch (error) {
      if (attempt >= 3 || !/EADDRINUSE/.test((error as Error).message)) throw error;
    }
  }
}
