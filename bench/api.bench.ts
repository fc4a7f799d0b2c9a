/**
 * `npm run bench:api`: throughput and latency of the GraphQL API on loopback, next to a plain Node
 * HTTP server answering a fixed JSON body (the ceiling of this machine and this load generator).
 *
 * Set-up (all thrown away at the end): a database `mv_test_<random>`, a Redis prefix
 * `mvtest-<random>` and a storage directory; the API runs as a child process (`node dist/src/main.js
 * api`, so it has its own event loop and CPU); no worker runs, so enqueued jobs stay queued and the
 * API is measured alone. The per-user rate limit stays on at 1,000,000 operations a minute, so every request
 * pays its Redis check without ever being refused (`--no-rate-limit` switches it off, as issue 16's first
 * measurement did); the subscription and per-user socket limits are switched off for the run.
 *
 * Measured:
 * 1. JSON POSTs of `quota`, `conversion(id)` (a completed conversion with its signed result links) and
 *    `history(first: 20)` (the user holds 200 conversions): requests/s, p50 and p99, at CONCURRENCY
 *    requests in flight on keep-alive sockets for DURATION_MS, each printed as a share of the plain
 *    server's requests/s in the same run next to issue 16's target. The load comes from wrk (Debian,
 *    one thread, its own process) when it is installed, else from this process's own HTTP client
 *    (`--load=node` forces that); every answer is checked (wrk: a Lua `response` hook counts any
 *    non-200 or `"errors"` body).
 * 2. `convertMelody` with a 1 MB upload (11.9 s mono 44.1 kHz 16-bit WAV; the user's quota raised
 *    with `setUserQuota`): latency from the first byte sent to the payload, 8 in flight.
 * 3. `conversionProgress` fan-out: N subscribers (graphql-ws, 10 subscriptions per socket) on one
 *    conversion; events are published on Redis and the delivery latency (publish → client) is
 *    measured for every subscriber; N ramps 100, 500, 1000, 2000, 4000 and stops at the first level
 *    whose p99 is over 100 ms.
 * `--json` prints the raw figures; `--requests-only` stops after part 1 (`--only=LABEL` keeps the request rows
 * whose label starts so, e.g. `--only=quota`; `--only=convertMelody` or `--only=conversionProgress` runs
 * only that part after the plain row); `--profile=DIR` runs the API
 * under `node --cpu-prof --cpu-prof-dir=DIR` (the profile is written when it stops).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { EntityManager } from '@mikro-orm/postgresql';
import { renderMelody, repeatedTwinkle } from '../test/support/signals.js';
import { percentile, processCpuMs, waitForHttp } from './bench-process.js';
import { Cleanup, createTestResources, freePort, mintToken } from '../test/support/service-harness.js';
import { insertConversion } from '../test/support/read-side-harness.js';
import { encodeWav } from '../src/audio/decode/wav.js';
import { initOrm } from '../src/platform/database.js';
import { ENTITIES } from '../src/modules/entities.js';
import { createRedis } from '../src/platform/redis.js';
import { Topic, topicChannel, type ProgressPayload } from '../src/platform/pubsub.js';
import { ConversionStatus } from '../src/modules/conversion/conversion.entity.js';
import { conversionGlobalId } from '../src/modules/node/global-id.js';
import { Role } from '../src/modules/user/user.entity.js';

const CONCURRENCY = 32;
const DURATION_MS = 5000;
/** Issue 16: `convertMelody` with a 1 MB WAV, p99 ≤ 100 ms at 8 in flight. */
const UPLOADS = 48;
const UPLOAD_CONCURRENCY = 8;
const SUBSCRIBER_LEVELS = [100, 500, 1000, 2000, 4000];
const EVENTS_PER_LEVEL = 20;
const EVENT_GAP_MS = 100;
const SUBSCRIPTIONS_PER_SOCKET = 10;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Figures {
  label: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** CPU time (user + system) the serving process spent per answered request, µs; robust to a busy machine. */
  cpuUsPerRequest?: number;
}

function summarise(label: string, latencies: number[], errors: number, elapsedMs: number): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    label,
    requests: latencies.length,
    errors,
    rps: (latencies.length / elapsedMs) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

function send(
  agent: Agent,
  url: URL,
  method: string,
  headers: Record<string, string | number>,
  body: Buffer | null,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** `concurrency` loops sending `make()` back to back for `durationMs` (or `count` requests in all). */
async function load(
  label: string,
  options: {
    url: URL;
    method: string;
    headers: Record<string, string | number>;
    body: Buffer | null;
    concurrency: number;
    durationMs?: number;
    count?: number;
    ok: (status: number, body: string) => boolean;
  },
): Promise<Figures> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let started = 0;
  const begin = performance.now();
  const deadline = options.durationMs === undefined ? Infinity : begin + options.durationMs;
  const more = () => performance.now() < deadline && (options.count === undefined || started < options.count);
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (more()) {
        started++;
        const t0 = performance.now();
        try {
          const response = await send(agent, options.url, options.method, options.headers, options.body);
          if (options.ok(response.status, response.body)) latencies.push(performance.now() - t0);
          else {
            errors++;
            if (errors === 1) console.error(`${label}: unexpected answer ${response.status} ${response.body.slice(0, 300)}`);
          }
        } catch (error) {
          errors++;
          if (errors === 1) console.error(`${label}: ${(error as Error).message}`);
        }
      }
    }),
  );
  const elapsed = performance.now() - begin;
  agent.destroy();
  return summarise(label, latencies, errors, elapsed);
}

/** The wrk script: method, headers and body of every request; counts answers that are not 200 or carry `"errors"`. */
function wrkScript(method: string, headers: Record<string, string | number>, body: Buffer | null, checkGraphql: boolean): string {
  const lua = (value: string) => JSON.stringify(value); // a JSON string literal is a valid Lua string literal here (ASCII)
  const lines = [`wrk.method = ${lua(method)}`];
  for (const [name, value] of Object.entries(headers))
    if (name !== 'content-length') lines.push(`wrk.headers[${lua(name)}] = ${lua(String(value))}`);
  if (body) lines.push(`wrk.body = ${lua(body.toString('utf8'))}`);
  lines.push(
    'local threads = {}',
    'function setup(thread) table.insert(threads, thread) end',
    'function init(args) bad = 0 end',
    checkGraphql
      ? 'function response(status, headers, body) if status ~= 200 or string.find(body, \'"errors"\', 1, true) then bad = bad + 1 end end'
      : 'function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end',
    'function done(summary, latency, requests)',
    '  local total = 0',
    '  for _, thread in ipairs(threads) do total = total + thread:get("bad") end',
    '  io.write(string.format("BENCH requests=%d bad=%d seconds=%f p50us=%d p99us=%d\\n", summary.requests, total, summary.duration / 1e6, latency:percentile(50), latency:percentile(99)))',
    'end',
  );
  return lines.join('\n');
}

/** Runs wrk (one thread, `concurrency` keep-alive connections) against `url` for `durationMs`. */
function loadWithWrk(
  label: string,
  options: {
    url: URL;
    method: string;
    headers: Record<string, string | number>;
    body: Buffer | null;
    concurrency: number;
    durationMs: number;
    checkGraphql: boolean;
  },
): Figures {
  const dir = mkdtempSync(join(tmpdir(), 'mv-bench-wrk-'));
  try {
    const script = join(dir, 'request.lua');
    writeFileSync(script, wrkScript(options.method, options.headers, options.body, options.checkGraphql));
    const output = execFileSync(
      'wrk',
      ['-t1', `-c${options.concurrency}`, `-d${Math.round(options.durationMs / 1000)}s`, '-s', script, options.url.href],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const match = /BENCH requests=(\d+) bad=(\d+) seconds=([\d.]+) p50us=(\d+) p99us=(\d+)/.exec(output);
    if (!match) throw new Error(`${label}: could not read wrk's output:\n${output}`);
    const [requests, bad, seconds, p50us, p99us] = match.slice(1).map(Number) as [number, number, number, number, number];
    if (bad > 0) console.error(`${label}: ${bad} of ${requests} answers were not a 200 without errors`);
    return { label, requests: requests - bad, errors: bad, rps: (requests - bad) / seconds, p50: p50us / 1000, p99: p99us / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits with 1 after printing its version.
    return (error as { status?: number }).status === 1;
  }
}

function graphqlOk(status: number, body: string): boolean {
  return status === 200 && !body.includes('"errors"');
}

function startChild(cleanup: Cleanup, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  );
  return child;
}

const PLAIN_SERVER = `
const body = JSON.stringify({ data: { quota: { enforced: true, daily: { limit: 10, used: 0 } } } });
require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); }); })
  .listen(Number(process.env.PORT), '127.0.0.1');`;

function multipartBody(operations: unknown, file: Uint8Array): { body: Buffer; boundary: string } {
  const boundary = `----mvbench${randomUUID().replace(/-/g, '')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify(operations)}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n${JSON.stringify({ 0: ['variables.input.audio'] })}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="melody.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  );
  return { body: Buffer.concat([head, Buffer.from(file), Buffer.from(`\r\n--${boundary}--\r\n`)]), boundary };
}

interface FanOut {
  subscribers: number;
  deliveries: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
}

/** Opens `count` subscriptions on `id` (10 a socket), waits for each one's first event, publishes, measures. */
async function fanOut(
  wsUrl: string,
  token: string,
  prefix: string,
  id: string,
  uuid: string,
  userId: string,
  count: number,
  publisher: ReturnType<typeof createRedis>,
): Promise<FanOut> {
  const clients: Client[] = [];
  const latencies: number[] = [];
  let ready = 0;
  let resolveReady!: () => void;
  const allReady = new Promise<void>((resolve) => (resolveReady = resolve));
  const query = 'subscription($id: ID!) { conversionProgress(id: $id) { progress message } }';
  for (let opened = 0; opened < count;) {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(client);
    for (let i = 0; i < SUBSCRIPTIONS_PER_SOCKET && opened < count; i++, opened++) {
      let first = true;
      client.subscribe<{ conversionProgress: { progress: number; message: string } }>(
        { query, variables: { id } },
        {
          next: (result) => {
            const event = result.data?.conversionProgress;
            if (first) {
              first = false;
              if (++ready === count) resolveReady();
              return;
            }
            if (event && event.message.startsWith('t='))
              latencies.push(performance.timeOrigin + performance.now() - Number(event.message.slice(2)));
          },
          error: (error) => console.error('subscription error', error),
          complete: () => undefined,
        },
      );
    }
  }
  const timeout = setTimeout(() => resolveReady(), 60_000);
  await allReady;
  clearTimeout(timeout);
  if (ready < count) console.error(`only ${ready} of ${count} subscriptions started within 60 s`);
  const channel = topicChannel(prefix, Topic.CONVERSION_PROGRESS, uuid);
  for (let i = 0; i < EVENTS_PER_LEVEL; i++) {
    const payload: ProgressPayload = {
      conversionId: uuid,
      userId,
      status: 'PROCESSING',
      stage: 'SYNTHESIS',
      progress: 50,
      message: `t=${performance.timeOrigin + performance.now()}`,
      at: new Date().toISOString(),
      final: false,
      error: null,
    };
    await publisher.publish(channel, JSON.stringify(payload));
    await new Promise((resolve) => setTimeout(resolve, EVENT_GAP_MS));
  }
  // Let the last event arrive everywhere.
  const expected = ready * EVENTS_PER_LEVEL;
  for (let waited = 0; latencies.length < expected && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  await Promise.all(clients.map((client) => client.dispose()));
  const sorted = latencies.sort((a, b) => a - b);
  return {
    subscribers: ready,
    deliveries: latencies.length,
    expected: count * EVENTS_PER_LEVEL,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const requestsOnly = process.argv.includes('--requests-only');
  const profileDir = process.argv.find((arg) => arg.startsWith('--profile='))?.slice('--profile='.length);
  const useWrk = !process.argv.includes('--load=node') && hasWrk();
  const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  const cleanup = new Cleanup();
  process.once('SIGINT', () => void cleanup.run().finally(() => process.exit(130)));
  try {
    const resources = await createTestResources(cleanup, { storageLabel: 'mv-bench-api-' });
    const apiPort = await freePort();
    const plainPort = await freePort();
    const env = {
      ...resources.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_MINUTE: process.argv.includes('--no-rate-limit') ? '0' : '1000000',
      MAX_SUBSCRIPTIONS_PER_USER: '0',
      WS_MAX_CONNECTIONS_PER_USER: '0',
    };
    const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const api = startChild(cleanup, [...profileArgs, join(ROOT, 'dist', 'src', 'main.js'), 'api'], env);
    const plainServer = startChild(cleanup, ['-e', PLAIN_SERVER], { PORT: String(plainPort) });
    const base = `http://127.0.0.1:${apiPort}`;
    await waitForHttp(`${base}/health/live`, { timeoutMs: 60_000, intervalMs: 200, exited: () => api.exitCode !== null });
    await waitForHttp(`http://127.0.0.1:${plainPort}/`, { timeoutMs: 10_000, intervalMs: 200 });

    const orm = await initOrm(resources.databaseUrl, ENTITIES);
    cleanup.add(() => orm.close(true));
    const userId = `bench-${randomUUID().slice(0, 8)}`;
    const token = mintToken(resources.jwtSecret, userId);
    const admin = mintToken(resources.jwtSecret, `admin-${randomUUID().slice(0, 8)}`, Role.ADMIN);
    for (let i = 0; i < 200; i++) {
      await insertConversion(orm.em.fork() as EntityManager, {
        userId,
        status: i % 4 === 0 ? ConversionStatus.COMPLETED : ConversionStatus.PENDING,
        createdAt: new Date(Date.now() - i * 1000),
      });
    }
    const completed = await insertConversion(orm.em.fork() as EntityManager, {
      userId,
      status: ConversionStatus.COMPLETED,
      createdAt: new Date(Date.now() - 300_000),
    });

    const graphqlUrl = new URL(`${base}/graphql`);
    const jsonHeaders = (body: Buffer, bearer = token) => ({
      'content-type': 'application/json',
      'content-length': body.length,
      authorization: `Bearer ${bearer}`,
    });
    const graphqlBody = (query: string) => Buffer.from(JSON.stringify({ query }));
    const plainBody = Buffer.from('{}');
    /** The request rows: label, body and issue 16's target (share of the plain server; p99 bound where it sets one). */
    const operations = [
      {
        label: 'quota',
        body: graphqlBody('{ quota { enforced daily { limit used remaining } monthly { limit used remaining } } }'),
        targetShare: 0.3,
        targetP99: 20 as number | null,
      },
      {
        label: 'conversion(id)',
        body: graphqlBody(
          `{ conversion(id: "${conversionGlobalId(completed.id)}") { id status stage progress prompt genre mood createdAt ` +
            'result { vocalsUrl compressedAudioUrl midiUrl musicXmlUrl reportUrl urlsExpireAt lyrics } quality { pitchAccuracy integratedLufs } } }',
        ),
        targetShare: 0.2,
        targetP99: null,
      },
      {
        label: 'history(first: 20)',
        body: graphqlBody(
          '{ history(first: 20) { edges { cursor node { id status progress prompt genre mood createdAt } } pageInfo { hasNextPage endCursor } } }',
        ),
        targetShare: 0.15,
        targetP99: null,
      },
    ];
    const run = async (
      label: string,
      url: URL,
      headers: Record<string, string | number>,
      body: Buffer,
      durationMs: number,
      graphql: boolean,
    ): Promise<Figures> => {
      if (graphql) {
        // One checked answer first: wrk only counts bad answers, this says what they were.
        const answer = await send(new Agent(), url, 'POST', headers, body);
        if (!graphqlOk(answer.status, answer.body))
          throw new Error(`${label}: unexpected answer ${answer.status} ${answer.body.slice(0, 300)}`);
      }
      const pid = graphql ? api.pid : plainServer.pid;
      const cpuBefore = processCpuMs(pid);
      const figures = useWrk
        ? loadWithWrk(label, { url, method: 'POST', headers, body, concurrency: CONCURRENCY, durationMs, checkGraphql: graphql })
        : await load(label, {
            url,
            method: 'POST',
            headers,
            body,
            concurrency: CONCURRENCY,
            durationMs,
            ok: graphql ? graphqlOk : (status) => status === 200,
          });
      return { ...figures, cpuUsPerRequest: ((processCpuMs(pid) - cpuBefore) * 1000) / Math.max(1, figures.requests) };
    };
    // Warm-up (JIT, connection pools), not counted.
    for (const operation of operations)
      if (!only || operation.label.startsWith(only))
        await run('warm-up', graphqlUrl, jsonHeaders(operation.body), operation.body, 2000, true);
    await run(
      'warm-up',
      new URL(`http://127.0.0.1:${plainPort}/`),
      { 'content-type': 'application/json', 'content-length': plainBody.length },
      plainBody,
      2000,
      false,
    );
    const generator = useWrk ? 'wrk -t1' : 'node client';
    const plain = await run(
      `plain node:http, fixed JSON (c=${CONCURRENCY}, ${generator})`,
      new URL(`http://127.0.0.1:${plainPort}/`),
      { 'content-type': 'application/json', 'content-length': plainBody.length },
      plainBody,
      DURATION_MS,
      false,
    );
    const rows: Figures[] = [plain];
    const shares: { label: string; share: number; cpuShare: number; targetShare: number; p99: number; targetP99: number | null }[] = [];
    for (const operation of operations) {
      if (only && !operation.label.startsWith(only)) continue;
      const row = await run(
        `${operation.label} (c=${CONCURRENCY}, ${generator})`,
        graphqlUrl,
        jsonHeaders(operation.body),
        operation.body,
        DURATION_MS,
        true,
      );
      rows.push(row);
      shares.push({
        label: operation.label,
        share: row.rps / plain.rps,
        cpuShare: (plain.cpuUsPerRequest ?? NaN) / (row.cpuUsPerRequest ?? NaN),
        targetShare: operation.targetShare,
        p99: row.p99,
        targetP99: operation.targetP99,
      });
    }
    const fan: FanOut[] = [];
    const part = (label: string) => !requestsOnly && (!only || label.startsWith(only));
    if (part('convertMelody')) {
      // convertMelody with a 1 MB WAV (11.9 s × 44100 × 2 bytes ≈ 1.05 MB).
      const setQuota = Buffer.from(
        JSON.stringify({ query: `mutation { setUserQuota(userId: "${userId}", daily: 100000, monthly: 1000000) { userId } }` }),
      );
      const quotaAnswer = await send(new Agent(), graphqlUrl, 'POST', jsonHeaders(setQuota, admin), setQuota);
      if (!graphqlOk(quotaAnswer.status, quotaAnswer.body)) throw new Error(`setUserQuota failed: ${quotaAnswer.body.slice(0, 300)}`);
      const seconds = 11.9;
      const rendered = renderMelody(repeatedTwinkle(seconds, [60, 62, 57]), {
        sampleRate: 44100,
        duration: seconds,
        timbre: 'voice',
        vibrato: { rateHz: 5.5, depthCents: 40 },
        noiseDb: -50,
        seed: 7,
      });
      const wav = encodeWav([rendered.samples], 44100, { bitDepth: 16 });
      const query =
        'mutation($input: ConvertMelodyInput!) { convertMelody(input: $input) { conversion { id status } userErrors { code message } } }';
      const { body: uploadBody, boundary } = multipartBody(
        {
          query,
          variables: { input: { prompt: 'a song about the sea at night, slow and calm', genre: 'ballad', mood: 'calm', audio: null } },
        },
        wav,
      );
      const uploadCpuBefore = processCpuMs(api.pid);
      const uploads = await load(`convertMelody, ${(wav.length / 1e6).toFixed(2)} MB WAV upload (c=${UPLOAD_CONCURRENCY})`, {
        url: graphqlUrl,
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': uploadBody.length,
          authorization: `Bearer ${token}`,
          'apollo-require-preflight': 'true',
        },
        body: uploadBody,
        concurrency: UPLOAD_CONCURRENCY,
        count: UPLOADS,
        ok: (status, body) => graphqlOk(status, body) && body.includes('"userErrors":[]') && body.includes('"PENDING"'),
      });
      rows.push({ ...uploads, cpuUsPerRequest: ((processCpuMs(api.pid) - uploadCpuBefore) * 1000) / Math.max(1, uploads.requests) });
    }
    if (part('conversionProgress')) {
      const target = await insertConversion(orm.em.fork() as EntityManager, { userId, status: ConversionStatus.PROCESSING, progress: 30 });
      const publisher = createRedis('redis://127.0.0.1:6379');
      cleanup.add(() => publisher.quit());
      for (const level of SUBSCRIBER_LEVELS) {
        const result = await fanOut(
          `ws://127.0.0.1:${apiPort}/graphql`,
          token,
          resources.prefix,
          conversionGlobalId(target.id),
          target.id,
          userId,
          level,
          publisher,
        );
        fan.push(result);
        if (!(result.p99 < 100) || result.deliveries < result.expected) break;
      }
    }

    if (json) {
      console.log(JSON.stringify({ rows, shares, fan }, null, 2));
    } else {
      const f = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '—');
      console.log('| Load (loopback, keep-alive) | requests | errors | req/s | p50 ms | p99 ms | server CPU µs/request |');
      console.log('|---|---:|---:|---:|---:|---:|---:|');
      for (const row of rows)
        console.log(
          `| ${row.label} | ${row.requests} | ${row.errors} | ${row.rps.toFixed(0)} | ${f(row.p50)} | ${f(row.p99)} | ${row.cpuUsPerRequest === undefined ? '—' : f(row.cpuUsPerRequest)} |`,
        );
      console.log('');
      console.log('| Operation | share of the plain server, req/s | target | p99 ms | p99 target | plain CPU per request ÷ this one |');
      console.log('|---|---:|---:|---:|---:|---:|');
      for (const row of shares)
        console.log(
          `| ${row.label} | ${(100 * row.share).toFixed(1)} % | ≥ ${(100 * row.targetShare).toFixed(0)} % ${row.share >= row.targetShare ? '(met)' : '(not met)'} | ${f(row.p99)} | ${row.targetP99 === null ? '—' : `≤ ${row.targetP99} ${row.p99 <= row.targetP99 ? '(met)' : '(not met)'}`} | ${(100 * row.cpuShare).toFixed(1)} % |`,
        );
      if (fan.length === 0) return;
      console.log('');
      console.log(`| conversionProgress subscribers | deliveries (of ${EVENTS_PER_LEVEL} events each) | p50 ms | p99 ms | max ms |`);
      console.log('|---:|---:|---:|---:|---:|');
      for (const row of fan)
        console.log(`| ${row.subscribers} | ${row.deliveries} / ${row.expected} | ${f(row.p50)} | ${f(row.p99)} | ${f(row.max)} |`);
      const held = fan.filter((row) => row.p99 < 100 && row.deliveries === row.expected).pop();
      console.log('');
      console.log(
        `One API process delivered every event to ${held ? held.subscribers : 'none of the tested'} subscribers with p99 < 100 ms (levels ${SUBSCRIBER_LEVELS.join(', ')}).`,
      );
    }
  } finally {
    await cleanup.run();
  }
}

await main();
