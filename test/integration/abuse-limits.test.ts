/**
 * Abuse limits of the real API (HTTP and graphql-ws) against real PostgreSQL and Redis: depth and
 * complexity refused before execution (the cost reported on accepted operations), the per-user rate
 * limit shared by two API instances through Redis, the open-subscription limit across two instances,
 * introspection off in production, batched operations and oversized documents refused, and the
 * limits' configuration.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import type { EntityManager } from '@mikro-orm/postgresql';
import { loadConfig } from '../../src/platform/config.js';
import { createServices } from '../../src/services.js';
import { createApiServer } from '../../src/graphql/server.js';
import { operationDepth } from '../../src/graphql/abuse-limits/operation-cost.js';
import { ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionGlobalId } from '../../src/modules/node/global-id.js';
import { Cleanup, uniqueSuffix } from '../support/service-harness.js';
import { postGraphQL, startApi, uploadConversion, type ApiEnv } from '../support/api-harness.js';
import { toneWav } from '../support/hostile-inputs.js';
import { DECODE_REFUSAL_COST } from '../../src/modules/conversion/conversion.service.js';
import { insertConversion } from '../support/read-side-harness.js';
import { followProgress, progressClient } from '../support/progress-client.js';
import { eventually } from '../support/eventually.js';

const QUOTA = '{ quota { enforced daily { limit used } } }';

/** A second API instance on the same database, Redis prefix and secrets as `api` (another replica). */
/**
 * The rate limits count in fixed one-minute windows: waits, when less than 10 s of the current window
 * are left, until the next one has begun (half a second in), so that a test's requests share one window.
 */
async function clearOfWindowBoundary(): Promise<void> {
  await eventually(
    'at least 10 s of the current rate-limit window are left',
    () => {
      const intoMinute = Date.now() % 60_000;
      return intoMinute >= 500 && intoMinute <= 50_000;
    },
    { timeoutMs: 11_000, intervalMs: 100 },
  );
}

async function replicaOf(cleanup: Cleanup, api: ApiEnv): Promise<{ url: string }> {
  const services = await createServices(api.config, { role: 'api' });
  cleanup.add(() => services.close());
  const server = await createApiServer(services);
  cleanup.add(() => server.stop());
  return { url: await server.start(0, '127.0.0.1') };
}

async function rawPost(
  url: string,
  body: string,
  token?: string,
): Promise<{
  status: number;
  headers: Headers;
  body: { errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown; extensions?: Record<string, unknown> };
}> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as never };
}

describe('query depth, complexity and document limits', () => {
  const cleanup = new Cleanup();
  let api: ApiEnv;
  let token: string;

  beforeAll(async () => {
    api = await startApi(cleanup, {
      GRAPHQL_MAX_DEPTH: '4',
      GRAPHQL_MAX_COMPLEXITY: '300',
      GRAPHQL_MAX_QUERY_BYTES: '1024',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    token = api.token(`user-${uniqueSuffix()}`);
  });
  afterAll(() => cleanup.run());

  it('answers an accepted operation with its cost in extensions', async () => {
    const result = await rawPost(
      api.url,
      JSON.stringify({ query: '{ history(first: 2) { edges { node { id status prompt } } } }' }),
      token,
    );
    expect({ status: result.status, errors: result.body.errors }).toEqual({ status: 200, errors: undefined });
    // history: 1 + its database query (50) + first (2) × (edges: 1 + node: (1 + 3 fields)) = 61; three fields deep below history.
    expect(result.body.extensions).toEqual({ cost: { complexity: 61, maxComplexity: 300, depth: 4, maxDepth: 4 } });
  });

  it('refuses an operation deeper than GRAPHQL_MAX_DEPTH with QUERY_TOO_DEEP before executing it', async () => {
    const result = await rawPost(
      api.url,
      JSON.stringify({ query: '{ history(first: 1) { edges { node { input { fileName } } } } }' }),
      token,
    );
    expect(result.status).toBe(400);
    expect(result.body.data).toBeUndefined();
    expect(result.body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_DEEP', depth: 5, maxDepth: 4 }) }),
    ]);
  });

  it('counts depth through fragments', async () => {
    const query = 'query { history(first: 1) { ...H } } fragment H on ConversionConnection { edges { node { input { fileName } } } }';
    expect(operationDepth(parse(query))).toBe(5);
    const result = await rawPost(api.url, JSON.stringify({ query }), token);
    expect(result.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
  });

  it('refuses an operation costlier than GRAPHQL_MAX_COMPLEXITY with QUERY_TOO_COMPLEX and the computed cost', async () => {
    const result = await rawPost(
      api.url,
      JSON.stringify({ query: 'query($n: Int) { history(first: $n) { edges { node { id status prompt } } } }', variables: { n: 100 } }),
      token,
    );
    expect(result.status).toBe(400);
    expect(result.body.data).toBeUndefined();
    expect(result.body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', complexity: 551, maxComplexity: 300 }) }),
    ]);
  });

  it('refuses a batched (JSON array) request with 400 BATCHING_NOT_SUPPORTED', async () => {
    const result = await rawPost(api.url, JSON.stringify([{ query: QUOTA }, { query: QUOTA }]), token);
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]?.extensions?.code).toBe('BATCHING_NOT_SUPPORTED');
  });

  it('refuses a document over GRAPHQL_MAX_QUERY_BYTES with 413 QUERY_TOO_LARGE, over HTTP and over graphql-ws', async () => {
    const query = `${QUOTA}\n# ${'x'.repeat(1100)}`;
    const result = await rawPost(api.url, JSON.stringify({ query }), token);
    expect(result.status).toBe(413);
    expect(result.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');

    const client = progressClient(cleanup, api.url, token);
    const errors = await new Promise<unknown>((resolve) =>
      client.subscribe({ query }, { next: () => undefined, error: resolve, complete: () => resolve('completed') }),
    );
    expect(errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_LARGE' }) })]);
  });

  it('lets every example operation under schema/operations through the default limits', () => {
    const defaults = loadConfig({});
    const dir = join(process.cwd(), 'schema', 'operations');
    const text = readdirSync(dir)
      .filter((name) => name.endsWith('.graphql'))
      .map((name) => readFileSync(join(dir, name), 'utf8'))
      .join('\n');
    const document = parse(text);
    for (const definition of document.definitions) {
      if (definition.kind !== 'OperationDefinition') continue;
      expect(operationDepth(document, definition.name!.value)).toBeLessThanOrEqual(defaults.maxQueryDepth);
    }
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(defaults.maxQueryBytes);
  });
});

describe('the per-user rate limit', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('is shared by two API instances through Redis and answers 429 RATE_LIMITED with Retry-After', async () => {
    const api = await startApi(cleanup, { RATE_LIMIT_PER_MINUTE: '5' });
    const replica = await replicaOf(cleanup, api);
    await clearOfWindowBoundary();
    const user = api.token(`user-${uniqueSuffix()}`);
    const other = api.token(`user-${uniqueSuffix()}`);
    for (const url of [api.url, replica.url, api.url, replica.url, api.url]) {
      const ok = await rawPost(url, JSON.stringify({ query: QUOTA }), user);
      expect({ status: ok.status, errors: ok.body.errors }).toEqual({ status: 200, errors: undefined });
    }
    const refused = await rawPost(replica.url, JSON.stringify({ query: QUOTA }), user);
    expect(refused.status).toBe(429);
    expect(refused.body.data).toBeUndefined();
    const error = refused.body.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 5 });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(error.extensions!.retryAfterSeconds).toBe(retryAfter);
    // Somebody else is not affected.
    expect((await rawPost(api.url, JSON.stringify({ query: QUOTA }), other)).status).toBe(200);
  });

  it('limits operations without a credential per client IP (ANONYMOUS_RATE_LIMIT_PER_MINUTE), and leaves authenticated users to their own limit', async () => {
    const api = await startApi(cleanup, { ANONYMOUS_RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_PER_MINUTE: '100' });
    await clearOfWindowBoundary();
    for (let index = 0; index < 5; index++) expect((await rawPost(api.url, JSON.stringify({ query: '{ __typename }' }))).status).toBe(200);
    const refused = await rawPost(api.url, JSON.stringify({ query: '{ __typename }' }));
    expect({
      status: refused.status,
      code: refused.body.errors?.[0]?.extensions?.code,
      limit: refused.body.errors?.[0]?.extensions?.limit,
    }).toEqual({ status: 429, code: 'RATE_LIMITED', limit: 5 });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await rawPost(api.url, JSON.stringify({ query: QUOTA }), api.token(`user-${uniqueSuffix()}`))).status).toBe(200);
  });

  it('charges an upload refused after decoding DECODE_REFUSAL_COST more units, so repeated refusals reach the limit sooner', async () => {
    const limit = DECODE_REFUSAL_COST + 5;
    const api = await startApi(cleanup, { RATE_LIMIT_PER_MINUTE: String(limit) });
    await clearOfWindowBoundary();
    const user = api.token(`refused-${uniqueSuffix()}`);
    const refused = await uploadConversion(api, { token: user, file: { bytes: toneWav(0.5, 16_000, 0.3), name: 'short.wav' } });
    expect(refused.body.data?.convertMelody.userErrors[0]?.code).toBe('TOO_SHORT');
    // 1 (the upload) + DECODE_REFUSAL_COST used: limit - 1 - DECODE_REFUSAL_COST = 4 operations left.
    for (let left = limit - 1 - DECODE_REFUSAL_COST; left > 0; left--)
      expect((await rawPost(api.url, JSON.stringify({ query: QUOTA }), user)).status).toBe(200);
    const over = await rawPost(api.url, JSON.stringify({ query: QUOTA }), user);
    expect({ status: over.status, code: over.body.errors?.[0]?.extensions?.code }).toEqual({ status: 429, code: 'RATE_LIMITED' });
  });
});

describe('the open-subscription limit', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('holds across two API instances and frees a slot when a subscription ends', async () => {
    const api = await startApi(cleanup, { MAX_SUBSCRIPTIONS_PER_USER: '2', RATE_LIMIT_PER_MINUTE: '0' });
    const replica = await replicaOf(cleanup, api);
    const userId = `user-${uniqueSuffix()}`;
    const token = api.token(userId);
    const em = () => api.services.orm.em.fork() as EntityManager;
    const rows = await Promise.all(
      [0, 1, 2].map(() => insertConversion(em(), { userId, status: ConversionStatus.PROCESSING, progress: 30 })),
    );
    const ids = rows.map((row) => conversionGlobalId(row.id));

    const first = followProgress(progressClient(cleanup, api.url, token), ids[0]!);
    await first.waitFor(() => true, 10_000);
    const secondClient = progressClient(cleanup, replica.url, token);
    const second = followProgress(secondClient, ids[1]!);
    await second.waitFor(() => true, 10_000);

    const third = followProgress(progressClient(cleanup, api.url, token), ids[2]!);
    expect(await third.failure(10_000)).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'SUBSCRIPTION_LIMIT', limit: 2 }) }),
    ]);

    // Another user has slots of their own.
    const otherId = `user-${uniqueSuffix()}`;
    const otherRow = await insertConversion(em(), { userId: otherId, status: ConversionStatus.PENDING });
    await followProgress(progressClient(cleanup, replica.url, api.token(otherId)), conversionGlobalId(otherRow.id)).waitFor(
      () => true,
      10_000,
    );

    // Closing the replica's socket completes its subscription and gives the slot back.
    await secondClient.dispose();
    const key = `${api.config.redisPrefix}:subscriptions:${userId}`;
    await eventually('the slot is given back', () => api.services.redis.zcard(key), {
      until: (open) => open === 1,
      timeoutMs: 5000,
      intervalMs: 100,
    });
    const again = followProgress(progressClient(cleanup, api.url, token), ids[2]!);
    expect(await again.waitFor(() => true, 10_000)).toMatchObject({ status: 'PROCESSING' });
  });
});

describe('introspection', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('defaults to on in development and off in production, and GRAPHQL_INTROSPECTION overrides it', () => {
    expect(loadConfig({}).introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), GRAPHQL_INTROSPECTION: 'true' }).introspection).toBe(true);
    expect(loadConfig({ GRAPHQL_INTROSPECTION: 'off' }).introspection).toBe(false);
    expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'maybe' })).toThrow(/GRAPHQL_INTROSPECTION/);
  });

  it('is refused in production over HTTP and over graphql-ws', async () => {
    const api = await startApi(cleanup, { NODE_ENV: 'production' });
    const token = api.token(`user-${uniqueSuffix()}`);
    const query = '{ __schema { queryType { name } } }';
    const http = await postGraphQL(api, query, {}, token);
    expect(http.status).toBe(400);
    expect(http.body.data).toBeUndefined();
    expect(http.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(http.body.errors?.[0]?.message).toMatch(/introspection/i);

    const client = progressClient(cleanup, api.url, token);
    const errors = await new Promise<unknown>((resolve) =>
      client.subscribe({ query }, { next: () => undefined, error: resolve, complete: () => resolve('completed') }),
    );
    expect(errors).toEqual(expect.arrayContaining([expect.objectContaining({ message: expect.stringMatching(/introspection/i) })]));
    // Ordinary operations still work.
    expect((await postGraphQL(api, QUOTA, {}, token)).body.errors).toBeUndefined();
  });
});
