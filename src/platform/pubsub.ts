/**
 * Typed events over Redis pub/sub (graphql-redis-subscriptions on ioredis): the worker publishes,
 * every API replica's subscribers receive. Channels carry the Redis prefix; payloads are JSON-safe
 * (ISO date strings, no class instances).
 */
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { StageName } from '../audio/stages.js';
import { createRedis } from './redis.js';

export enum Topic {
  /** Per conversion: every stage change, progress step and the final state. */
  CONVERSION_PROGRESS = 'conversion-progress',
  /** Per conversion: ask whichever worker runs it to abort (cancelConversion). */
  CONVERSION_CANCEL = 'conversion-cancel',
}

/** The channel for one topic and id, e.g. `mv:conversion-progress:<uuid>`. */
export function topicChannel(prefix: string, topic: Topic, id: string): string {
  return `${prefix}:${topic}:${id}`;
}

/** One progress event as published by the worker and delivered to subscribers. */
export interface ProgressPayload {
  conversionId: string;
  /** The owner: subscriptions check it again on delivery. */
  userId: string;
  status: 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  stage: StageName | null;
  /** 0..100 */
  progress: number;
  message: string;
  /** ISO time of the event. */
  at: string;
  /** True for the last event of a conversion (COMPLETED, FAILED or CANCELLED). */
  final: boolean;
  error: { code: string; message: string; retryable: boolean } | null;
}

export interface CancelPayload {
  conversionId: string;
  at: string;
}

/**
 * The pub/sub of a process: a publisher and a subscriber connection to `redisUrl`. Connection errors
 * (Redis restarting) go to `onError`; both reconnect by themselves and the subscriber subscribes again.
 *
 * The subscriber's commands wait for the reconnection instead of failing after two attempts
 * (`maxRetriesPerRequest: null`): graphql-redis-subscriptions 2.7 keeps a promise of its own per
 * pending `subscribe` that it rejects, unobserved, when the command fails, and drops the promise of
 * every `unsubscribe`, so a failed subscription change became an unhandled rejection. Replies of the
 * dropped `unsubscribe`/`punsubscribe` calls that fail anyway (the connection is closed) go to
 * `onError` too.
 */
export function createPubSub(redisUrl: string, onError: (error: Error) => void = () => undefined): RedisPubSub {
  const publisher = createRedis(redisUrl);
  const subscriber = createRedis(redisUrl, { maxRetriesPerRequest: null });
  publisher.on('error', onError);
  subscriber.on('error', onError);
  for (const name of ['unsubscribe', 'punsubscribe'] as const) {
    const command = subscriber[name].bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
    (subscriber as unknown as Record<typeof name, (...args: unknown[]) => Promise<unknown>>)[name] = (...args) => {
      const reply = command(...args);
      reply.catch(onError);
      return reply;
    };
  }
  return new RedisPubSub({ publisher, subscriber });
}
