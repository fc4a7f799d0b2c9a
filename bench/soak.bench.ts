/**
 * `npm run bench:soak`: many conversions through the whole service while things break, to count what
 * a user would notice: jobs lost, jobs done twice, and the time from upload to result.
 *
 * Set-up (all thrown away at the end): a database `mv_test_<random>`, a PRIVATE redis-server on a free
 * port (so it can be killed and restarted without touching the machine's Redis; like the shared one it
 * keeps nothing on disk, so a restart empties it), a storage directory, a local chat-completions
 * server standing in for the lyrics LLM (it answers well, with 503, with 429 + Retry-After, or hangs
 * past the timeout, on a fixed rotation), 2 API processes and 2 worker processes (`dist/`).
 *
 * Load: CONVERSIONS uploads (short melodies, ~6 s) spread over both APIs from USERS users, at most
 * IN_FLIGHT uploads at a time; every 10th repeats an earlier upload byte for byte with the same
 * options (duplicate detection). A client retries an upload that met a 5xx or SERVICE_UNAVAILABLE
 * with the same idempotency key, as a careful client does.
 *
 * Faults, on a schedule from the first upload: a worker killed with SIGKILL (restarted 3 s later),
 * PostgreSQL refusing the service's database for 4 s (ALLOW_CONNECTIONS off and its backends
 * terminated), Redis killed with SIGKILL and restarted empty 1 s later, the other worker killed, and
 * the LLM failing throughout.
 *
 * Reported:
 * - accepted: uploads that got a conversion id;
 * - lost: accepted conversions not in a final state (COMPLETED, FAILED, CANCELLED) when the run ends
 *   (DEADLINE_MS after the last upload), or missing from the database. Must be 0;
 * - duplicated: conversions marked completed more than once (worker log lines "Conversion completed"
 *   naming the same conversion, across every worker process that ever ran). Must be 0;
 * - completionsLogged: conversions with such a line at all (a check that the count above is fed);
 * - failed, by error code; completed; results reused from the cache;
 * - end-to-end time, upload start → the row's completedAt, p50/p90/p99/max, of completed conversions
 *   (uploads arrive faster than two workers convert, so this is mostly time waiting in the queue), and
 *   the processing time alone (the row's processingMs: claim → completion).
 * `--json` prints the raw figures; `--conversions N` changes the count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { Cleanup, createTestResources, freePort, mintToken, POSTGRES_ADMIN_URL } from '../test/support/service-harness.js';
import { startServiceProcess, type ServiceProcess } from '../test/support/service-processes.js';
import { renderMelody, twinkle } from '../test/support/signals.js';
import { encodeWav } from '../src/audio/decode/wav.js';
import { Role } from '../src/modules/user/user.entity.js';
import { conversionUuidFromId } from '../src/modules/node/global-id.js';
import { percentile } from './bench-process.js';

const args = process.argv.slice(2);
const CONVERSIONS =
  Number(args[args.indexOf('--conversions') + 1]) > 0 && args.includes('--conversions')
    ? Number(args[args.indexOf('--conversions') + 1])
    : 200;
const USERS = 10;
const IN_FLIGHT = 6;
const DEADLINE_MS = 10 * 60_000;
const WORKER_CONCURRENCY = 2;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A private redis-server on `port` that can be killed and started again (empty, like the machine's). */
class PrivateRedis {
  private child: ChildProcess | null = null;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const probe = spawn('redis-cli', ['-p', String(this.port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        probe.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        probe.on('exit', () => resolve(out.trim() === 'PONG'));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await sleep(100);
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * The stand-in LLM: an OpenAI-style chat-completions endpoint. Request n (1-based) gets: n % 5 == 0
 * → 503; n % 7 == 0 → 429 with Retry-After: 1; n % 11 == 0 → no answer at all (the client's timeout);
 * otherwise four lines of lyrics as JSON.
 */
function startLlm(): Promise<{ server: Server; url: string; requests: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    count += 1;
    const n = count;
    req.resume();
    req.on('end', () => {
      if (n % 5 === 0) return void res.writeHead(503).end('busy');
      if (n % 7 === 0) return void res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      if (n % 11 === 0) return; // hangs
      const content = JSON.stringify({
        lines: ['the sea is calm tonight', 'the stars are shining bright', 'we sail along the shore', 'and sing forever more'],
      });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}/v1/chat/completions`, requests: () => count });
    }),
  );
}

const CONVERT = `mutation Convert($input: ConvertMelodyInput!) {
  convertMelody(input: $input) { conversion { id status } userErrors { code message } }
}`;

interface Submission {
  index: number;
  startedAt: number;
  id: string | null;
  attempts: number;
  error: string | null;
}

async function upload(
  url: string,
  token: string,
  bytes: Uint8Array,
  input: Record<string, unknown>,
): Promise<{ id: string | null; retry: boolean; error: string | null }> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: CONVERT, variables: { input: { ...input, audio: null } } }));
  form.append('map', JSON.stringify({ 0: ['variables.input.audio'] }));
  form.append('0', new Blob([bytes], { type: 'audio/wav' }), 'melody.wav');
  try {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
      body: form,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (response.status >= 500) return { id: null, retry: true, error: `HTTP ${response.status}` };
    const body = JSON.parse(text) as {
      data?: { convertMelody?: { conversion: { id: string } | null; userErrors: { code: string }[] } };
      errors?: { extensions?: { code?: string } }[];
    };
    const payload = body.data?.convertMelody;
    if (payload?.conversion) return { id: conversionUuidFromId(payload.conversion.id) ?? payload.conversion.id, retry: false, error: null };
    const code = payload?.userErrors[0]?.code ?? body.errors?.[0]?.extensions?.code ?? `HTTP ${response.status}`;
    return { id: null, retry: code === 'SERVICE_UNAVAILABLE' || code === 'INTERNAL_SERVER_ERROR', error: code };
  } catch (error) {
    return { id: null, retry: true, error: (error as Error).message };
  }
}

/** Makes PostgreSQL refuse `database` for `ms`: new connections refused, open ones terminated. */
async function postgresOutage(database: string, ms: number): Promise<void> {
  const admin = knex({ client: 'pg', connection: POSTGRES_ADMIN_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`alter database "${database}" allow_connections false`);
    await admin.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [database]);
    await sleep(ms);
  } finally {
    await admin.raw(`alter database "${database}" allow_connections true`).catch(() => undefined);
    await admin.destroy();
  }
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  const log = (message: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}`);
  try {
    const resources = await createTestResources(cleanup, { storageLabel: 'mv-soak-' });
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    cleanup.add(() => redis.kill());
    const llm = await startLlm();
    cleanup.add(
      () =>
        new Promise((resolve) => {
          llm.server.closeAllConnections();
          llm.server.close(resolve);
        }),
    );

    const env: Record<string, string> = {
      ...resources.env,
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      LOG_LEVEL: 'info',
      DAILY_QUOTA: '100000',
      MONTHLY_QUOTA: '1000000',
      RATE_LIMIT_PER_MINUTE: '0',
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      JOB_START_LIMIT: '600',
      JOB_START_WINDOW_MS: '60000',
      JOB_STALL_INTERVAL_MS: '1000',
      JOB_BACKOFF_MS: '500',
      RECONCILE_INTERVAL_MS: '2000',
      RECONCILE_GRACE_MS: '8000',
      LLM_API_URL: llm.url,
      MELODY_VOCALS_TIMEOUT: '3000',
      MELODY_VOCALS_RETRIES: '2',
      MELODY_VOCALS_RETRY_BASE_MS: '200',
      BREAKER_HALF_OPEN_AFTER_MS: '5000',
    };

    // Completions as the workers log them, per conversion id, across every worker process.
    const completions = new Map<string, number>();
    // The processor logs "Conversion completed" once per conversion it marks COMPLETED (computed or reused).
    const completedLine = /Conversion completed.*"conversionId":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"/;
    const onWorkerLine = (line: string) => {
      const id = completedLine.exec(line)?.[1];
      if (id) completions.set(id, (completions.get(id) ?? 0) + 1);
    };
    let workerRuns = 0;
    const startWorker = (): Promise<ServiceProcess> =>
      startServiceProcess(cleanup, { name: `worker-${++workerRuns}`, mode: 'worker', env, onLine: onWorkerLine, readyTimeoutMs: 60_000 });
    const apis: ServiceProcess[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      apis.push(
        await startServiceProcess(cleanup, {
          name: `api-${i + 1}`,
          mode: 'api',
          env: { ...env, PORT: String(port) },
          readyTimeoutMs: 60_000,
        }),
      );
    }
    const workers = [await startWorker(), await startWorker()];
    log(`2 APIs and 2 workers up; ${CONVERSIONS} conversions`);

    const tokens = Array.from({ length: USERS }, () => mintToken(resources.jwtSecret, randomUUID(), Role.USER));
    // Eight distinct melodies (transpositions and tempos of the same tune), ~6 s each.
    const melodies = Array.from({ length: 8 }, (_, i) => {
      const notes = twinkle(55 + i, 0.34 + 0.02 * i);
      return encodeWav([renderMelody(notes, { timbre: 'voice' }).samples], 44100, { bitDepth: 16 });
    });

    const submissions: Submission[] = [];
    const started = Date.now();
    const faults: { at: number; what: string; run: () => Promise<void> }[] = [
      {
        at: 15_000,
        what: 'SIGKILL worker 1 (restarted 3 s later)',
        run: async () => {
          process.kill(workers[0]!.pid, 'SIGKILL');
          await sleep(3000);
          workers[0] = await startWorker();
        },
      },
      { at: 35_000, what: 'PostgreSQL refuses the database for 4 s', run: () => postgresOutage(resources.databaseName, 4000) },
      {
        at: 55_000,
        what: 'Redis SIGKILLed, restarted empty 1 s later',
        run: async () => {
          await redis.kill();
          await sleep(1000);
          await redis.start();
        },
      },
      {
        at: 75_000,
        what: 'SIGKILL worker 2 (restarted 3 s later)',
        run: async () => {
          if (workers[1]!.running()) process.kill(workers[1]!.pid, 'SIGKILL');
          else log('worker 2 had already exited');
          await sleep(3000);
          workers[1] = await startWorker();
        },
      },
    ];
    const faultLog: { atMs: number; what: string; error?: string }[] = [];
    const faultRunner = (async () => {
      for (const fault of faults) {
        const wait = fault.at - (Date.now() - started);
        if (wait > 0) await sleep(wait);
        log(`fault: ${fault.what}`);
        const entry: { atMs: number; what: string; error?: string } = { atMs: Date.now() - started, what: fault.what };
        faultLog.push(entry);
        await fault.run().catch((error: Error) => (entry.error = error.message));
      }
    })();

    let next = 0;
    const submitOne = async (): Promise<void> => {
      for (;;) {
        const index = next++;
        if (index >= CONVERSIONS) return;
        // Every 10th repeats an earlier request exactly (same bytes, options and seed).
        const source = index % 10 === 9 ? index - 9 : index;
        const input = {
          prompt: `a calm song about the sea at night, number ${source % 40}`,
          genre: 'ballad',
          mood: 'calm',
          seed: source,
          idempotencyKey: `soak-${index}`,
        };
        const submission: Submission = { index, startedAt: Date.now(), id: null, attempts: 0, error: null };
        submissions.push(submission);
        const token = tokens[index % USERS]!;
        const bytes = melodies[source % melodies.length]!;
        while (submission.attempts < 30) {
          submission.attempts += 1;
          const api = apis[(index + submission.attempts) % apis.length]!;
          const outcome = await upload(api.url!, token, bytes, input);
          submission.id = outcome.id;
          submission.error = outcome.error;
          if (!outcome.retry) break;
          await sleep(1000);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, submitOne));
    const uploadsDoneMs = Date.now() - started;
    log(`uploads done after ${Math.round(uploadsDoneMs / 1000)} s; waiting for the conversions`);
    await faultRunner;

    const accepted = submissions.filter((s) => s.id !== null);
    const db: Knex = knex({ client: 'pg', connection: resources.databaseUrl, pool: { min: 0, max: 2 } });
    cleanup.add(() => db.destroy());
    type Row = {
      id: string;
      status: string;
      completed_at: Date | null;
      error: { code?: string } | null;
      reused_from: string | null;
      stall_count: number;
      retry_count: number;
      processing_ms: number | null;
    };
    let rows: Row[] = [];
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      try {
        rows = (
          await db.raw('select id, status, completed_at, error, reused_from, stall_count, retry_count, processing_ms from conversions')
        ).rows as Row[];
      } catch (error) {
        log(`poll failed: ${(error as Error).message}`);
      }
      const open = rows.filter((r) => r.status === 'PENDING' || r.status === 'PROCESSING').length;
      if (open === 0 && rows.length >= accepted.length) break;
      if (Date.now() > deadline) break;
      await sleep(1000);
    }
    const endedMs = Date.now() - started;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const final = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
    const lost = accepted.filter((s) => !final.has(byId.get(s.id!)?.status ?? 'MISSING'));
    const duplicated = [...completions.entries()].filter(([, n]) => n > 1);
    const completed = accepted.filter((s) => byId.get(s.id!)?.status === 'COMPLETED');
    const failedCodes: Record<string, number> = {};
    for (const s of accepted) {
      const row = byId.get(s.id!);
      if (row?.status === 'FAILED') failedCodes[row.error?.code ?? 'UNKNOWN'] = (failedCodes[row.error?.code ?? 'UNKNOWN'] ?? 0) + 1;
    }
    const times = completed.map((s) => byId.get(s.id!)!.completed_at!.getTime() - s.startedAt).sort((a, b) => a - b);
    const processing = completed
      .map((s) => byId.get(s.id!)!.processing_ms ?? NaN)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const figures = {
      conversions: CONVERSIONS,
      accepted: accepted.length,
      rejected: submissions.filter((s) => s.id === null).map((s) => s.error),
      uploadRetries: submissions.reduce((n, s) => n + s.attempts - 1, 0),
      completed: completed.length,
      failed: failedCodes,
      lost: lost.length,
      lostIds: lost.map((s) => `${s.id} (${byId.get(s.id!)?.status ?? 'MISSING'})`),
      duplicated: duplicated.length,
      duplicatedIds: duplicated.map(([id, n]) => `${id} ×${n}`),
      completionsLogged: completions.size,
      reused: rows.filter((r) => r.reused_from !== null).length,
      stalledRuns: rows.reduce((n, r) => n + r.stall_count, 0),
      jobRetries: rows.reduce((n, r) => n + r.retry_count, 0),
      workerProcesses: workerRuns,
      llmRequests: llm.requests(),
      faults: faultLog,
      endToEndSeconds: {
        p50: percentile(times, 50) / 1000,
        p90: percentile(times, 90) / 1000,
        p99: percentile(times, 99) / 1000,
        max: (times[times.length - 1] ?? NaN) / 1000,
      },
      processingSeconds: { p50: percentile(processing, 50) / 1000, p99: percentile(processing, 99) / 1000 },
      uploadsSeconds: uploadsDoneMs / 1000,
      wallSeconds: endedMs / 1000,
    };
    if (args.includes('--json')) {
      console.log(JSON.stringify(figures, null, 2));
    } else {
      const e2e = figures.endToEndSeconds;
      console.log(
        `conversions ${figures.conversions}, accepted ${figures.accepted}, completed ${figures.completed}, failed ${JSON.stringify(figures.failed)}`,
      );
      console.log(
        `lost ${figures.lost}, duplicated ${figures.duplicated}, reused ${figures.reused}, stalled runs ${figures.stalledRuns}, job retries ${figures.jobRetries}, upload retries ${figures.uploadRetries}`,
      );
      console.log(
        `end-to-end s: p50 ${e2e.p50.toFixed(1)}, p90 ${e2e.p90.toFixed(1)}, p99 ${e2e.p99.toFixed(1)}, max ${e2e.max.toFixed(1)}; processing s: p50 ${figures.processingSeconds.p50.toFixed(1)}, p99 ${figures.processingSeconds.p99.toFixed(1)}`,
      );
      console.log(
        `uploads took ${figures.uploadsSeconds.toFixed(0)} s, run ${figures.wallSeconds.toFixed(0)} s; completions logged for ${figures.completionsLogged} conversions`,
      );
      console.log(
        `faults: ${faultLog.map((f) => `${(f.atMs / 1000).toFixed(0)} s ${f.what}${f.error ? ` (error: ${f.error})` : ''}`).join('; ')}`,
      );
      if (figures.lost > 0) console.log(`lost: ${figures.lostIds.join(', ')}`);
      if (figures.duplicated > 0) console.log(`duplicated: ${figures.duplicatedIds.join(', ')}`);
    }
    process.exitCode = figures.lost === 0 && figures.duplicated === 0 && figures.completionsLogged >= figures.completed ? 0 : 1;
  } finally {
    await cleanup.run().catch((error: Error) => console.error(`cleanup: ${error.message}`));
  }
}

await main();
