/**
 * Health probes and the Prometheus endpoint of the real API on real PostgreSQL and Redis:
 * readiness turns 503 when this test's own Redis client is disconnected, when this test's own
 * database stops taking connections (the shared servers keep running) or when a migration is
 * pending, and 200 again once each is back; `/metrics` parses with a strict exposition-format
 * parser and counts what was done; a worker process (`METRICS_PORT`) serves its job and stage
 * metrics the same way; the parser itself rejects malformed text.
 */
import { knex, type Knex } from '@mikro-orm/knex';
import { startApi, postGraphQL, type ApiEnv } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { Cleanup, POSTGRES_ADMIN_URL } from '../support/service-harness.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { ensureDistBuilt } from '../support/dist-build.global-setup.js';
import { startServiceProcess } from '../support/service-processes.js';
import { freePort } from '../support/service-harness.js';
import { enqueue, insertPendingConversion, recordProgress, type WorkerEnv } from '../support/worker-harness.js';

const cleanup = new Cleanup();
let api: ApiEnv;
let admin: Knex;
let databaseName: string;

beforeAll(async () => {
  api = await startApi(cleanup, { LOG_LEVEL: 'error' });
  databaseName = new URL(api.config.databaseUrl).pathname.slice(1);
  admin = knex({ client: 'pg', connection: POSTGRES_ADMIN_URL, pool: { min: 0, max: 1 } });
  cleanup.add(() => admin.destroy());
  // Whatever a test did to the database, it takes connections again before the cleanup drops it.
  cleanup.add(() => admin.raw(`alter database "${databaseName}" allow_connections true`));
});

afterAll(() => cleanup.run());

async function probe(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api.url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('health probes', () => {
  it('reports live, ready and the details when every dependency is up', async () => {
    expect(await probe('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await probe('/health/ready')).toEqual({
      status: 200,
      body: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', migrations: 'ok' } },
    });
    const details = await probe('/health');
    expect(details.status).toBe(200);
    expect(details.body).toMatchObject({
      status: 'ok',
      checks: { postgres: { ok: true }, redis: { ok: true }, migrations: { ok: true } },
      queue: { waiting: 0, active: 0 },
    });
  });

  it('turns 503 while Redis is unreachable and 200 once it is back, and stays live', async () => {
    api.services.redis.disconnect();
    const down = await probe('/health/ready');
    expect(down).toEqual({ status: 503, body: { status: 'unavailable', checks: { postgres: 'ok', redis: 'down', migrations: 'ok' } } });
    expect((await probe('/health')).body).toMatchObject({ checks: { redis: { ok: false, error: expect.any(String) } } });
    expect((await probe('/health/live')).status).toBe(200);
    await api.services.redis.connect();
    await eventually('readiness turns 200', () => probe('/health/ready'), {
      until: (answer) => answer.status === 200,
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });

  it('turns 503 while PostgreSQL refuses this database and 200 once it takes connections again', async () => {
    await admin.raw(`alter database "${databaseName}" allow_connections false`);
    await admin.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [databaseName]);
    const started = Date.now();
    await eventually('readiness turns 503', () => probe('/health/ready'), {
      until: (answer) => answer.status === 503,
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    // The probe answers within its check timeout, not after the pool's connection timeout.
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await probe('/health/ready')).body).toMatchObject({ checks: { postgres: 'down', redis: 'ok' } });
    expect((await probe('/health/live')).status).toBe(200);
    await admin.raw(`alter database "${databaseName}" allow_connections true`);
    await eventually('readiness turns 200', () => probe('/health/ready'), {
      until: (answer) => answer.status === 200,
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });

  it('turns 503 while a migration is pending', async () => {
    const connection = api.services.orm.em.getConnection();
    const [last] = await connection.execute<{ id: number; name: string; executed_at: Date }[]>(
      'select * from mikro_orm_migrations order by id desc limit 1',
    );
    await connection.execute('delete from mikro_orm_migrations where id = ?', [last.id]);
    try {
      expect(await probe('/health/ready')).toEqual({
        status: 503,
        body: { status: 'unavailable', checks: { postgres: 'ok', redis: 'ok', migrations: 'down' } },
      });
    } finally {
      await connection.execute('insert into mikro_orm_migrations (id, name, executed_at) values (?, ?, ?)', [
        last.id,
        last.name,
        last.executed_at,
      ]);
    }
    expect((await probe('/health/ready')).status).toBe(200);
  });
});

describe('GET /metrics', () => {
  async function scrape() {
    const response = await fetch(`${api.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  }

  it('is valid exposition text with every family the issue asks for', async () => {
    const families = await scrape();
    const expected: Record<string, string> = {
      melody_jobs_enqueued_total: 'counter',
      melody_jobs_completed_total: 'counter',
      melody_jobs_failed_total: 'counter',
      melody_jobs_retried_total: 'counter',
      melody_job_duration_seconds: 'histogram',
      melody_queue_depth: 'gauge',
      melody_cache_hits_total: 'counter',
      melody_cache_misses_total: 'counter',
      melody_circuit_breaker_state: 'gauge',
      melody_http_requests_total: 'counter',
      melody_http_request_duration_seconds: 'histogram',
      melody_graphql_operations_total: 'counter',
      melody_graphql_operation_duration_seconds: 'histogram',
      melody_active_subscriptions: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect([name, families.get(name)?.type]).toEqual([name, type]);
    // Queue depth is read from Redis at scrape time.
    expect(sampleValue(families, 'melody_queue_depth', { state: 'waiting', role: 'api' })).toBe(0);
    expect(sampleValue(families, 'melody_active_subscriptions')).toBe(0);
  });

  it('counts and times GraphQL operations by name and outcome, and HTTP requests by route', async () => {
    const before = await scrape();
    const count = (families: typeof before, labels: Record<string, string>) =>
      sampleValue(families, 'melody_graphql_operations_total', labels) ?? 0;
    // `Quota` is a documented operation (schema/operations): its own label.
    await postGraphQL(api, 'query Quota { __typename }');
    await postGraphQL(api, 'query Quota { __typename }');
    await postGraphQL(api, 'query ProbeBroken { notAField }');
    await probe('/health/ready');
    const after = await scrape();
    expect(
      count(after, { operation: 'Quota', type: 'query', outcome: 'ok' }) -
        count(before, { operation: 'Quota', type: 'query', outcome: 'ok' }),
    ).toBe(2);
    expect(sampleValue(after, 'melody_graphql_operation_duration_seconds_count', { operation: 'Quota', type: 'query' })).toBe(2);
    // An operation that fails validation never resolves: it is counted as an error without a type.
    expect(count(after, { operation: 'anonymous', outcome: 'error' }) - count(before, { operation: 'anonymous', outcome: 'error' })).toBe(
      1,
    );
    expect(
      (sampleValue(after, 'melody_http_requests_total', { method: 'POST', route: '/graphql', status: '200' }) ?? 0) -
        (sampleValue(before, 'melody_http_requests_total', { method: 'POST', route: '/graphql', status: '200' }) ?? 0),
    ).toBe(2);
    expect(
      sampleValue(after, 'melody_http_requests_total', { method: 'GET', route: '/health/ready', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('labels operations by name only for documented operations: any other name is "other", so clients cannot grow /metrics', async () => {
    const before = await scrape();
    const count = (families: typeof before, labels: Record<string, string>) =>
      sampleValue(families, 'melody_graphql_operations_total', labels) ?? 0;
    const names = Array.from({ length: 50 }, (_, index) => `Probe${index}`);
    for (const name of names) await postGraphQL(api, `query ${name} { __typename }`);
    const after = await scrape();
    expect(
      count(after, { operation: 'other', type: 'query', outcome: 'ok' }) -
        count(before, { operation: 'other', type: 'query', outcome: 'ok' }),
    ).toBe(names.length);
    const text = await (await fetch(`${api.url}/metrics`)).text();
    for (const name of names) expect(text).not.toContain(`operation="${name}"`);
  });
});

describe('with METRICS_TOKEN set', () => {
  const own = new Cleanup();
  let guarded: ApiEnv;
  beforeAll(async () => {
    guarded = await startApi(own, { LOG_LEVEL: 'error', METRICS_TOKEN: 'operators-only-token' });
  });
  afterAll(() => own.run());

  it('answers /metrics and the detailed /health only with the token, and keeps the probes open', async () => {
    for (const path of ['/metrics', '/health']) {
      const without = await fetch(`${guarded.url}${path}`);
      expect({
        path,
        status: without.status,
        code: ((await without.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code,
      }).toEqual({ path, status: 401, code: 'UNAUTHENTICATED' });
      const wrong = await fetch(`${guarded.url}${path}`, { headers: { authorization: 'Bearer operators-only-tokeN' } });
      expect({ path, status: wrong.status }).toEqual({ path, status: 401 });
      await wrong.arrayBuffer();
      const right = await fetch(`${guarded.url}${path}`, { headers: { authorization: 'Bearer operators-only-token' } });
      expect({ path, status: right.status }).toEqual({ path, status: 200 });
      await right.arrayBuffer();
    }
    for (const probe of ['/health/live', '/health/ready']) {
      const response = await fetch(`${guarded.url}${probe}`);
      expect({ probe, status: response.status }).toEqual({ probe, status: 200 });
      await response.arrayBuffer();
    }
  });
});

describe('a worker process with METRICS_PORT', () => {
  beforeAll(() => {
    ensureDistBuilt();
  }, 180_000);

  it('is ready and serves the metrics of the jobs it ran: outcome, one duration per stage and for the job', async () => {
    const port = await freePort();
    const databaseUrl = api.config.databaseUrl;
    const worker = await startServiceProcess(cleanup, {
      name: 'worker-metrics',
      mode: 'worker',
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: databaseUrl,
        REDIS_URL: api.config.redisUrl,
        REDIS_PREFIX: api.config.redisPrefix,
        STORAGE_DIR: api.storageDir,
        JWT_SECRET: api.config.jwtSecret,
        METRICS_PORT: String(port),
        HOST: '127.0.0.1',
      },
    });
    const base = `http://127.0.0.1:${port}`;
    // "Worker started" (what the harness waits for) comes just before the metrics server listens.
    await eventually("the worker's metrics server is live", async () => (await fetch(`${base}/health/live`)).status, {
      until: (status) => status === 200,
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    const env = { config: api.config, services: api.services, worker: null as never, storageDir: api.storageDir } satisfies WorkerEnv;
    const conversion = await insertPendingConversion(env);
    const progress = await recordProgress(cleanup, env, conversion.id);
    await enqueue(env, conversion.id);
    expect(await progress.final(60_000)).toMatchObject({ status: 'COMPLETED' });
    // The job's counters are updated just after the final event is published.
    const families = await eventually(
      'the completed job is counted',
      async () => parsePrometheusText(await (await fetch(`${base}/metrics`)).text()),
      {
        until: (now) => sampleValue(now, 'melody_jobs_completed_total', { outcome: 'COMPLETED' }) === 1,
        timeoutMs: 5000,
        intervalMs: 100,
      },
    );
    expect(sampleValue(families, 'melody_jobs_completed_total', { outcome: 'COMPLETED', role: 'worker' })).toBe(1);
    for (const stage of ['VALIDATION', 'PITCH_EXTRACTION', 'LYRICS', 'SYNTHESIS', 'QUALITY_CHECK', 'FINALIZATION', 'job']) {
      expect([stage, sampleValue(families, 'melody_job_duration_seconds_count', { stage })]).toEqual([stage, 1]);
    }
    expect(sampleValue(families, 'melody_job_duration_seconds_sum', { stage: 'job' })).toBeGreaterThan(0);
    expect(await worker.stop()).toBe(0);
  }, 120_000);
});

describe('the strict exposition parser', () => {
  it('accepts well-formed text and reads escaped label values', () => {
    const families = parsePrometheusText(
      '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"uo\\\\te\\n"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1.5\nh_count 2\n',
    );
    expect(sampleValue(families, 'a_total', { x: 'q"uo\\te\n' })).toBe(3);
  });

  it.each([
    ['a bad value', 'a 1,5\n'],
    ['an unquoted label value', 'a{x=1} 1\n'],
    ['a bad escape', 'a{x="\\t"} 1\n'],
    ['a TYPE after samples', 'a 1\n# TYPE a counter\n'],
    ['a duplicate sample', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['non-contiguous families', 'a 1\nb 1\na{x="1"} 1\n'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
