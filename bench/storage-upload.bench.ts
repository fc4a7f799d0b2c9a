/**
 * `npm run bench:storage`: what a 50 MB upload costs the API process on each storage backend. A real
 * API process (`node dist/src/main.js api`, no worker) with its own database and Redis prefix takes
 * UPLOADS uploads of a ~50 MB WAV, one after another, first on `STORAGE_BACKEND=fs`, then on
 * `STORAGE_BACKEND=s3` against s3rver on loopback (test/support/object-store.ts; it runs in this
 * bench process, so its own memory does not count). Per backend: the API's peak RSS (VmHWM from
 * /proc, since start) and its resident size before the first upload; the event-loop delay while
 * uploading (prom-client's `melody_nodejs_eventloop_lag_max_seconds` / `_p99_seconds`, whose
 * histogram is reset at every scrape, so one scrape just before and one just after); the upload's
 * wall time. Two cases per backend: `whole` (the default 50 MiB cap: the upload is stored, then read
 * back and decoded by the validation, which refuses 520 s as TOO_LONG, so the figures include the
 * decode) and `streamed` (MAX_UPLOAD_BYTES 40 MiB: the upload is streamed to storage until the cap
 * cuts it, then dropped — the streaming path and its abort alone, no decode). A third case, `mp3`,
 * uploads a ~48 MB MP3 (20 copies of a minute at 320 kb/s: 20 minutes) under the default cap: stored,
 * read back, decoded by ffmpeg up to 5 minutes and 1 s, measured and refused as TOO_LONG — issue 16's
 * "a 50 MB MP3 upload never blocks the event loop for more than 20 ms". `--backends=fs,s3` and
 * `--cases=streamed,whole,mp3` choose the rows (all by default); `--json` prints the raw figures.
 *
 * `--decode=inline,process` (default both, in that order within each case and backend, so before and
 * after come from the same run): where the API checks the upload, `DECODE_HELPER=inline` (in the API
 * process, as before issue 16's decode helper) or `process` (the decode helper process). The loop
 * delay is prom-client's, which is `perf_hooks.monitorEventLoopDelay` at 10 ms resolution in the API
 * process (the helper's own loop is not counted: blocking it is its job); the helper's peak RSS is
 * printed beside the API's.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { toneWav } from '../test/support/hostile-inputs.js';
import { uploadConversion } from '../test/support/api-harness.js';
import { Cleanup, createTestResources, mintToken } from '../test/support/service-harness.js';
import { childPids, startApiProcess } from '../test/support/service-processes.js';
import { ffmpegPath } from '../src/platform/ffmpeg-decoder.js';

const UPLOADS = 3;
/** 520 s of 48 kHz mono 16-bit: 49.9 MB, under the default 50 MiB cap. */
const SECONDS = 520;
/** Copies of one minute of 320 kb/s MP3 in the `mp3` case: 20 minutes, ~48 MB. */
const MP3_MINUTES = 20;

type Case = 'streamed' | 'whole' | 'mp3';
type Decode = 'inline' | 'process';
type Backend = 'fs' | 's3';

interface Figures {
  backend: string;
  case: string;
  decode: Decode;
  /**
   * Longest loop delay of an idle Node process (monitorEventLoopDelay, 10 ms resolution) over the same
   * uploads: what the machine's scheduling alone costs any process then, ms.
   */
  controlDelayMaxMs: number;
  /** Time the API process spent runnable but waiting for a CPU over the uploads (/proc schedstat), ms. */
  apiRunQueueWaitMs: number;
  /**
   * The longest the API's event loop ran without turning, counted in main-thread CPU time (the loop
   * probe above, 5 ms ticks), ms; with the wall time of that same stretch.
   */
  loopBlockCpuMs: number;
  loopBlockWallMs: number;
  /** Peak RSS of the decode helper process, MiB (null with `inline`). */
  helperPeakRssMiB: number | null;
  uploadBytes: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  uploadSeconds: number[];
  outcome: string;
}

async function kib(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
}

/**
 * `--nice=N` (root only for N < 0): the API's and the control's niceness, every thread of them (Linux
 * nice is per thread; threads made later inherit it). On a machine other work keeps busy, a negative
 * value lets the figures show what the API's own code blocks rather than how long the scheduler keeps
 * a busy process off the CPU; both decode rows get the same.
 */
const NICE = (() => {
  const given = process.argv.find((arg) => arg.startsWith('--nice='));
  return given === undefined ? null : Number(given.slice('--nice='.length));
})();

async function renice(pid: number): Promise<void> {
  if (NICE === null) return;
  for (const task of await readdir(`/proc/${pid}/task`)) setPriority(Number(task), NICE);
}

/**
 * Loaded into the API process with `NODE_OPTIONS=--import` (not into its decode helper, which has an
 * IPC channel): every 5 ms timer tick reads the main thread's own CPU time (/proc/thread-self/schedstat)
 * and keeps the largest CPU time between two ticks, i.e. the longest the event loop ran without
 * turning, counted in time on the CPU, so time the scheduler kept the process off the CPU is not in it.
 * SIGUSR2 resets it; each new maximum is written to MV_LOOP_PROBE_FILE as `<cpu ms> <wall ms>`.
 */
const LOOP_PROBE = `import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
if (!process.send && process.env.MV_LOOP_PROBE_FILE) {
  const file = process.env.MV_LOOP_PROBE_FILE;
  const cpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  let lastCpu = cpu(), lastWall = performance.now(), max = 0;
  const save = (wall) => writeFileSync(file, max.toFixed(2) + ' ' + wall.toFixed(2));
  process.on('SIGUSR2', () => { max = 0; save(0); });
  setInterval(() => {
    const nowCpu = cpu(), nowWall = performance.now();
    if (nowCpu - lastCpu > max) { max = nowCpu - lastCpu; save(nowWall - lastWall); }
    lastCpu = nowCpu; lastWall = nowWall;
  }, 5).unref();
}
`;

/** [ns on CPU, ns runnable waiting for a CPU] of process `pid` so far. */
async function schedstat(pid: number): Promise<[number, number]> {
  const [onCpu, waiting] = (await readFile(`/proc/${pid}/schedstat`, 'utf8')).split(' ').map(Number);
  return [onCpu, waiting];
}

const CONTROL_SCRIPT = `const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
process.stdin.on('data', () => { process.stdout.write(String(h.max / 1e6) + '\\n'); h.reset(); });`;

/** An idle Node process that measures its own loop delay; `read()` returns the max since the last read, ms. */
function startControl(): { pid: number; read(): Promise<number>; stop(): void } {
  const child = spawn(process.execPath, ['-e', CONTROL_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  return {
    pid: child.pid!,
    read: () =>
      new Promise<number>((resolve) => {
        child.stdout.once('data', (data: Buffer) => resolve(Math.round(Number(String(data).trim()))));
        child.stdin.write('\n');
      }),
    stop: () => child.kill(),
  };
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

/**
 * A minute of 48 kHz stereo tone encoded by ffmpeg at 320 kb/s without a Xing or ID3 header, repeated
 * MP3_MINUTES times: a valid stream of frames (what a long recording from a phone app looks like).
 */
function longMp3(): Uint8Array {
  const minute = toneWav(60, 48_000, 0.3, 2);
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'wav', '-i', 'pipe:0', '-c:a', 'libmp3lame', '-b:a', '320k'];
  args.push('-write_xing', '0', '-id3v2_version', '0', '-f', 'mp3', 'pipe:1');
  const encoded = execFileSync(ffmpegPath(), args, { input: minute, maxBuffer: 64 * 1024 * 1024 });
  return Buffer.concat(Array.from({ length: MP3_MINUTES }, () => encoded));
}

const FILES: Record<Case, { name: string; type: string }> = {
  streamed: { name: 'long.wav', type: 'audio/wav' },
  whole: { name: 'long.wav', type: 'audio/wav' },
  mp3: { name: 'long.mp3', type: 'audio/mpeg' },
};

async function run(backend: Backend, kind: Case, decode: Decode, bytes: Uint8Array): Promise<Figures> {
  const streamedOnly = kind === 'streamed';
  const cleanup = new Cleanup();
  try {
    const probeDir = await mkdtemp(join(tmpdir(), 'mv-loop-probe-'));
    cleanup.add(() => rm(probeDir, { recursive: true, force: true }));
    const probeFile = join(probeDir, 'max.txt');
    await writeFile(join(probeDir, 'probe.mjs'), LOOP_PROBE);
    const resources = await createTestResources(cleanup, { storageLabel: 'mv-bench-storage-', storageBackend: backend });
    const api = await startApiProcess(cleanup, {
      name: `api-${backend}`,
      env: {
        ...resources.env,
        LOG_LEVEL: 'warn',
        DECODE_HELPER: decode,
        NODE_OPTIONS: `--import=${join(probeDir, 'probe.mjs')}`,
        MV_LOOP_PROBE_FILE: probeFile,
        ...(streamedOnly ? { MAX_UPLOAD_BYTES: String(40 * 1024 * 1024) } : {}),
      },
    });
    const token = mintToken(resources.jwtSecret, 'bench-user');
    const rssBefore = await kib(api.pid, 'VmRSS');
    await fetch(`${api.url}/metrics`).then((r) => r.text()); // resets the loop-delay histogram
    const control = startControl();
    cleanup.add(() => control.stop());
    await new Promise((resolve) => setTimeout(resolve, 200));
    await renice(api.pid);
    await renice(control.pid);
    await control.read();
    process.kill(api.pid, 'SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const schedBefore = await schedstat(api.pid);
    const seconds: number[] = [];
    let outcome = '';
    for (let i = 0; i < UPLOADS; i += 1) {
      const started = performance.now();
      // Past the cap the API answers and closes the connection without reading the rest: a client
      // still writing then fails with EPIPE instead of reading the answer (a race, more likely the
      // faster the API is).
      const reply = await uploadConversion({ url: api.url! }, { token, file: { bytes, ...FILES[kind] } }).catch((error: Error) => error);
      seconds.push(Math.round((performance.now() - started) / 10) / 100);
      if (reply instanceof Error) {
        outcome = 'connection closed by the API';
        continue;
      }
      const payload = reply.body.data?.convertMelody;
      outcome = payload?.conversion ? 'accepted' : `refused: ${payload?.userErrors.map((e) => e.code).join(',') ?? reply.status}`;
    }
    const metrics = await fetch(`${api.url}/metrics`).then((r) => r.text());
    const controlDelayMaxMs = await control.read();
    const schedAfter = await schedstat(api.pid);
    const [loopBlockCpuMs, loopBlockWallMs] = (await readFile(probeFile, 'utf8')).split(' ').map((v) => Math.round(Number(v)));
    const helper = childPids(api.pid)[0];
    return {
      backend,
      case: kind,
      decode,
      controlDelayMaxMs,
      apiRunQueueWaitMs: Math.round((schedAfter[1] - schedBefore[1]) / 1e6),
      loopBlockCpuMs,
      loopBlockWallMs,
      helperPeakRssMiB: helper === undefined ? null : Math.round((await kib(helper, 'VmHWM')) / 1024),
      uploadBytes: bytes.byteLength,
      rssBeforeMiB: Math.round(rssBefore / 1024),
      peakRssMiB: Math.round((await kib(api.pid, 'VmHWM')) / 1024),
      loopDelayMaxMs: Math.round(metric(metrics, 'melody_nodejs_eventloop_lag_max_seconds') * 1000),
      loopDelayP99Ms: Math.round(metric(metrics, 'melody_nodejs_eventloop_lag_p99_seconds') * 1000),
      uploadSeconds: seconds,
      outcome,
    };
  } finally {
    await cleanup.run();
  }
}

function listOption<T extends string>(name: string, all: readonly T[]): T[] {
  const given = process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (!given) return [...all];
  const chosen = given.split(',');
  const unknown = chosen.filter((value) => !all.includes(value as T));
  if (unknown.length) throw new Error(`--${name}: unknown ${unknown.join(', ')} (one of ${all.join(', ')})`);
  return chosen as T[];
}

async function main(): Promise<void> {
  const backends = listOption<Backend>('backends', ['fs', 's3']);
  const cases = listOption<Case>('cases', ['streamed', 'whole', 'mp3']);
  const decodes = listOption<Decode>('decode', ['inline', 'process']);
  const wav = cases.some((kind) => kind !== 'mp3') ? toneWav(SECONDS, 48_000, 0.3) : new Uint8Array(0);
  const mp3 = cases.includes('mp3') ? longMp3() : new Uint8Array(0);
  const results: Figures[] = [];
  for (const kind of cases)
    for (const backend of backends)
      for (const decode of decodes) results.push(await run(backend, kind, decode, kind === 'mp3' ? mp3 : wav));
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  console.log(
    `${UPLOADS} uploads of each file, one at a time${NICE === null ? '' : `, API and control at nice ${NICE}`} (load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')} at the end)`,
  );
  console.log(
    'backend case             decode   RSS before  peak RSS  helper peak  loop delay max  p99  idle control max  API run-queue wait  longest loop run CPU (wall)  upload s        outcome',
  );
  for (const r of results) {
    console.log(
      `${r.backend.padEnd(7)} ${`${r.case} ${(r.uploadBytes / 1e6).toFixed(1)} MB`.padEnd(16)} ${r.decode.padEnd(8)} ${`${r.rssBeforeMiB} MiB`.padStart(10)}  ${`${r.peakRssMiB} MiB`.padStart(8)}  ${(r.helperPeakRssMiB === null ? '-' : `${r.helperPeakRssMiB} MiB`).padStart(11)}  ${`${r.loopDelayMaxMs} ms`.padStart(14)}  ${`${r.loopDelayP99Ms} ms`.padStart(6)}  ${`${r.controlDelayMaxMs} ms`.padStart(16)}  ${`${r.apiRunQueueWaitMs} ms`.padStart(18)}  ${`${r.loopBlockCpuMs} ms (${r.loopBlockWallMs} ms)`.padStart(28)}  ${r.uploadSeconds.join(' / ').padEnd(15)} ${r.outcome}`,
    );
  }
  console.log('target (issue 16): loop delay max ≤ 20 ms during a 50 MB MP3 upload');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
