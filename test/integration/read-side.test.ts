/**
 * The read side through the real schema (graphql-js `execute` with the context the server builds) on a
 * real PostgreSQL database, Redis and Bee-Queue of this file's own: history pages stay stable while
 * conversions are added, filters and limits hold, `node` round-trips global ids, another user's ids
 * answer exactly as missing ones everywhere, cancel dequeues and deletes, feedback rules, quota, stats.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { execute, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createContext } from '../../src/modules/graphql-context.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { buildAppSchema } from '../../src/graphql/schema.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { Feedback } from '../../src/modules/feedback/feedback.entity.js';
import { FeedbackRepository } from '../../src/modules/feedback/feedback.repository.js';
import { conversionGlobalId, conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { QuotaService } from '../../src/modules/quota/quota.service.js';
import { StatsService } from '../../src/modules/stats/stats.service.js';
import { Topic, topicChannel, type CancelPayload, type ProgressPayload } from '../../src/platform/pubsub.js';
import { createRedis } from '../../src/platform/redis.js';
import { enqueueConversion, storageKeys } from '../../src/modules/conversion/conversion-job.js';
import { ConversionQueryRepository } from '../../src/modules/conversion/conversion-query.repository.js';
import { presentConversion } from '../../src/modules/conversion/conversion.types.js';
import { createReadSideEnv, insertConversion, run, type ReadSideEnv } from '../support/read-side-harness.js';
import { eventually } from '../support/eventually.js';
import { Cleanup, REDIS_URL } from '../support/service-harness.js';

const cleanup = new Cleanup();
let env: ReadSideEnv;
let schema: GraphQLSchema;

beforeAll(async () => {
  env = await createReadSideEnv(cleanup);
  schema = await buildAppSchema();
});
afterAll(() => cleanup.run());

/** A user id of this test alone, so tests never see each other's rows. */
function newUser(): string {
  return `user-${randomUUID()}`;
}

const em = () => env.services.orm.em.fork();

const HISTORY = `query History($first: Int, $after: String, $status: ConversionStatus) {
  history(first: $first, after: $after, status: $status) {
    totalCount
    edges { cursor node { id status createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface HistoryData {
  history: {
    totalCount: number;
    edges: { cursor: string; node: { id: string; status: string; createdAt: string } }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  };
}

async function historyPage(userId: string, variables: Record<string, unknown>): Promise<HistoryData['history']> {
  const result = await run<HistoryData>(schema, env, userId, HISTORY, variables);
  expect(result.errors).toBeUndefined();
  return result.data!.history;
}

/** Walks every page of `first` rows; `between` runs after each page (to insert rows while paging). */
async function walkHistory(
  userId: string,
  first: number,
  variables: Record<string, unknown> = {},
  between?: (page: number) => Promise<void>,
): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const result: HistoryData['history'] = await historyPage(userId, { ...variables, first, after });
    ids.push(...result.edges.map((edge) => edge.node.id));
    if (!result.pageInfo.hasNextPage) return ids;
    after = result.pageInfo.endCursor;
    await between?.(page);
  }
  throw new Error('history did not end');
}

describe('history', () => {
  it('pages newest first without duplicates or skips while new conversions are inserted between page fetches', async () => {
    const user = newUser();
    const base = Date.UTC(2026, 10, 1, 12, 0, 0);
    const original = [];
    for (let i = 0; i < 11; i++) original.push(await insertConversion(em(), { userId: user, createdAt: new Date(base + i * 1000) }));
    // Three rows share one created_at: the id breaks the tie, in the index's order.
    for (let i = 0; i < 3; i++) original.push(await insertConversion(em(), { userId: user, createdAt: new Date(base + 500) }));
    const expected = [...original]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .map((row) => conversionGlobalId(row.id));

    const inserted: string[] = [];
    const seen = await walkHistory(user, 4, {}, async () => {
      // Newer rows arrive while the client pages (now > every original row's time).
      const row = await insertConversion(em(), { userId: user });
      inserted.push(conversionGlobalId(row.id));
    });

    expect(inserted.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expected);
    // A new walk starts with the rows that arrived meanwhile, newest first.
    const fresh = await historyPage(user, { first: 3 });
    expect(fresh.edges.map((edge) => edge.node.id)).toEqual(inserted.slice(-3).reverse());
    expect(fresh.totalCount).toBe(original.length + inserted.length);
  });

  it('reports page info: hasNextPage, hasPreviousPage after a cursor, start and end cursors', async () => {
    const user = newUser();
    for (let i = 0; i < 5; i++) await insertConversion(em(), { userId: user, createdAt: new Date(Date.UTC(2026, 10, 2, 0, 0, i)) });
    const first = await historyPage(user, { first: 2 });
    expect(first.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.edges[0].cursor,
      endCursor: first.edges[1].cursor,
    });
    const second = await historyPage(user, { first: 2, after: first.pageInfo.endCursor });
    expect(second.pageInfo.hasPreviousPage).toBe(true);
    const last = await historyPage(user, { first: 2, after: second.pageInfo.endCursor });
    expect(last.edges).toHaveLength(1);
    expect(last.pageInfo.hasNextPage).toBe(false);
    const empty = await historyPage(user, { first: 0 });
    expect(empty.edges).toEqual([]);
    expect(empty.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(empty.totalCount).toBe(5);
  });

  it('filters by status across pages and counts only that status', async () => {
    const user = newUser();
    const statuses = [
      ConversionStatus.COMPLETED,
      ConversionStatus.FAILED,
      ConversionStatus.COMPLETED,
      ConversionStatus.PENDING,
      ConversionStatus.COMPLETED,
      ConversionStatus.COMPLETED,
      ConversionStatus.CANCELLED,
    ];
    const rows = [];
    for (let i = 0; i < statuses.length; i++)
      rows.push(await insertConversion(em(), { userId: user, status: statuses[i], createdAt: new Date(Date.UTC(2026, 10, 3, 0, 0, i)) }));
    const completed = rows
      .filter((row) => row.status === ConversionStatus.COMPLETED)
      .reverse()
      .map((row) => conversionGlobalId(row.id));
    expect(await walkHistory(user, 3, { status: 'COMPLETED' })).toEqual(completed);
    expect((await historyPage(user, { first: 1, status: 'COMPLETED' })).totalCount).toBe(4);
    expect((await historyPage(user, { status: 'FAILED' })).edges.map((edge) => edge.node.status)).toEqual(['FAILED']);
  });

  it('serves up to 100 a page and rejects first above 100 or below 0 with BAD_USER_INPUT', async () => {
    const user = newUser();
    await insertConversion(em(), { userId: user });
    expect((await historyPage(user, { first: 100 })).edges).toHaveLength(1);
    expect((await historyPage(user, { first: null })).edges).toHaveLength(1);
    for (const first of [101, 1000, -1]) {
      const result = await run(schema, env, user, HISTORY, { first });
      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0].message).toMatch(/from 0 to 100/);
    }
  });

  it.each([
    '2026-02-30T00:00:00.000000Z',
    '2025-02-29T12:00:00.000000Z',
    '2026-13-01T00:00:00.000000Z',
    '2026-00-10T00:00:00.000000Z',
    '2026-04-31T00:00:00.000000Z',
    '0000-01-01T00:00:00.000000Z',
    '2026-01-01T24:00:00.000000Z',
    '2026-01-01T23:60:00.000000Z',
    '2026-01-01T23:59:60.000000Z',
  ])('rejects a well-formed cursor with the impossible instant %s with BAD_USER_INPUT, not a database error', async (createdAt) => {
    const after = Buffer.from(`v1|${createdAt}|${randomUUID()}`, 'utf8').toString('base64url');
    const result = await run(schema, env, newUser(), HISTORY, { after });
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('accepts a cursor on a leap day', async () => {
    const after = Buffer.from(`v1|2024-02-29T23:59:59.999999Z|${randomUUID()}`, 'utf8').toString('base64url');
    const result = await run(schema, env, newUser(), HISTORY, { after });
    expect(result.errors).toBeUndefined();
  });

  it('rejects a cursor it did not issue with BAD_USER_INPUT', async () => {
    const user = newUser();
    for (const after of ['nonsense', Buffer.from('v1|yesterday|x').toString('base64url'), conversionGlobalId(randomUUID())]) {
      const result = await run(schema, env, user, HISTORY, { after });
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('walks the (user_id, created_at desc, id desc) index for a page, with no sort step', async () => {
    // With a handful of rows the planner prefers a sequential scan; forbid it (in this transaction only)
    // to see that the keyset query can be answered from the index in order.
    const plan = await em().transactional(async (tx) => {
      await tx.execute('set local enable_seqscan = off');
      const rows = await tx.execute<{ 'QUERY PLAN': string }[]>(
        `explain select * from "conversions" where "user_id" = 'x' and ("created_at", "id") < ('2026-01-01T00:00:00Z'::timestamptz, '00000000-0000-0000-0000-000000000000'::uuid) order by "created_at" desc, "id" desc limit 21`,
      );
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('conversions_user_created_idx');
    expect(plan).not.toMatch(/Sort/);
  });

  it('needs a signed-in user', async () => {
    const result = await run(schema, env, null, HISTORY);
    expect(result.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

const CONVERSION = `query One($id: ID!) { conversion(id: $id) { id status prompt input { fileName } result { vocalsUrl } feedback { rating } } }`;
const NODE = `query Node($id: ID!) { node(id: $id) { __typename id ... on Conversion { status genre } } }`;
const CANCEL = `mutation Cancel($id: ID!) { cancelConversion(id: $id) { conversion { id status error { code } } userErrors { code field message } } }`;
const FEEDBACK = `mutation Rate($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { feedback { id rating comment favorite } userErrors { code field message } }
}`;

describe('conversion and node', () => {
  it('round-trips a global id through node() and conversion(), and accepts the raw UUID too', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.COMPLETED });
    const globalId = conversionGlobalId(row.id);
    expect(globalId).not.toContain(row.id);

    const viaNode = await run<{ node: { __typename: string; id: string; status: string; genre: string } }>(schema, env, user, NODE, {
      id: globalId,
    });
    expect(viaNode.errors).toBeUndefined();
    expect(viaNode.data!.node).toEqual({ __typename: 'Conversion', id: globalId, status: 'COMPLETED', genre: 'pop' });

    const viaConversion = await run<{ conversion: { id: string; result: { vocalsUrl: string } } }>(schema, env, user, CONVERSION, {
      id: viaNode.data!.node.id,
    });
    expect(viaConversion.data!.conversion.id).toBe(globalId);
    expect(viaConversion.data!.conversion.result.vocalsUrl).toMatch(/\/files\/conversions\/.+\/vocals\.wav\?expires=\d+&sig=[0-9a-f]{64}$/);

    const viaUuid = await run<{ conversion: { id: string } }>(schema, env, user, CONVERSION, { id: row.id });
    expect(viaUuid.data!.conversion.id).toBe(globalId);
    // node() wants global ids only.
    expect((await run(schema, env, user, NODE, { id: row.id })).data).toEqual({ node: null });
  });

  it('presents a row read without the ORM (conversion, history) exactly as the ORM entity of the same row', async () => {
    const user = newUser();
    const completed = await insertConversion(em(), { userId: user, status: ConversionStatus.COMPLETED });
    const failed = await insertConversion(em(), { userId: user, status: ConversionStatus.FAILED });
    await em().nativeUpdate(
      Conversion,
      { id: completed.id },
      { seed: 4_294_967_297, processingMs: 1234, startedAt: new Date(), lyrics: 'la la' },
    );
    const now = Date.now();
    for (const id of [completed.id, failed.id]) {
      const entity = await new ConversionQueryRepository(em()).findOwned(user, id);
      const record = await new ConversionQueryRepository(em()).findOwnedRecord(user, id);
      expect(entity).not.toBeNull();
      expect(presentConversion(record!, env.config, now)).toEqual(presentConversion(entity!, env.config, now));
      const page = await new ConversionQueryRepository(em()).page({ userId: user, limit: 10, after: null, status: null });
      expect(presentConversion(page.find((row) => row.conversion.id === id)!.conversion, env.config, now)).toEqual(
        presentConversion(entity!, env.config, now),
      );
    }
    expect(await new ConversionQueryRepository(em()).findOwnedRecord(newUser(), completed.id)).toBeNull();
  });

  it('answers null for malformed ids rather than failing', async () => {
    const user = newUser();
    for (const id of [
      '',
      'x',
      '%%%',
      Buffer.from('User:abc').toString('base64'),
      Buffer.from('Conversion:not-a-uuid').toString('base64'),
    ]) {
      expect((await run(schema, env, user, CONVERSION, { id })).data).toEqual({ conversion: null });
      expect((await run(schema, env, user, NODE, { id })).data).toEqual({ node: null });
    }
  });
});

describe("isolation: another user's id answers exactly as a missing one", () => {
  let owner: string;
  let intruder: string;
  let completedId: string;
  let pendingId: string;
  const missingId = conversionGlobalId(randomUUID());

  beforeAll(async () => {
    owner = newUser();
    intruder = newUser();
    completedId = conversionGlobalId((await insertConversion(em(), { userId: owner, status: ConversionStatus.COMPLETED })).id);
    pendingId = conversionGlobalId((await insertConversion(em(), { userId: owner, status: ConversionStatus.PENDING })).id);
    await insertConversion(em(), { userId: intruder });
  });

  it('conversion() and node() give null for both', async () => {
    for (const query of [CONVERSION, NODE]) {
      const theirs = await run(schema, env, intruder, query, { id: completedId });
      const missing = await run(schema, env, intruder, query, { id: missingId });
      expect(theirs).toEqual(missing);
      expect(Object.values(theirs.data!)).toEqual([null]);
    }
  });

  it("history shows only the caller's own conversions", async () => {
    const page = await historyPage(intruder, { first: 100 });
    expect(page.totalCount).toBe(1);
    expect(page.edges.map((edge) => edge.node.id)).not.toContain(completedId);
  });

  it("cancelConversion gives the same NOT_FOUND and leaves the owner's conversion alone", async () => {
    const theirs = await run(schema, env, intruder, CANCEL, { id: pendingId });
    const missing = await run(schema, env, intruder, CANCEL, { id: missingId });
    expect(theirs).toEqual(missing);
    expect(theirs.data).toEqual({
      cancelConversion: { conversion: null, userErrors: [{ code: 'NOT_FOUND', field: 'id', message: 'No conversion with this id.' }] },
    });
    const still = await run<{ conversion: { status: string } }>(schema, env, owner, CONVERSION, { id: pendingId });
    expect(still.data!.conversion.status).toBe('PENDING');
  });

  it('submitFeedback gives the same NOT_FOUND and stores nothing', async () => {
    const theirs = await run(schema, env, intruder, FEEDBACK, { input: { conversionId: completedId, rating: 1 } });
    const missing = await run(schema, env, intruder, FEEDBACK, { input: { conversionId: missingId, rating: 1 } });
    expect(theirs).toEqual(missing);
    expect(theirs.data).toEqual({
      submitFeedback: {
        feedback: null,
        userErrors: [{ code: 'NOT_FOUND', field: 'conversionId', message: 'No conversion with this id.' }],
      },
    });
    expect(await em().count(Feedback, { conversion: conversionUuidFromId(completedId)! })).toBe(0);
  });
});

describe('cancelConversion', () => {
  /** Records every message on a channel through a separate Redis connection (a worker's view). */
  async function listen<T>(channel: string): Promise<T[]> {
    const pubsub = new RedisPubSub({ publisher: createRedis(REDIS_URL), subscriber: createRedis(REDIS_URL) });
    cleanup.add(() => pubsub.close());
    const messages: T[] = [];
    await pubsub.subscribe(channel, (message: T) => messages.push(message));
    return messages;
  }

  it("removes a PENDING conversion's job and files, marks it CANCELLED and publishes the cancel and a final event", async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PENDING });
    const { storage, queue, config } = env.services;
    await storage.write(storageKeys.input(row.id), new Uint8Array([1, 2, 3]));
    await enqueueConversion(queue, { conversionId: row.id }, { retries: 0, backoffMs: 1000 });
    expect(await queue.getJob(row.id)).not.toBeNull();
    const progress = await listen<ProgressPayload>(topicChannel(config.redisPrefix, Topic.CONVERSION_PROGRESS, row.id));
    const cancels = await listen<CancelPayload>(topicChannel(config.redisPrefix, Topic.CONVERSION_CANCEL, row.id));

    const result = await run(schema, env, user, CANCEL, { id: conversionGlobalId(row.id) });

    expect(result.data).toEqual({
      cancelConversion: { conversion: { id: conversionGlobalId(row.id), status: 'CANCELLED', error: { code: 'ABORTED' } }, userErrors: [] },
    });
    expect(await queue.getJob(row.id)).toBeNull();
    expect((await queue.checkHealth()).waiting).toBe(0);
    expect(await storage.stat(storageKeys.input(row.id))).toBeNull();
    await eventually('one final event and one cancel are published', () => ({ progress: progress.length, cancels: cancels.length }), {
      until: (n) => n.progress === 1 && n.cancels === 1,
      timeoutMs: 3000,
      intervalMs: 20,
    });
    expect(progress[0]).toMatchObject({ conversionId: row.id, userId: user, status: 'CANCELLED', final: true });
    expect(cancels[0].conversionId).toBe(row.id);
    const stored = await em().findOneOrFail(Conversion, row.id);
    expect(stored).toMatchObject({ status: 'CANCELLED' });
  });

  it('cancels a PROCESSING conversion: CANCELLED in the row, a cancel request for its worker, outputs deleted', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PROCESSING, progress: 40 });
    const { storage, config } = env.services;
    await storage.write(storageKeys.input(row.id), new Uint8Array([1]));
    await storage.write(storageKeys.output(row.id, 'vocals.wav'), new Uint8Array([2]));
    const cancels = await listen<CancelPayload>(topicChannel(config.redisPrefix, Topic.CONVERSION_CANCEL, row.id));
    const progress = await listen<ProgressPayload>(topicChannel(config.redisPrefix, Topic.CONVERSION_PROGRESS, row.id));

    const result = await run<{ cancelConversion: { conversion: { status: string } } }>(schema, env, user, CANCEL, {
      id: conversionGlobalId(row.id),
    });

    expect(result.data!.cancelConversion.conversion.status).toBe('CANCELLED');
    await eventually('one cancel and one final event are published', () => ({ cancels: cancels.length, progress: progress.length }), {
      until: (n) => n.cancels === 1 && n.progress === 1,
      timeoutMs: 3000,
      intervalMs: 20,
    });
    expect(progress[0]).toMatchObject({ status: 'CANCELLED', progress: 40, final: true, error: { code: 'ABORTED' } });
    expect(await storage.stat(storageKeys.output(row.id, 'vocals.wav'))).toBeNull();
    expect(await storage.stat(storageKeys.input(row.id))).toBeNull();
  });

  it.each([ConversionStatus.COMPLETED, ConversionStatus.FAILED, ConversionStatus.CANCELLED])(
    'refuses a %s conversion with NOT_CANCELLABLE and changes nothing',
    async (status) => {
      const user = newUser();
      const row = await insertConversion(em(), { userId: user, status });
      const result = await run<{ cancelConversion: { conversion: { status: string }; userErrors: { code: string }[] } }>(
        schema,
        env,
        user,
        CANCEL,
        { id: conversionGlobalId(row.id) },
      );
      expect(result.data!.cancelConversion.userErrors.map((error) => error.code)).toEqual(['NOT_CANCELLABLE']);
      expect(result.data!.cancelConversion.conversion.status).toBe(status);
      expect(await em().findOneOrFail(Conversion, row.id)).toMatchObject({ status });
    },
  );
});

describe('submitFeedback', () => {
  it('stores a rating on a completed conversion, shows it on Conversion.feedback and updates it on resubmission', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.COMPLETED });
    const conversionId = conversionGlobalId(row.id);

    const first = await run<{ submitFeedback: { feedback: { id: string; rating: number; comment: string | null; favorite: boolean } } }>(
      schema,
      env,
      user,
      FEEDBACK,
      {
        input: { conversionId, rating: 4, comment: 'Lovely voice', favorite: true },
      },
    );
    expect(first.data!.submitFeedback).toEqual({
      feedback: { id: expect.any(String), rating: 4, comment: 'Lovely voice', favorite: true },
      userErrors: [],
    });

    // Omitted comment and favourite keep their values; the same row is updated.
    const second = await run<{ submitFeedback: { feedback: { id: string } } }>(schema, env, user, FEEDBACK, {
      input: { conversionId, rating: 2 },
    });
    expect(second.data!.submitFeedback.feedback).toEqual({
      id: first.data!.submitFeedback.feedback.id,
      rating: 2,
      comment: 'Lovely voice',
      favorite: true,
    });
    // null clears the comment.
    const third = await run<{ submitFeedback: { feedback: { comment: string | null } } }>(schema, env, user, FEEDBACK, {
      input: { conversionId, rating: 5, comment: null, favorite: false },
    });
    expect(third.data!.submitFeedback.feedback).toMatchObject({ rating: 5, comment: null, favorite: false });
    expect(await em().count(Feedback, { conversion: row.id })).toBe(1);

    const shown = await run(schema, env, user, CONVERSION, { id: conversionId });
    expect((shown.data as { conversion: { feedback: unknown } }).conversion.feedback).toEqual({ rating: 5 });
  });

  it("shows each history row its own rating, loading the page's feedback in one query", async () => {
    const user = newUser();
    const rows = [];
    for (let i = 0; i < 6; i++)
      rows.push(
        await insertConversion(em(), { userId: user, status: ConversionStatus.COMPLETED, createdAt: new Date(Date.now() - i * 1000) }),
      );
    for (const [index, rating] of [
      [0, 5],
      [3, 2],
    ] as const) {
      const rated = await run(schema, env, user, FEEDBACK, { input: { conversionId: conversionGlobalId(rows[index]!.id), rating } });
      expect(rated.errors).toBeUndefined();
    }
    // Counts the loader's queries (ESM tests have no jest.spyOn global).
    const original = FeedbackRepository.prototype.findByConversions;
    let batches = 0;
    FeedbackRepository.prototype.findByConversions = function (this: FeedbackRepository, ids: string[]) {
      batches++;
      return original.call(this, ids);
    };
    try {
      const page = await run<{ history: { edges: { node: { id: string; feedback: { rating: number } | null } }[] } }>(
        schema,
        env,
        user,
        '{ history(first: 10) { edges { node { id feedback { rating } } } } }',
      );
      expect(page.errors).toBeUndefined();
      expect(page.data!.history.edges.map((edge) => edge.node.feedback?.rating ?? null)).toEqual([5, null, null, 2, null, null]);
      expect(batches).toBe(1);
    } finally {
      FeedbackRepository.prototype.findByConversions = original;
    }
  });

  it('rejects ratings outside 1..5 with INVALID_RATING and comments over 2,000 characters with COMMENT_TOO_LONG', async () => {
    const user = newUser();
    const conversionId = conversionGlobalId((await insertConversion(em(), { userId: user, status: ConversionStatus.COMPLETED })).id);
    for (const rating of [0, 6, -3]) {
      const result = await run<{ submitFeedback: { userErrors: { code: string; field: string }[] } }>(schema, env, user, FEEDBACK, {
        input: { conversionId, rating },
      });
      expect(result.data!.submitFeedback.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_RATING', field: 'rating' })]);
    }
    const tooLong = await run<{ submitFeedback: { userErrors: { code: string; field: string }[] } }>(schema, env, user, FEEDBACK, {
      input: { conversionId, rating: 3, comment: 'a'.repeat(2001) },
    });
    expect(tooLong.data!.submitFeedback.userErrors).toEqual([expect.objectContaining({ code: 'COMMENT_TOO_LONG', field: 'comment' })]);
    expect(await em().count(Feedback, { conversion: conversionUuidFromId(conversionId)! })).toBe(0);
    // 2,000 characters are fine, counted as characters (an emoji is one, though two UTF-16 units).
    const exact = await run<{ submitFeedback: { feedback: { comment: string } } }>(schema, env, user, FEEDBACK, {
      input: { conversionId, rating: 3, comment: '🎵'.repeat(2000) },
    });
    expect([...exact.data!.submitFeedback.feedback.comment]).toHaveLength(2000);
  });

  it.each([ConversionStatus.PENDING, ConversionStatus.PROCESSING, ConversionStatus.FAILED, ConversionStatus.CANCELLED])(
    'refuses a %s conversion with NOT_COMPLETED',
    async (status) => {
      const user = newUser();
      const row = await insertConversion(em(), { userId: user, status });
      const result = await run<{ submitFeedback: { feedback: unknown; userErrors: { code: string }[] } }>(schema, env, user, FEEDBACK, {
        input: { conversionId: conversionGlobalId(row.id), rating: 5 },
      });
      expect(result.data!.submitFeedback).toEqual({
        feedback: null,
        userErrors: [expect.objectContaining({ code: 'NOT_COMPLETED', field: 'conversionId' })],
      });
      expect(await em().count(Feedback, { conversion: row.id })).toBe(0);
    },
  );
});

describe('quota', () => {
  it('shows the units taken today and this month (UTC) against the default limits 10 and 100, with reset times', async () => {
    const user = newUser();
    const now = new Date();
    const quota = new QuotaService(em(), { dailyQuota: 10, monthlyQuota: 100 }, () => now);
    for (let i = 0; i < 2; i++) expect((await quota.reserve(user)).ok).toBe(true);
    const result = await run<{ quota: Record<string, unknown> }>(
      schema,
      env,
      user,
      `{ quota { enforced daily { used limit remaining windowStart resetsAt } monthly { used limit remaining resetsAt } } }`,
    );
    expect(result.errors).toBeUndefined();
    const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    expect(result.data!.quota).toEqual({
      enforced: true,
      daily: { used: 2, limit: 10, remaining: 8, windowStart: new Date(dayStart), resetsAt: new Date(dayStart + 86_400_000) },
      monthly: { used: 2, limit: 100, remaining: 98, resetsAt: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)) },
    });
  });

  it('uses UTC day and month windows at their edges and never shows negative remaining', async () => {
    const user = newUser();
    // 31 Jan 2026 23:59:59.999 UTC: the day and the month both end a millisecond later.
    const clock = () => new Date(Date.UTC(2026, 0, 31, 23, 59, 59, 999));
    expect((await new QuotaService(em(), { dailyQuota: 5, monthlyQuota: 5 }, clock).reserve(user)).ok).toBe(true);
    const view = await new QuotaService(em(), { dailyQuota: 0, monthlyQuota: 0 }, clock).view(user);
    expect(view.daily).toEqual({
      used: 1,
      limit: 0,
      remaining: 0,
      windowStart: new Date(Date.UTC(2026, 0, 31)),
      resetsAt: new Date(Date.UTC(2026, 1, 1)),
    });
    expect(view.monthly).toEqual({
      used: 1,
      limit: 0,
      remaining: 0,
      windowStart: new Date(Date.UTC(2026, 0, 1)),
      resetsAt: new Date(Date.UTC(2026, 1, 1)),
    });
  });
});

describe('stats', () => {
  it('shows the queue counts from Bee-Queue and a healthy database and Redis', async () => {
    const user = newUser();
    const before = await env.services.queue.checkHealth();
    for (let i = 0; i < 2; i++)
      await enqueueConversion(env.services.queue, { conversionId: randomUUID() }, { retries: 0, backoffMs: 1000 });
    const source = `{ stats { verdict checkedAt queue { waiting active completed failed delayed } database { reachable latencyMs error } redis { reachable latencyMs error } } }`;
    // Admins only (test/integration/roles-api-keys.test.ts covers the roles over HTTP).
    const refused = await run(schema, env, user, source);
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const contextValue = createContext(env.services, { requestId: randomUUID(), user: { id: user, role: Role.ADMIN } });
    const result = (await execute({ schema, document: parse(source), contextValue })) as ExecutionResult<{
      stats: {
        queue: Record<string, number>;
        database: { reachable: boolean };
        redis: { reachable: boolean; latencyMs: number };
        verdict: string;
      };
    }>;
    expect(result.errors).toBeUndefined();
    const stats = result.data!.stats;
    expect(stats.queue).toEqual({
      waiting: before.waiting + 2,
      active: before.active,
      completed: before.succeeded,
      failed: before.failed,
      delayed: before.delayed,
    });
    expect(stats.database.reachable).toBe(true);
    expect(stats.redis.reachable).toBe(true);
    expect(stats.redis.latencyMs).toBeGreaterThanOrEqual(0);
    expect(stats.verdict).toBe('OK');
  });

  it('answers DEGRADED within its deadline when Redis does not answer', async () => {
    // A real Redis client of a port nothing listens on: its commands wait while it keeps reconnecting.
    // The queue stand-in never answers either, as Bee-Queue's checkHealth does when its Redis is away.
    const deadRedis = createRedis('redis://127.0.0.1:1', { maxRetriesPerRequest: null, lazyConnect: true, disconnectTimeout: 10 });
    cleanup.add(() => deadRedis.disconnect());
    const started = Date.now();
    const view = await new StatsService(
      { em: em(), redis: deadRedis, queue: { checkHealth: () => new Promise(() => undefined) } },
      300,
    ).view();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(view).toMatchObject({
      verdict: 'DEGRADED',
      queue: null,
      database: { reachable: true },
      redis: { reachable: false, latencyMs: null },
    });
  });
});
