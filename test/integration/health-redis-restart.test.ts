/**
 * Readiness follows a real Redis server going away and coming back: the test runs a Redis of its
 * own (the machine's `redis-server`, on a free port, nothing kept on disk), points an API at it,
 * stops that server and starts it again. The shared Redis other tests use is never touched.
 */
import { startApi, type ApiEnv } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { Cleanup } from '../support/service-harness.js';

const cleanup = new Cleanup();
let api: ApiEnv;
let redis: PrivateRedis;

async function ready(): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api.url}/health/ready`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  redis = await startPrivateRedis(cleanup);
  api = await startApi(cleanup, { REDIS_URL: redis.url });
});

afterAll(async () => {
  // The services close their Redis clients; a stopped server must not make that hang.
  if (!redis.running()) await redis.start();
  await cleanup.run();
});

describe('readiness with a Redis that stops and restarts', () => {
  it('is ready, turns 503 (redis: down) when the server is killed, and ready again after it restarts', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', migrations: 'ok' } } });
    await redis.kill();
    await eventually('readiness turns 503', ready, { until: (answer) => answer.status === 503, timeoutMs: 20_000, intervalMs: 100 });
    expect(await ready()).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { postgres: 'ok', redis: 'down', migrations: 'ok' } },
    });
    expect((await fetch(`${api.url}/health/live`)).status).toBe(200);
    await redis.start();
    await eventually('readiness turns 200 again', ready, { until: (answer) => answer.status === 200, timeoutMs: 20_000, intervalMs: 100 });
  });
});
