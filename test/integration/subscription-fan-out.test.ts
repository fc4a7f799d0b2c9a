/**
 * conversionProgress fan-out in one API process (src/graphql/shared-subscription-results.ts), over
 * real WebSockets to a real API server on real Redis and PostgreSQL, read by a bare
 * graphql-transport-ws client so the exact bytes of every message are seen: an event is executed
 * once per (document, variables, user) and serialised once, yet every subscription gets its own id
 * and the payload of its own document; another user's subscriptions get nothing of it; the process
 * holds one Redis subscription per channel however many subscriptions share it.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import type { Redis } from 'ioredis';
import WebSocket from 'ws';
import { buildAppSchema } from '../../src/graphql/schema.js';
import { createApiServer, type ApiServer } from '../../src/graphql/server.js';
import { ConversionStatus, type Conversion } from '../../src/modules/conversion/conversion.entity.js';
import { conversionGlobalId } from '../../src/modules/node/global-id.js';
import { Topic, topicChannel, type ProgressPayload } from '../../src/platform/pubsub.js';
import { createRedis } from '../../src/platform/redis.js';
import { createReadSideEnv, createReplicaServices, insertConversion, type ReadSideEnv } from '../support/read-side-harness.js';
import { eventually } from '../support/eventually.js';
import { Cleanup, mintToken, REDIS_URL } from '../support/service-harness.js';

const cleanup = new Cleanup();
let env: ReadSideEnv;
let schema: GraphQLSchema;
let server: ApiServer;
let wsUrl: string;
/** The worker's side: publishes, and asks Redis who listens. */
let redis: Redis;

beforeAll(async () => {
  env = await createReadSideEnv(cleanup);
  schema = await buildAppSchema();
  const services = await createReplicaServices(cleanup, env);
  server = await createApiServer(services, { schema });
  const url = await server.start(0, '127.0.0.1');
  cleanup.add(() => server.stop());
  wsUrl = `${url.replace(/^http/, 'ws')}/graphql`;
  redis = createRedis(REDIS_URL);
  cleanup.add(() => redis.quit());
});
afterAll(() => cleanup.run());

const em = () => env.services.orm.em.fork();
const newUser = () => `user-${randomUUID()}`;
const channelOf = (uuid: string) => topicChannel(env.config.redisPrefix, Topic.CONVERSION_PROGRESS, uuid);

const FULL = 'subscription Full($id: ID!) { conversionProgress(id: $id) { conversionId status progress message } }';
const SMALL = 'subscription Small($id: ID!) { conversionProgress(id: $id) { progress message } }';

interface Message {
  id?: string;
  type: string;
  payload?: unknown;
  /** The message as it came over the socket. */
  raw: string;
}

/** A bare graphql-transport-ws client that keeps every message it receives. */
class RawClient {
  readonly messages: Message[] = [];

  private constructor(private readonly socket: WebSocket) {}

  static async open(userId: string): Promise<RawClient> {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    const client = new RawClient(socket);
    cleanup.add(() => socket.terminate());
    socket.on('message', (data: Buffer) => {
      const raw = data.toString('utf8');
      client.messages.push({ ...(JSON.parse(raw) as Omit<Message, 'raw'>), raw });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('open', () => {
        socket.send(
          JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${mintToken(env.config.jwtSecret, userId)}` } }),
        );
        resolve();
      });
    });
    await eventually('connection_ack', () => client.messages.some((message) => message.type === 'connection_ack'));
    return client;
  }

  subscribe(id: string, query: string, conversion: Conversion): void {
    this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables: { id: conversionGlobalId(conversion.id) } } }));
  }

  complete(id: string): void {
    this.socket.send(JSON.stringify({ id, type: 'complete' }));
  }

  /** The `next` messages of operation `id`. */
  nexts(id: string): Message[] {
    return this.messages.filter((message) => message.id === id && message.type === 'next');
  }

  /** Waits until operation `id` has `count` `next` messages. */
  async nextsOf(id: string, count: number): Promise<Message[]> {
    return eventually(`${count} next messages for ${id}`, () => this.nexts(id), { until: (nexts) => nexts.length >= count });
  }
}

function event(row: Conversion, userId: string, change: Partial<ProgressPayload>): ProgressPayload {
  return {
    conversionId: row.id,
    userId,
    status: 'PROCESSING',
    stage: 'SYNTHESIS',
    progress: 50,
    message: 'working',
    at: new Date().toISOString(),
    final: false,
    error: null,
    ...change,
  };
}

const publish = (row: Conversion, payload: ProgressPayload) => redis.publish(channelOf(row.id), JSON.stringify(payload));

describe('conversionProgress fan-out in one API process', () => {
  it('executes and serialises an event once per document and user, and gives every subscription its own id and its own document', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PROCESSING, progress: 20 });
    const one = await RawClient.open(user);
    const two = await RawClient.open(user);
    one.subscribe('a', FULL, row);
    one.subscribe('b', SMALL, row);
    two.subscribe('c', FULL, row);
    // Each has its current state first, so each is subscribed in Redis.
    await one.nextsOf('a', 1);
    await one.nextsOf('b', 1);
    await two.nextsOf('c', 1);
    const before = { ...server.subscriptionResults };

    await publish(row, event(row, user, { progress: 55, message: 'shared' }));
    const [, a] = await one.nextsOf('a', 2);
    const [, b] = await one.nextsOf('b', 2);
    const [, c] = await two.nextsOf('c', 2);

    const id = conversionGlobalId(row.id);
    expect(a!.payload).toEqual({
      data: { conversionProgress: { conversionId: id, status: 'PROCESSING', progress: 55, message: 'shared' } },
    });
    expect(b!.payload).toEqual({ data: { conversionProgress: { progress: 55, message: 'shared' } } });
    // The same document on another socket: the same bytes, but for its id.
    expect(c!.raw).toBe(a!.raw.replace('"id":"a"', '"id":"c"'));
    // Two documents: two executions and two serialisations for three subscriptions; three messages spliced.
    const after = server.subscriptionResults;
    expect({
      executions: after.executions - before.executions,
      serialisations: after.serialisations - before.serialisations,
      splicedMessages: after.splicedMessages - before.splicedMessages,
    }).toEqual({ executions: 2, serialisations: 2, splicedMessages: 3 });
  });

  it("sends another user's subscriptions nothing of a conversion that is not theirs, even with the same document", async () => {
    const owner = newUser();
    const other = newUser();
    const mine = await insertConversion(em(), { userId: owner, status: ConversionStatus.PROCESSING, progress: 10 });
    const theirs = await insertConversion(em(), { userId: other, status: ConversionStatus.PROCESSING, progress: 10 });
    const ownerClient = await RawClient.open(owner);
    const otherClient = await RawClient.open(other);
    ownerClient.subscribe('o', FULL, mine);
    otherClient.subscribe('x', FULL, mine);
    otherClient.subscribe('y', FULL, theirs);
    await ownerClient.nextsOf('o', 1);
    await otherClient.nextsOf('y', 1);
    // A foreign id is answered as a missing one: errors (NOT_FOUND), no event, then complete.
    await eventually('the subscription of a foreign id is over', () =>
      otherClient.messages.some((message) => message.id === 'x' && message.type === 'complete'),
    );
    const refused = otherClient.messages.filter((message) => message.id === 'x');
    expect(refused.map((message) => message.type)).toEqual(['next', 'complete']);
    expect(refused[0]!.payload).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    expect(refused[0]!.payload).not.toHaveProperty('data.conversionProgress');

    await publish(mine, event(mine, owner, { progress: 40, message: 'for the owner' }));
    // On the owner's channel but naming the other user: the owner's stream drops it, nobody else listens.
    await publish(mine, event(mine, other, { progress: 45, message: 'forged' }));
    await publish(mine, event(mine, owner, { status: 'COMPLETED', progress: 100, message: 'done', final: true }));
    await publish(theirs, event(theirs, other, { status: 'COMPLETED', progress: 100, message: 'theirs done', final: true }));
    await eventually('both streams complete', () =>
      [
        ownerClient.messages.some((m) => m.id === 'o' && m.type === 'complete'),
        otherClient.messages.some((m) => m.id === 'y' && m.type === 'complete'),
      ].every(Boolean),
    );

    const messagesOf = (client: RawClient, id: string) =>
      client
        .nexts(id)
        .map((message) => (message.payload as { data: { conversionProgress: { message: string } } }).data.conversionProgress.message);
    expect(messagesOf(ownerClient, 'o')).toEqual(['Processing.', 'for the owner', 'done']);
    expect(otherClient.messages.filter((message) => message.id === 'x')).toHaveLength(2);
    expect(messagesOf(otherClient, 'y')).toEqual(['Processing.', 'theirs done']);
    for (const message of otherClient.nexts('y'))
      expect((message.payload as { data: { conversionProgress: { conversionId: string } } }).data.conversionProgress.conversionId).toBe(
        conversionGlobalId(theirs.id),
      );
  });

  it('holds one Redis subscription per channel for all the subscriptions of the process, and drops it after the last one', async () => {
    const user = newUser();
    const row = await insertConversion(em(), { userId: user, status: ConversionStatus.PROCESSING, progress: 20 });
    const clients = [await RawClient.open(user), await RawClient.open(user)];
    const ids = ['p', 'q', 'r'];
    for (const client of clients) for (const id of ids) client.subscribe(id, FULL, row);
    for (const client of clients) for (const id of ids) await client.nextsOf(id, 1);
    const subscribers = async () => ((await redis.pubsub('NUMSUB', channelOf(row.id))) as [string, number])[1];
    expect(await subscribers()).toBe(1);

    for (const client of clients) for (const id of ids.slice(1)) client.complete(id);
    await publish(row, event(row, user, { progress: 30, message: 'still one listens' }));
    for (const client of clients) await client.nextsOf('p', 2);
    expect(await subscribers()).toBe(1);

    for (const client of clients) client.complete('p');
    await eventually('the channel has no subscriber left', subscribers, { until: (count) => count === 0 });
  });
});
