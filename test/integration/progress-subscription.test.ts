/**
 * conversionProgress end to end on real Redis pub/sub and PostgreSQL: through graphql-js `subscribe`
 * on the real schema, and over real graphql-ws connections to real API servers. A late joiner gets the
 * current state first, then live events in order, then the stream completes after the final event;
 * events published between the Redis subscribe and the row read are neither lost nor repeated; other
 * users' ids fail exactly as missing ones; two API replicas with separate Redis connections both
 * deliver what a worker publishes.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildAppSchema } from '../../src/graphql/schema.js';
import { createApiServer } from '../../src/graphql/server.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionGlobalId } from '../../src/modules/node/global-id.js';
import { openProgressStream } from '../../src/modules/progress/progress.service.js';
import { ConversionQueryRepository } from '../../src/modules/conversion/conversion-query.repository.js';
import { Topic, topicChannel, type ProgressPayload } from '../../src/platform/pubsub.js';
import { createRedis } from '../../src/platform/redis.js';
import { enqueueConversion, jobPolicy, storageKeys } from '../../src/modules/conversion/conversion-job.js';
import { startWorker } from '../../src/worker/worker.js';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MELODY_FIXTURE_DIR } from '../support/melody-fixtures.js';
import {
  createReadSideEnv,
  createReplicaServices,
  insertConversion,
  resultFor,
  run,
  startSubscription,
  type ReadSideEnv,
} from '../support/read-side-harness.js';
import { eventually } from '../support/eventually.js';
import { Cleanup, mintToken, REDIS_URL } from '../support/service-harness.js';

const cleanup = new Cleanup();
let env: ReadSideEnv;
let schema: GraphQLSchema;
/** A worker's view of Redis: its own publisher connection. */
let worker: RedisPubSub;

beforeAll(async () => {
  env = await createReadSideEnv(cleanup);
  schema = await buildAppSchema();
  worker = new RedisPubSub({ publisher: createRedis(REDIS_URL), subscriber: createRedis(REDIS_URL) });
  cleanup.add(() => worker.close());
});
afterAll(() => cleanup.run());

const em = () => env.services.orm.em.fork();
const newUser = () => `user-${randomUUID()}`;
const channelOf = (uuid: string) => topicChannel(env.config.redisPrefix, Topic.CONVERSION_PROGRESS, uuid);

const PROGRESS = `subscription Progress($id: ID!) {
  conversionProgress(id: $id) {
    conversionId status stage progress message at final
    error { code message retryable }
    conversion { id status progress result { vocalsUrl } }
  }
}`;

interface ProgressEventData {
  conversionId: string;
  status: string;
  stage: string | null;
  progress: number;
  message: string;
  at: unknown;
  final: boolean;
  error: { code: string; message: string; retryable: boolean } | null;
  conversion: { id: string; status: string; progress: number; result: { vocalsUrl: string } | null } | null;
}
type ProgressResult = ExecutionResult<{ conversionProgress: ProgressEventData }>;

/** A progress event as the worker publishes it. */
function payload(row: Conversion, userId: string, change: Partial<ProgressPayload>): ProgressPayload {
  return {
    conversionId: row.id,
    userId,
    status: 'PROCESSING',
    stage: 'PITCH_EXTRACTION',
    progress: 0,
    message: 'working',
    at: new Date().toISOString(),
    final: false,
    error: null,
    ...change,
  };
}

/** Next result of a graphql-js subscription iterator, failing after `ms` instead of hanging. */
async function nextWithin<T>(iterator: AsyncIterator<T>, ms = 5000): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([iterator.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function subscribeOk(userId: string, id: string): Promise<AsyncGenerator<ProgressResult>> {
  const result = await startSubscription<{ conversionProgress: ProgressEventData }>(schema, env, userId, PROGRESS, { id });
  if (!(Symbol.asyncIterator in result)) throw new Error(`subscription failed: ${JSON.stringify(result.errors)}`);
  cleanup.add(() => result.return(undefined));
  return result;
}

async function eventOf(iterator: AsyncIterator<ProgressResult>): Promise<ProgressEventData> {
  const step = await nextWithin(iterator);
  expect(step.done).toBe(false);
  expect(step.value.errors).toBeUndefined();
  return step.value.data!.conversionProgress;
}

/** Channels with at least one subscriber right now, as Redis sees them. */
async function subscriberCount(channel: string): Promise<number> {
  const redis = createRedis(REDIS_URL);
  try {
    const reply = (await redis.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
    return Number(reply[1]);
  } finally {
    redis.disconnect();
  }
}

describe('conversionProgress through the schema', () => {
  it('gives a late joiner the current state first, then the published events in order, then completes after the final one', async () => {
    const user = newUser();
    const row = await insertConversion(em(), {
      userId: user,
      status: ConversionStatus.PROCESSING,
      progress: 30,
      stage: 'PITCH_EXTRACTION',
    });
    const iterator = await subscribeOk(user, conversionGlobalId(row.id));

    const first = await eventOf(iterator);
    expect(first).toMatchObject({
      conversionId: conversionGlobalId(row.id),
      status: 'PROCESSING',
      stage: 'PITCH_EXTRACTION',
      progress: 30,
      final: false,
      error: null,
    });
    expect(first.conversion).toMatchObject({ id: conversionGlobalId(row.id), status: 'PROCESSING', progress: 30 });

    // A forged event for the same conversion from someone else is never delivered.
    await worker.publish(channelOf(row.id), payload(row, 'someone-else', { progress: 99, message: 'forged' }));
    const steps: Partial<ProgressPayload>[] = [
      { stage: 'LYRICS', progress: 45, message: 'Writing lyrics' },
      { stage: 'SYNTHESIS', progress: 60, message: 'Singing' },
      { stage: 'SYNTHESIS', progress: 75, message: 'Singing' },
      { stage: 'QUALITY_CHECK', progress: 90, message: 'Checking' },
    ];
    for (const step of steps) await worker.publish(channelOf(row.id), payload(row, user, step));
    // The worker stores the result, then publishes the final event.
    await em().nativeUpdate(
      Conversion,
      { id: row.id },
      { status: ConversionStatus.COMPLETED, progress: 100, stage: 'FINALIZATION', result: resultFor(row.id), updatedAt: new Date() },
    );
    await worker.publish(
      channelOf(row.id),
      payload(row, user, { status: 'COMPLETED', stage: 'FINALIZATION', progress: 100, message: 'Done', final: true }),
    );

    for (const step of steps) expect(await eventOf(iterator)).toMatchObject({ ...step, status: 'PROCESSING', final: false });
    const last = await eventOf(iterator);
    expect(last).toMatchObject({ status: 'COMPLETED', stage: 'FINALIZATION', progress: 100, final: true });
    // `conversion` is read when the event is delivered: it shows the stored result.
    expect(last.conversion).toMatchObject({ status: 'COMPLETED', progress: 100 });
    expect(last.conversion!.result!.vocalsUrl).toMatch(/vocals\.wav\?expires=/);
    expect((await nextWithin(iterator)).done).toBe(true);
    expect(await subscriberCount(channelOf(row.id))).toBe(0);
  });

  it("never shows progress going back within a run, but starts again from a retry's figure", async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PROCESSING, progress: 20 });
    const iterator = await subscribeOk(user, conversionGlobalId(row.id));
    await eventOf(iterator);
    const published: Partial<ProgressPayload>[] = [
      { progress: 40 },
      { progress: 35 }, // a lagging figure (e.g. from the throttled row) must not show as a step back
      { status: 'PENDING', stage: null, progress: 0, message: 'Retrying' },
      { progress: 10 },
      { status: 'FAILED', progress: 5, final: true, error: { code: 'TIMEOUT_ERROR', message: 'Too slow', retryable: false } },
    ];
    for (const event of published) await worker.publish(channelOf(row.id), payload(row, user, event));
    const shown: [string, number][] = [];
    for (let i = 0; i < published.length; i++) {
      const event = await eventOf(iterator);
      shown.push([event.status, event.progress]);
    }
    expect(shown).toEqual([
      ['PROCESSING', 40],
      ['PROCESSING', 40],
      ['PENDING', 0],
      ['PROCESSING', 10],
      ['FAILED', 10],
    ]);
    expect((await nextWithin(iterator)).done).toBe(true);
  });

  it.each([
    [ConversionStatus.COMPLETED, null],
    [ConversionStatus.FAILED, 'AUDIO_PROCESSING_ERROR'],
    [ConversionStatus.CANCELLED, null],
  ])("sends a %s conversion's final state at once and completes", async (status, errorCode) => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status });
    const iterator = await subscribeOk(user, conversionGlobalId(row.id));
    const only = await eventOf(iterator);
    expect(only).toMatchObject({ status, final: true });
    expect(only.error?.code ?? null).toBe(errorCode);
    expect((await nextWithin(iterator)).done).toBe(true);
  });

  it("fails with NOT_FOUND for another user's conversion exactly as for a missing one, and leaves nothing subscribed", async () => {
    const owner = newUser();
    const row = await insertConversion(em(), { userId: owner, status: ConversionStatus.PROCESSING });
    const intruder = newUser();
    const theirs = (await startSubscription(schema, env, intruder, PROGRESS, { id: conversionGlobalId(row.id) })) as ExecutionResult;
    const missing = (await startSubscription(schema, env, intruder, PROGRESS, { id: conversionGlobalId(randomUUID()) })) as ExecutionResult;
    expect(Symbol.asyncIterator in theirs).toBe(false);
    expect(theirs.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([['No conversion with this id.', 'NOT_FOUND']]);
    expect(missing.errors?.map((e) => [e.message, e.extensions?.code])).toEqual(theirs.errors?.map((e) => [e.message, e.extensions?.code]));
    expect(await subscriberCount(channelOf(row.id))).toBe(0);
  });

  it('needs a signed-in user', async () => {
    const result = (await startSubscription(schema, env, null, PROGRESS, { id: conversionGlobalId(randomUUID()) })) as ExecutionResult;
    expect(result.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('unsubscribes from Redis as soon as the client stops listening, even while waiting for an event', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PENDING });
    const iterator = await subscribeOk(user, conversionGlobalId(row.id));
    await eventOf(iterator);
    const waiting = iterator.next();
    expect(await subscriberCount(channelOf(row.id))).toBe(1);
    await iterator.return(undefined);
    expect((await waiting).done).toBe(true);
    expect(await subscriberCount(channelOf(row.id))).toBe(0);
  });

  it('ends with the final CANCELLED event when the conversion is cancelled while someone listens', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PROCESSING, progress: 55, stage: 'SYNTHESIS' });
    const iterator = await subscribeOk(user, conversionGlobalId(row.id));
    expect(await eventOf(iterator)).toMatchObject({ status: 'PROCESSING', progress: 55 });
    const cancel = await run(schema, env, user, 'mutation($id: ID!) { cancelConversion(id: $id) { userErrors { code } } }', {
      id: conversionGlobalId(row.id),
    });
    expect(cancel.data).toEqual({ cancelConversion: { userErrors: [] } });
    const last = await eventOf(iterator);
    expect(last).toMatchObject({ status: 'CANCELLED', final: true, progress: 55, stage: 'SYNTHESIS', error: { code: 'ABORTED' } });
    expect(last.conversion).toMatchObject({ status: 'CANCELLED' });
    expect((await nextWithin(iterator)).done).toBe(true);
  });
});

describe('joining while events are in flight (subscribe first, then read the row)', () => {
  /**
   * Opens the stream with a row reader that first lets `publishEarly` publish events and waits until
   * this process's Redis connection has delivered them: exactly the window between the SUBSCRIBE and
   * the row read in which a naive "read, then subscribe" would lose events.
   */
  async function openWithEarlyEvents(user: string, row: Conversion, early: ProgressPayload[]) {
    const pubsub = env.services.pubsub;
    const sentinel = { conversionId: row.id, userId: 'sentinel', at: new Date().toISOString(), status: 'PROCESSING' };
    const stream = await openProgressStream(
      {
        pubsub,
        redisPrefix: env.config.redisPrefix,
        loadOwned: async (userId, uuid) => {
          let seen!: () => void;
          const arrived = new Promise<void>((resolve) => (seen = resolve));
          // Same connection, same channel: Redis delivers in publish order, so the sentinel comes last.
          const probe = await pubsub.subscribe(channelOf(row.id), (message: { userId?: string }) => {
            if (message.userId === 'sentinel') seen();
          });
          for (const event of early) await worker.publish(channelOf(row.id), event);
          await worker.publish(channelOf(row.id), sentinel);
          await arrived;
          pubsub.unsubscribe(probe);
          return new ConversionQueryRepository(em()).findOwned(userId, uuid);
        },
      },
      user,
      conversionGlobalId(row.id),
    );
    cleanup.add(() => stream.return?.());
    return stream;
  }

  it('drops early events the row already reflects and keeps newer ones, in order, before live events', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PROCESSING, progress: 50, stage: 'SYNTHESIS' });
    const written = row.updatedAt.getTime();
    const stream = await openWithEarlyEvents(user, row, [
      payload(row, user, { stage: 'LYRICS', progress: 40, at: new Date(written - 1000).toISOString() }),
      payload(row, user, { stage: 'SYNTHESIS', progress: 50, at: new Date(written).toISOString() }),
      payload(row, user, { stage: 'SYNTHESIS', progress: 60, at: new Date(written + 1000).toISOString() }),
    ]);
    await worker.publish(
      channelOf(row.id),
      payload(row, user, { stage: 'QUALITY_CHECK', progress: 90, at: new Date(written + 2000).toISOString() }),
    );
    await worker.publish(
      channelOf(row.id),
      payload(row, user, { status: 'COMPLETED', progress: 100, final: true, at: new Date(written + 3000).toISOString() }),
    );

    const seen: [string, number][] = [];
    for await (const event of stream) seen.push([event.status, event.progress]);
    expect(seen).toEqual([
      ['PROCESSING', 50],
      ['PROCESSING', 60],
      ['PROCESSING', 90],
      ['COMPLETED', 100],
    ]);
  });

  it('completes on a final event published before the row was read, even when the row does not show it yet', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PROCESSING, progress: 80, stage: 'QUALITY_CHECK' });
    const stream = await openWithEarlyEvents(user, row, [
      payload(row, user, {
        status: 'FAILED',
        progress: 80,
        final: true,
        error: { code: 'AUDIO_PROCESSING_ERROR', message: 'boom', retryable: false },
        at: new Date(row.updatedAt.getTime() - 5).toISOString(),
      }),
    ]);
    const seen: [string, boolean][] = [];
    for await (const event of stream) seen.push([event.status, event.final]);
    expect(seen).toEqual([
      ['PROCESSING', false],
      ['FAILED', true],
    ]);
  });
});

describe('conversionProgress over graphql-ws on real API servers', () => {
  interface Replica {
    url: string;
    ws: string;
  }

  async function startReplica(): Promise<Replica> {
    const services = await createReplicaServices(cleanup, env);
    const server = await createApiServer(services, { schema });
    const url = await server.start(0, '127.0.0.1');
    cleanup.add(() => server.stop());
    return { url: `${url}/graphql`, ws: `${url.replace(/^http/, 'ws')}/graphql` };
  }

  function wsClient(replica: Replica, userId: string): Client {
    const client = createClient({
      url: replica.ws,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${mintToken(env.config.jwtSecret, userId)}` },
      retryAttempts: 0,
      lazy: true,
    });
    cleanup.add(() => client.dispose());
    return client;
  }

  async function post(replica: Replica, userId: string, query: string, variables: Record<string, unknown>) {
    const response = await fetch(replica.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${mintToken(env.config.jwtSecret, userId)}` },
      body: JSON.stringify({ query, variables }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  }

  let serverA: Replica;
  let serverB: Replica;

  beforeAll(async () => {
    serverA = await startReplica();
    serverB = await startReplica();
  });

  it('delivers to a subscriber on server B what a worker publishes and what a cancel on server A ends (Redis fan-out)', async () => {
    const user = newUser();
    const row = await insertConversion(em(), {
      userId: user,
      status: ConversionStatus.PROCESSING,
      progress: 20,
      stage: 'PITCH_EXTRACTION',
    });
    const id = conversionGlobalId(row.id);
    const events = wsClient(serverB, user).iterate<{ conversionProgress: ProgressEventData }>({ query: PROGRESS, variables: { id } });

    const first = await nextWithin(events);
    expect(first.value.data!.conversionProgress).toMatchObject({ status: 'PROCESSING', progress: 20, conversion: { id } });

    await worker.publish(channelOf(row.id), payload(row, user, { stage: 'LYRICS', progress: 35, message: 'Writing lyrics' }));
    expect((await nextWithin(events)).value.data!.conversionProgress).toMatchObject({
      stage: 'LYRICS',
      progress: 35,
      message: 'Writing lyrics',
    });

    const cancelled = await post(
      serverA,
      user,
      'mutation($id: ID!) { cancelConversion(id: $id) { conversion { status } userErrors { code } } }',
      { id },
    );
    // extensions (the operation's cost) aside.
    expect({ data: cancelled.data, errors: cancelled.errors }).toEqual({
      data: { cancelConversion: { conversion: { status: 'CANCELLED' }, userErrors: [] } },
      errors: undefined,
    });

    const last = (await nextWithin(events)).value.data!.conversionProgress;
    expect(last).toMatchObject({ status: 'CANCELLED', final: true, conversion: { status: 'CANCELLED' } });
    expect(typeof last.at).toBe('string');
    expect((await nextWithin(events)).done).toBe(true);
  });

  it('subscribers on both servers receive every event', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PENDING });
    const id = conversionGlobalId(row.id);
    const onA = wsClient(serverA, user).iterate<{ conversionProgress: ProgressEventData }>({ query: PROGRESS, variables: { id } });
    const onB = wsClient(serverB, user).iterate<{ conversionProgress: ProgressEventData }>({ query: PROGRESS, variables: { id } });
    // Both have their current state, hence both are subscribed in Redis.
    for (const events of [onA, onB]) expect((await nextWithin(events)).value.data!.conversionProgress.status).toBe('PENDING');

    const steps = [10, 40, 70].map((progress) => payload(row, user, { progress }));
    for (const step of steps) await worker.publish(channelOf(row.id), step);
    await worker.publish(
      channelOf(row.id),
      payload(row, user, {
        status: 'FAILED',
        final: true,
        progress: 70,
        error: { code: 'TIMEOUT_ERROR', message: 'Too slow', retryable: false },
      }),
    );

    for (const events of [onA, onB]) {
      const received: [string, number][] = [];
      for (;;) {
        const step = await nextWithin(events);
        if (step.done) break;
        const event = step.value.data!.conversionProgress;
        received.push([event.status, event.progress]);
      }
      expect(received).toEqual([
        ['PROCESSING', 10],
        ['PROCESSING', 40],
        ['PROCESSING', 70],
        ['FAILED', 70],
      ]);
    }
  });

  it("answers another user's id with the same NOT_FOUND error as a missing id over the WebSocket", async () => {
    const owner = newUser();
    const row = await insertConversion(em(), { userId: owner, status: ConversionStatus.PROCESSING });
    const intruder = wsClient(serverB, newUser());
    const errorsFor = async (id: string) => {
      try {
        for await (const result of intruder.iterate({ query: PROGRESS, variables: { id } })) return result.errors;
        return 'completed without an answer';
      } catch (errors) {
        return errors;
      }
    };
    const theirs = await errorsFor(conversionGlobalId(row.id));
    const missing = await errorsFor(conversionGlobalId(randomUUID()));
    expect(theirs).toEqual(missing);
    expect(JSON.stringify(theirs)).toContain('NOT_FOUND');
  });
});

describe('with a real worker running the pipeline', () => {
  it('cancelConversion stops a running conversion: the subscriber sees its progress, then one final CANCELLED; no file is left and the row stays CANCELLED', async () => {
    const worker = await startWorker(env.services, { stopTimeoutMs: 10_000 });
    cleanup.add(() => worker.stop());
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PENDING });
    await env.services.storage.write(storageKeys.input(row.id), new Uint8Array(await readFile(join(MELODY_FIXTURE_DIR, 'voice-la.flac'))));
    const iterator = await subscribeOk(user, conversionGlobalId(row.id));
    expect(await eventOf(iterator)).toMatchObject({ status: 'PENDING', final: false });

    await enqueueConversion(env.services.queue, { conversionId: row.id }, jobPolicy(env.config));
    // Every event as it comes, until the subscription ends (after the final event). Waiting is on
    // conditions below, not on a time between two events: a cold pipeline thread on a busy machine
    // may take many seconds before its first one.
    const seen: ProgressEventData[] = [];
    const errors: unknown[] = [];
    let ended: { error?: unknown } | null = null;
    void (async () => {
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
        if (step.value.errors) errors.push(step.value.errors);
        seen.push(step.value.data!.conversionProgress);
      }
    })().then(
      () => (ended = {}),
      (error: unknown) => (ended = { error }),
    );
    // Follow the run until the pipeline is past validation, then cancel through the API.
    const atPitch = () => seen.findIndex((event) => event.status === 'PROCESSING' && event.stage === 'PITCH_EXTRACTION');
    await eventually('the run reaches PITCH_EXTRACTION', atPitch, { until: (at) => at >= 0, timeoutMs: 30_000, intervalMs: 20 });
    expect(seen.slice(0, atPitch()).filter((event) => event.final)).toEqual([]);
    const cancel = await run(
      schema,
      env,
      user,
      'mutation($id: ID!) { cancelConversion(id: $id) { conversion { status } userErrors { code } } }',
      { id: conversionGlobalId(row.id) },
    );
    expect(cancel.data).toEqual({ cancelConversion: { conversion: { status: 'CANCELLED' }, userErrors: [] } });

    const end = await eventually('the subscription ends after the final event', () => ended, { timeoutMs: 10_000, intervalMs: 20 });
    expect(end!.error).toBeUndefined();
    expect(errors).toEqual([]);
    const finals = seen.filter((event) => event.final);
    expect(finals).toHaveLength(1);
    expect(seen.at(-1)).toMatchObject({ status: 'CANCELLED', final: true, conversion: { status: 'CANCELLED' } });
    // Progress never went back while it ran.
    const percents = seen.map((event) => event.progress);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));

    // The worker stops the run (through its AbortSignal) and leaves the row and the storage as the cancel did.
    await eventually('the worker has stopped the run', () => worker.processor.running(), {
      until: (running) => running === 0,
      timeoutMs: 5000,
      intervalMs: 20,
    });
    const stored = await em().findOneOrFail(Conversion, row.id);
    expect(stored).toMatchObject({ status: ConversionStatus.CANCELLED, result: null });
    const left = await readdir(join(env.config.storageDir, ...storageKeys.dir(row.id).split('/'))).catch(() => []);
    expect(left).toEqual([]);
  });
});
