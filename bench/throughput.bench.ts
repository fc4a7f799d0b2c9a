/**
 * `npm run bench:throughput`: how many 30-second melodies one worker process converts a minute
 * (issue 16's target: ≥ 60 a minute with `WORKER_CONCURRENCY=2` on 2 cores), and what each costs in CPU.
 *
 * Set-up (thrown away at the end): a private redis-server on a free port, a database `mv_test_<random>`,
 * a storage directory, one API and one worker process (`dist/`, `WORKER_CONCURRENCY` 2 or
 * `--concurrency N`), every job through the real path: upload → validation → queue → the worker's
 * warm pipeline threads → storage → COMPLETED row. First `--concurrency` conversions warm the worker's
 * threads (a fresh thread compiles the pipeline and Flite once; a worker pays that once, not per job);
 * then `--conversions N` (default 12) are uploaded at once, each by its own user with its own prompt and
 * melody (so neither the per-user fairness nor the result cache changes what is measured), and the
 * window runs from the first upload to the last COMPLETED row.
 *
 * Figures: conversions a minute in the window; CPU per conversion of the worker process and of the
 * ffmpeg processes it waited for (decode and MP3 encode, /proc's `cutime`/`cstime`), and the API's.
 * The CPU figures are the steadier ones on a shared machine: with C cores to itself, a worker can at
 * best convert C × 60 s ÷ (its CPU per conversion) a minute, which the bench prints as the ceiling.
 * `--seconds S` changes the melody length (default 30); `--json` prints the raw figures.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import knex from 'knex';
import { Cleanup, createTestResources, mintToken } from '../test/support/service-harness.js';
import { startApiProcess, startServiceProcess } from '../test/support/service-processes.js';
import { startPrivateRedis } from '../test/support/private-redis.js';
import { uploadConversion } from '../test/support/api-harness.js';
import { eventually } from '../test/support/eventually.js';
import { benchMelodyWav } from './bench-melody.js';
import { processChildrenCpuMs, processCpuMs } from './bench-process.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => (argv.includes(name) && Number(argv[argv.indexOf(name) + 1])) || fallback;
const CONVERSIONS = option('--conversions', 12);
const CONCURRENCY = option('--concurrency', 2);
const SECONDS = option('--seconds', 30);
const TARGET_PER_MINUTE = 60;
const GENRES = ['pop', 'ballad', 'rock', 'folk', 'hip-hop'] as const;
const MOODS = ['happy', 'sad', 'calm', 'romantic', 'angry', 'hopeful'] as const;
const BASES = [60, 62, 57, 64, 59, 55, 65];

/** The i-th melody: the bench melody on a rotation of its base notes, moved by −2…+2 semitones, so uploads differ. */
function melody(i: number): Uint8Array {
  const shift = i % BASES.length;
  const transpose = (Math.floor(i / BASES.length) % 5) - 2;
  return benchMelodyWav(
    SECONDS,
    [...BASES.slice(shift), ...BASES.slice(0, shift)].map((base) => base + transpose),
  );
}

async function main(): Promise<void> {
  // Rendered before anything starts: rendering takes the bench seconds (~6 s for 8 melodies under load) it must
  // spend neither in the window nor between the API's readiness check and the first upload. A synchronous stall
  // there kept the check's idle keep-alive socket in fetch's pool past the API's 5 s keep-alive timeout, so the
  // first upload was written into a socket the API had already closed: EPIPE (docs/benchmarks.md, "Issue 16,
  // the throughput bench's EPIPE").
  const melodies = Array.from({ length: CONVERSIONS + CONCURRENCY }, (_, i) => melody(i));
  const cleanup = new Cleanup();
  try {
    const privateRedis = await startPrivateRedis(cleanup);
    const resources = await createTestResources(cleanup, { storageLabel: 'mv-bench-throughput-' });
    const env = {
      ...resources.env,
      REDIS_URL: privateRedis.url,
      LOG_LEVEL: 'warn',
      DAILY_QUOTA: '1000',
      JOB_START_LIMIT: '0',
      RATE_LIMIT_PER_MINUTE: '100000',
    };
    const api = await startApiProcess(cleanup, { name: 'api', env, readyTimeoutMs: 60_000 });
    const worker = await startServiceProcess(cleanup, {
      name: 'worker',
      mode: 'worker',
      env: { ...env, LOG_LEVEL: 'info', WORKER_CONCURRENCY: String(CONCURRENCY) },
      readyTimeoutMs: 60_000,
    });
    const db = knex({ client: 'pg', connection: resources.databaseUrl });
    cleanup.add(() => db.destroy());
    const completed = async () => Number((await db('conversions').where({ status: 'COMPLETED' }).count({ n: '*' }))[0].n);
    const failures = async () => db('conversions').whereIn('status', ['FAILED', 'CANCELLED']).select('id', 'status', 'error');

    const upload = async (i: number) => {
      const token = mintToken(resources.jwtSecret, `bench-${randomUUID()}`);
      const response = await uploadConversion(
        { url: api.url! },
        {
          token,
          file: { bytes: melodies[i]!, name: `melody-${i}.wav`, type: 'audio/wav' },
          input: {
            prompt: `throughput bench song number ${i} about a long drive home`,
            genre: GENRES[i % GENRES.length],
            mood: MOODS[i % MOODS.length],
          },
        },
      );
      if (!response.body.data?.convertMelody.conversion?.id) throw new Error(JSON.stringify(response.body));
    };
    const waitFor = async (count: number, label: string) => {
      const done = await eventually(
        label,
        async () => {
          const failed = await failures();
          return failed.length > 0 ? failed : completed();
        },
        { until: (done) => typeof done !== 'number' || done >= count, timeoutMs: 120_000 * count, intervalMs: 200 },
      );
      if (typeof done !== 'number') throw new Error(`A conversion did not complete: ${JSON.stringify(done)}\n${worker.output()}`);
    };

    // Warm-up: one conversion per slot, at once, so each of the worker's threads has compiled the pipeline.
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => upload(CONVERSIONS + i)));
    await waitFor(CONCURRENCY, 'the warm-up conversions completed');

    const load = [loadavg()[0]];
    const cpu0 = { worker: processCpuMs(worker.pid), children: processChildrenCpuMs(worker.pid), api: processCpuMs(api.pid) };
    const start = performance.now();
    for (let i = 0; i < CONVERSIONS; i++) await upload(i);
    const uploadedMs = performance.now() - start;
    await waitFor(CONCURRENCY + CONVERSIONS, 'every conversion completed');
    const windowMs = performance.now() - start;
    load.push(loadavg()[0]);
    const perConversion = (end: number, begin: number) => (end - begin) / CONVERSIONS;
    const cpu = {
      worker: perConversion(processCpuMs(worker.pid), cpu0.worker),
      ffmpeg: perConversion(processChildrenCpuMs(worker.pid), cpu0.children),
      api: perConversion(processCpuMs(api.pid), cpu0.api),
    };
    const workerTotal = cpu.worker + cpu.ffmpeg;
    const figures = {
      conversions: CONVERSIONS,
      concurrency: CONCURRENCY,
      melodySeconds: SECONDS,
      uploadsMs: uploadedMs,
      windowMs,
      perMinute: (CONVERSIONS / windowMs) * 60_000,
      cpuMsPerConversion: { ...cpu, workerTotal },
      /** What the worker could do with CONCURRENCY cores to itself, from its CPU per conversion. */
      cpuCeilingPerMinute: (CONCURRENCY * 60_000) / workerTotal,
      loadAverage: load,
    };
    if (argv.includes('--json')) console.log(JSON.stringify(figures, null, 2));
    else {
      console.log(
        `${CONVERSIONS} conversions of ${SECONDS} s melodies at WORKER_CONCURRENCY ${CONCURRENCY}: ${(windowMs / 1000).toFixed(1)} s ` +
          `(uploads ${(uploadedMs / 1000).toFixed(1)} s) = ${figures.perMinute.toFixed(1)} a minute (target ≥ ${TARGET_PER_MINUTE}: ` +
          `${figures.perMinute >= TARGET_PER_MINUTE ? 'met' : 'not met'})`,
      );
      console.log(
        `CPU per conversion: worker ${cpu.worker.toFixed(0)} ms + its ffmpeg ${cpu.ffmpeg.toFixed(0)} ms = ${workerTotal.toFixed(0)} ms ` +
          `(ceiling on ${CONCURRENCY} cores of its own: ${figures.cpuCeilingPerMinute.toFixed(1)} a minute); API ${cpu.api.toFixed(0)} ms`,
      );
      console.log(`load average ${load.map((l) => l.toFixed(2)).join(' → ')}`);
    }
  } finally {
    await cleanup.run().catch((error: Error) => console.error(`cleanup: ${error.message}`));
  }
}

await main();
