/**
 * Breaker states across processes in the admin `stats`: provider hosts (two, as two worker processes
 * would have) publish their breakers to the real Redis under this file's own prefix; `stats` and
 * `analytics`, executed through graphql-js on the real schema with this file's own database, list
 * them: an OPEN breaker opened by a real failing HTTP server, a CLOSED one of the other process;
 * stale entries of a dead process are dropped and removed; stopping a publisher removes its fields.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { execute, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { LyricsRequest } from '../../../src/audio/providers.js';
import { createContext } from '../../../src/modules/graphql-context.js';
import { buildAppSchema } from '../../../src/graphql/schema.js';
import { Role } from '../../../src/modules/user/user.entity.js';
import { loadConfig } from '../../../src/platform/config.js';
import { breakersKey, publishBreakerStates } from '../../../src/platform/providers/breaker-publisher.js';
import { createProviderHost } from '../../../src/platform/providers/create-provider-host.js';
import { createReadSideEnv, type ReadSideEnv } from '../../support/read-side-harness.js';
import { eventually } from '../../support/eventually.js';
import { Cleanup } from '../../support/service-harness.js';
import { json, sequence, startScriptedServer } from './scripted-server.js';

const cleanup = new Cleanup();
let env: ReadSideEnv;
let schema: GraphQLSchema;

beforeAll(async () => {
  env = await createReadSideEnv(cleanup);
  schema = await buildAppSchema();
}, 60_000);

afterAll(async () => {
  await cleanup.run();
});

const LYRICS: LyricsRequest = {
  prompt: 'a song about the sea',
  genre: 'pop',
  mood: 'happy',
  seed: 1,
  phrases: [{ syllables: 3, stresses: 'SwS', seconds: 1 }],
  key: null,
  tempo: null,
};
const logger = { info: () => undefined, warn: () => undefined } as never;

interface BreakerRow {
  name: string;
  state: string;
  process: string;
  consecutiveFailures: number;
  /** DateTime scalars come out of graphql-js `execute` as Date objects. */
  changedAt: Date | null;
  updatedAt: Date;
}

async function asAdmin<T>(source: string): Promise<T> {
  const contextValue = createContext(env.services, { requestId: randomUUID(), user: { id: `admin-${randomUUID()}`, role: Role.ADMIN } });
  const result = (await execute({ schema, document: parse(source), contextValue })) as ExecutionResult<T>;
  expect(result.errors).toBeUndefined();
  return result.data!;
}

const STATS = `{ stats { verdict circuitBreakers { name state process consecutiveFailures changedAt updatedAt } } }`;

test('stats lists the breakers every process published: an OPEN one opened by a failing provider, stale ones dropped, stopped ones gone', async () => {
  const server = await startScriptedServer(cleanup, sequence(json(503, { error: 'down' })));
  const config = loadConfig({
    LLM_API_URL: server.url,
    MELODY_VOCALS_RETRIES: '0',
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_HALF_OPEN_AFTER_MS: '600000',
  });
  const redis = env.services.redis;
  const key = breakersKey(env.prefix);

  // Process A: its provider fails twice and its breaker opens.
  const hostA = createProviderHost(config, { logger });
  cleanup.add(() => hostA.close());
  const publisherA = publishBreakerStates(hostA, redis, env.prefix, { processId: 'worker-a:101', intervalMs: 100 });
  cleanup.add(() => publisherA.stop());
  // Process B: the same provider, untouched: CLOSED.
  const hostB = createProviderHost(config, { logger });
  cleanup.add(() => hostB.close());
  const publisherB = publishBreakerStates(hostB, redis, env.prefix, { processId: 'worker-b:202', intervalMs: 100 });
  cleanup.add(() => publisherB.stop());

  for (let i = 0; i < 2; i += 1) await expect(hostA.lyrics!.writeLyrics(LYRICS)).rejects.toMatchObject({ code: 'AI_SERVICE_ERROR' });
  expect(hostA.breakers()[0].state).toBe('OPEN');
  await eventually(
    'worker-a published its OPEN breaker',
    async () => (await redis.hget(key, 'lyrics:llm@worker-a:101'))?.includes('"OPEN"') ?? false,
    { timeoutMs: 10_000, intervalMs: 25 },
  );

  // A dead process's entry, last refreshed 2 minutes ago.
  const old = new Date(Date.now() - 120_000).toISOString();
  await redis.hset(
    key,
    'lyrics:llm@dead-host:9',
    JSON.stringify({ name: 'lyrics:llm', state: 'OPEN', consecutiveFailures: 7, changedAt: old, process: 'dead-host:9', updatedAt: old }),
  );

  const { stats } = await asAdmin<{ stats: { verdict: string; circuitBreakers: BreakerRow[] } }>(STATS);
  expect(
    stats.circuitBreakers.map(({ name, state, process, consecutiveFailures }) => ({ name, state, process, consecutiveFailures })),
  ).toEqual([
    { name: 'lyrics:llm', state: 'OPEN', process: 'worker-a:101', consecutiveFailures: 2 },
    { name: 'lyrics:llm', state: 'CLOSED', process: 'worker-b:202', consecutiveFailures: 0 },
  ]);
  const [open, closed] = stats.circuitBreakers;
  expect(new Date(open.changedAt!).getTime()).toBeGreaterThan(Date.now() - 60_000);
  expect(closed.changedAt).toBeNull();
  expect(new Date(open.updatedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  // The stale entry was removed from Redis, not just hidden.
  expect(await redis.hexists(key, 'lyrics:llm@dead-host:9')).toBe(0);

  // The heartbeat refreshes updatedAt without a state change.
  const firstUpdate = new Date(open.updatedAt).getTime();
  await eventually(
    'the heartbeat refreshed updatedAt',
    async () => {
      const entry = JSON.parse((await redis.hget(key, 'lyrics:llm@worker-a:101')) ?? '{}') as { updatedAt?: string };
      return entry.updatedAt !== undefined && Date.parse(entry.updatedAt) > firstUpdate;
    },
    { timeoutMs: 10_000, intervalMs: 25 },
  );

  // analytics shows the same list.
  const { analytics } = await asAdmin<{ analytics: { circuitBreakers: { process: string; state: string }[] } }>(
    `{ analytics(window: LAST_HOUR) { circuitBreakers { process state } } }`,
  );
  expect(analytics.circuitBreakers).toEqual([
    { process: 'worker-a:101', state: 'OPEN' },
    { process: 'worker-b:202', state: 'CLOSED' },
  ]);

  // A process that stops (shutdown) removes its entries.
  await publisherA.stop();
  await publisherB.stop();
  expect(await redis.hlen(key)).toBe(0);
  const after = await asAdmin<{ stats: { circuitBreakers: BreakerRow[] } }>(STATS);
  expect(after.stats.circuitBreakers).toEqual([]);
});

test('without any publisher the list is empty and stats stays OK', async () => {
  const { stats } = await asAdmin<{ stats: { verdict: string; circuitBreakers: BreakerRow[] } }>(STATS);
  expect(stats.circuitBreakers).toEqual([]);
  expect(stats.verdict).toBe('OK');
});
