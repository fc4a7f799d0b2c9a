/**
 * `npm run bench:subscribers`: `conversionProgress` fan-out of one API process (issue 16: 10,000
 * subscriptions from ≥ 1,000 sockets, every event to every one of them with p99 publish→client ≤
 * 100 ms at 10 events/s, memory per subscriber reported).
 *
 * Set-up (all thrown away at the end): a database, a Redis prefix and a storage directory as in the
 * tests; the API runs as a child process (`node dist/src/main.js api`, NODE_ENV=production), the load
 * (the sockets) is this process. One user, one PROCESSING conversion. The per-user socket cap and the
 * subscription limit are switched off for the run (`WS_MAX_CONNECTIONS_PER_USER=0`,
 * `MAX_SUBSCRIPTIONS_PER_USER=0`), and the rate limit is at its ceiling (10,000 subscribes are
 * 10,000 operations), as in `bench:api`.
 *
 * The API runs twice in the same run: "before" with `SUBSCRIPTION_SHARED_RESULTS=false` (graphql-js
 * executes and graphql-ws serialises every event once per subscriber) and "after" with the default
 * (once per event, document, variables and user). For each, subscriptions ramp through LEVELS (10 a
 * socket, so 10,000 are 1,000 sockets), keeping the sockets of the previous level open; at each
 * level, once every subscription has its first event (the current state), EVENTS events are
 * published on the conversion's Redis channel at 10 a second, each carrying its publish time
 * (`message: "<event number>@<ms since the epoch>"`, the same clock: one machine), and the time from publish to
 * the client's message handler is recorded for every delivery. The client is a bare
 * graphql-transport-ws client on `ws` that parses every message and checks its id, type and payload
 * (a delivery that is wrong, missing or doubled is counted, and the level fails). A ramp stops at the
 * level that lost a delivery; "before" also stops at its first p99 over 100 ms.
 *
 * Reported per level: p50 / p99 / max publish→client, deliveries, the API's RSS over its RSS with no
 * subscription (÷ subscriptions), its CPU time per delivery, the bytes of one `next` message, the
 * executions and serialisations per event (from its /metrics), and `PUBSUB NUMSUB` of the channel
 * (subscriber connections in Redis: one per process). `--levels=1000,2000` and `--events=N` change
 * the ramp, `--only=after|before` runs one mode, `--json` prints raw figures, `--profile=DIR`
 * runs the API under `node --cpu-prof --cpu-prof-dir=DIR`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { EntityManager } from '@mikro-orm/postgresql';
import { percentile, processCpuMs, waitForHttp } from './bench-process.js';
import { Cleanup, createTestResources, freePort, mintToken } from '../test/support/service-harness.js';
import { insertConversion } from '../test/support/read-side-harness.js';
import { initOrm } from '../src/platform/database.js';
import { ENTITIES } from '../src/modules/entities.js';
import { createRedis } from '../src/platform/redis.js';
import { Topic, topicChannel, type ProgressPayload } from '../src/platform/pubsub.js';
import { ConversionStatus } from '../src/modules/conversion/conversion.entity.js';
import { conversionGlobalId } from '../src/modules/node/global-id.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string) => process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);
const LEVELS = (arg('levels') ?? '1000,2000,5000,10000').split(',').map(Number);
const EVENTS = Number(arg('events') ?? 50);
const EVENTS_PER_SECOND = 10;
const SUBSCRIPTIONS_PER_SOCKET = 10;
/** Sockets being opened at once while a level ramps up. */
const OPENING = 50;
const TARGET_P99_MS = 100;
const QUERY = 'subscription Progress($id: ID!) { conversionProgress(id: $id) { conversionId status stage progress message final } }';

interface Level {
  mode: 'before' | 'after';
  subscriptions: number;
  sockets: number;
  deliveries: number;
  expected: number;
  /** Messages that were malformed, for an unknown id, or a second copy of one event. */
  wrong: number;
  p50: number;
  p99: number;
  max: number;
  rssMiB: number;
  rssPerSubscriptionKiB: number;
  cpuUsPerDelivery: number;
  messageBytes: number;
  executionsPerEvent: number;
  serialisationsPerEvent: number;
  numsub: number;
}

/** Resident set size of process `pid`, bytes. */
function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A counter's value in the Prometheus text at `url` (0 when absent). */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/**
 * The client side: sockets with SUBSCRIPTIONS_PER_SOCKET subscriptions each, a bare
 * graphql-transport-ws client that records, per subscription, the events it has seen.
 */
class Load {
  private readonly sockets: WebSocket[] = [];
  /** Per subscription (socket index × 10 + n): whether its first event came, and the last event number seen. */
  private ready = 0;
  private readonly lastEvent: number[] = [];
  latencies: number[] = [];
  wrong = 0;
  messageBytes = 0;
  private closing = false;
  /** Publish times by event number. */
  readonly published = new Map<number, number>();

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly conversionId: string,
  ) {}

  get subscriptions(): number {
    return this.lastEvent.length;
  }

  get socketCount(): number {
    return this.sockets.length;
  }

  get started(): number {
    return this.ready;
  }

  /** Opens sockets until `subscriptions` are open, and waits until each has its first event. */
  async rampTo(subscriptions: number): Promise<void> {
    const wanted = Math.ceil(subscriptions / SUBSCRIPTIONS_PER_SOCKET) - this.sockets.length;
    const opening: Promise<void>[] = [];
    for (let i = 0; i < wanted; i++) {
      opening.push(this.open());
      if (opening.length >= OPENING) await Promise.all(opening.splice(0));
    }
    await Promise.all(opening);
    await waitFor(`${subscriptions} subscriptions have their first event`, () => this.ready >= subscriptions, 120_000);
  }

  private open(): Promise<void> {
    const index = this.sockets.length;
    const socket = new WebSocket(this.url, 'graphql-transport-ws');
    this.sockets.push(socket);
    const first = index * SUBSCRIPTIONS_PER_SOCKET;
    for (let n = 0; n < SUBSCRIPTIONS_PER_SOCKET; n++) this.lastEvent.push(-2);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.once('open', () =>
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${this.token}` } })),
      );
      socket.on('close', (code, reason) => {
        if (!this.closing && code !== 1000 && code !== 1005) console.error(`socket ${index} closed: ${code} ${String(reason)}`);
      });
      socket.on('message', (data: Buffer) => {
        const received = now();
        const text = data.toString('utf8');
        let message: { type?: string; id?: string; payload?: { data?: { conversionProgress?: { message?: string } }; errors?: unknown } };
        try {
          message = JSON.parse(text) as typeof message;
        } catch {
          this.wrong++;
          return;
        }
        if (message.type === 'connection_ack') {
          for (let n = 0; n < SUBSCRIPTIONS_PER_SOCKET; n++)
            socket.send(
              JSON.stringify({ type: 'subscribe', id: `s${first + n}`, payload: { query: QUERY, variables: { id: this.conversionId } } }),
            );
          resolve();
          return;
        }
        if (message.type === 'ping') {
          socket.send('{"type":"pong"}');
          return;
        }
        const slot = Number(message.id?.slice(1)) - first;
        const event = message.payload?.data?.conversionProgress;
        if (message.type !== 'next' || !(slot >= 0 && slot < SUBSCRIPTIONS_PER_SOCKET) || !event || message.payload?.errors) {
          if (this.wrong++ === 0) console.error(`unexpected message: ${text.slice(0, 300)}`);
          return;
        }
        const at = first + slot;
        if (this.lastEvent[at] === -2) {
          this.lastEvent[at] = -1;
          this.ready++;
          return;
        }
        const [number, publishedAt] = (event.message ?? '').split('@').map(Number) as [number, number];
        if (!(number > this.lastEvent[at]!) || !Number.isFinite(publishedAt)) {
          this.wrong++;
          return;
        }
        this.lastEvent[at] = number;
        this.messageBytes = data.length;
        this.latencies.push(received - publishedAt);
      });
    });
  }

  close(): void {
    this.closing = true;
    for (const socket of this.sockets) socket.terminate();
  }
}

async function runMode(
  mode: 'before' | 'after',
  resources: Awaited<ReturnType<typeof createTestResources>>,
  cleanup: Cleanup,
): Promise<Level[]> {
  const port = await freePort();
  const env = {
    ...process.env,
    ...resources.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    PORT: String(port),
    HOST: '127.0.0.1',
    RATE_LIMIT_PER_MINUTE: '1000000',
    MAX_SUBSCRIPTIONS_PER_USER: '0',
    WS_MAX_CONNECTIONS_PER_USER: '0',
    SUBSCRIPTION_SHARED_RESULTS: mode === 'after' ? 'true' : 'false',
  };
  const profileDir = arg('profile');
  const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const api = spawn(process.execPath, [...profileArgs, join(ROOT, 'dist', 'src', 'main.js'), 'api'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stopApi = () =>
    new Promise<void>((resolve) => {
      if (api.exitCode !== null) return resolve();
      api.once('exit', () => resolve());
      api.kill('SIGTERM');
      setTimeout(() => api.kill('SIGKILL'), 10_000).unref();
    });
  cleanup.add(stopApi);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health/live`, { timeoutMs: 60_000, exited: () => api.exitCode !== null });

  const orm = await initOrm(resources.databaseUrl, ENTITIES);
  const userId = `bench-${randomUUID().slice(0, 8)}`;
  const row = await insertConversion(orm.em.fork() as EntityManager, { userId, status: ConversionStatus.PROCESSING, progress: 30 });
  await orm.close(true);
  const channel = topicChannel(resources.prefix, Topic.CONVERSION_PROGRESS, row.id);
  const redis = createRedis('redis://127.0.0.1:6379');
  const load = new Load(`ws://127.0.0.1:${port}/graphql`, mintToken(resources.jwtSecret, userId), conversionGlobalId(row.id));
  const levels: Level[] = [];
  let eventNumber = 0;
  try {
    // Warm-up with one socket (JIT, pools), then the baseline RSS.
    await load.rampTo(SUBSCRIPTIONS_PER_SOCKET);
    await sleep(1000);
    const rssBase = rssBytes(api.pid!);
    for (const level of LEVELS) {
      await load.rampTo(level);
      await sleep(500);
      const rss = rssBytes(api.pid!);
      const [, numsub] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
      load.latencies = [];
      const wrongBefore = load.wrong;
      const executions0 = await counter(`${base}/metrics`, 'melody_subscription_executions_total');
      const serialisations0 = await counter(`${base}/metrics`, 'melody_subscription_serialisations_total');
      const cpu0 = processCpuMs(api.pid!);
      const started = now();
      for (let i = 0; i < EVENTS; i++) {
        // Paced against the start, not the previous send: 10 a second on average whatever the delays.
        const due = started + (i * 1000) / EVENTS_PER_SECOND;
        if (due > now()) await sleep(due - now());
        eventNumber++;
        const payload: ProgressPayload = {
          conversionId: row.id,
          userId,
          status: 'PROCESSING',
          stage: 'SYNTHESIS',
          progress: 50,
          message: `${eventNumber}@${now()}`,
          at: new Date().toISOString(),
          final: false,
          error: null,
        };
        await redis.publish(channel, JSON.stringify(payload));
      }
      const expected = load.subscriptions * EVENTS;
      // Let the last event arrive everywhere (a backlog drains or shows as missing).
      const end = Date.now() + 30_000;
      while (load.latencies.length < expected && Date.now() < end) await sleep(50);
      const cpu = processCpuMs(api.pid!) - cpu0;
      const executions = (await counter(`${base}/metrics`, 'melody_subscription_executions_total')) - executions0;
      const serialisations = (await counter(`${base}/metrics`, 'melody_subscription_serialisations_total')) - serialisations0;
      const sorted = Float64Array.from(load.latencies).sort();
      const result: Level = {
        mode,
        subscriptions: load.subscriptions,
        sockets: load.socketCount,
        deliveries: load.latencies.length,
        expected,
        wrong: load.wrong - wrongBefore,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? NaN,
        rssMiB: rss / 2 ** 20,
        rssPerSubscriptionKiB: (rss - rssBase) / 1024 / Math.max(1, load.subscriptions - SUBSCRIPTIONS_PER_SOCKET),
        cpuUsPerDelivery: (cpu * 1000) / Math.max(1, load.latencies.length),
        messageBytes: load.messageBytes,
        executionsPerEvent: executions / EVENTS,
        serialisationsPerEvent: serialisations / EVENTS,
        numsub: Number(numsub),
      };
      levels.push(result);
      console.error(`${mode} ${level}: p99 ${result.p99.toFixed(1)} ms, ${result.deliveries}/${result.expected}`);
      // "before" stops at its first miss (it only gets slower); "after" ramps on to 10,000 so that the
      // figures (memory above all) are there for every level, unless a delivery was lost or wrong.
      if ((mode === 'before' && !(result.p99 <= TARGET_P99_MS)) || result.deliveries < result.expected || result.wrong > 0) break;
    }
  } finally {
    load.close();
    await redis.quit();
    await stopApi();
  }
  return levels;
}

async function main(): Promise<void> {
  const only = arg('only');
  const cleanup = new Cleanup();
  process.once('SIGINT', () => void cleanup.run().finally(() => process.exit(130)));
  const rows: Level[] = [];
  try {
    const resources = await createTestResources(cleanup, { storageLabel: 'mv-bench-subscribers-' });
    for (const mode of ['before', 'after'] as const) if (!only || only === mode) rows.push(...(await runMode(mode, resources, cleanup)));
  } finally {
    await cleanup.run();
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
  console.log(
    `| mode | subscriptions (sockets) | deliveries | wrong | p50 ms | p99 ms (target ≤ ${TARGET_P99_MS}) | max ms | API RSS MiB | RSS per subscription KiB | API CPU µs per delivery | next message bytes | executions / serialisations per event | PUBSUB NUMSUB |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows)
    console.log(
      `| ${row.mode} | ${row.subscriptions} (${row.sockets}) | ${row.deliveries} / ${row.expected} | ${row.wrong} | ${f(row.p50)} | ${f(row.p99)} ${row.p99 <= TARGET_P99_MS ? '(met)' : '(not met)'} | ${f(row.max)} | ${f(row.rssMiB, 0)} | ${f(row.rssPerSubscriptionKiB)} | ${f(row.cpuUsPerDelivery)} | ${row.messageBytes} | ${row.mode === 'after' ? `${f(row.executionsPerEvent)} / ${f(row.serialisationsPerEvent)}` : 'one per subscription (not counted)'} | ${row.numsub} |`,
    );
  console.log('');
  console.log(
    `${EVENTS} events per level at ${EVENTS_PER_SECOND}/s, ${SUBSCRIPTIONS_PER_SOCKET} subscriptions per socket, one user and one conversion.`,
  );
}

await main();
