/**
 * Readiness follows a real Redis server going away and coming back: the test runs a Redis of its
 * own (the machine's `redis-server`, on a free port, nothing kept on disk), points an API at it,
 * stops that server and starts it again. The shared Redis other tests use is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { startApi, type ApiEnv } from '../support/api-harness.js';
import { Cleanup, freePort } from '../support/service-harness.js';

const cleanup = new Cleanup();
let api: ApiEnv;
let port: number;
let redis: ChildProcess | null = null;

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redis = child;
  // Ready when it answers PING (ioredis is not used here so no client of the test holds a connection).
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end('PING\r\n');
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopRedis(): Promise<void> {
  const child = redis;
  redis = null;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function ready(): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api.url}/health/ready`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function until(what: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  cleanup.add(() => stopRedis());
  api = await startApi(cleanup, { REDIS_URL: `redis://127.0.0.1:${port}` });
});

afterAll(async () => {
  // The services close their Redis clients; a stopped server must not make that hang.
  if (!redis) await startRedis();
  await cleanup.run();
});

describe('readiness with a Redis that stops and restarts', () => {
  it('is ready, turns 503 (redis: down) when the server is killed, and ready again after it restarts', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', migrations: 'ok' } } });
    await stopRedis();
    await until(async () => (await ready()).status === 503);
    expect(await ready()).toEqual({ status: 503, body: { status: 'unavailable', checks: { postgres: 'ok', redis: 'down', migrations: 'ok' } } });
    expect((await fetch(`${api.url}/health/live`)).status).toBe(200);
    await startRedis();
    await until(async () => (await ready()).status === 200);
  });
});
