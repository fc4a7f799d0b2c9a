/**
 * Typed events over Redis pub/sub (graphql-redis-subscriptions on ioredis): the worker publishes,
 * every API replica's subscribers receive. Channels carry the Redis prefix; payloads are JSON-safe
 * (ISO date strings, no class instances).
 */
import { RedisPubSub } from 'graphql-redis-subscriptions';
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
  stage: 'VALIDATION' | 'PITCH_EXTRACTION' | 'LYRICS' | 'SYNTHESIS' | 'QUALITY_CHECK' | 'FINALIZATION' | null;
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

export function createPubSub(redisUrl: string): RedisPubSub {
  return new RedisPubSub({ publisher: createRedis(redisUrl), subscriber: createRedis(redisUrl) });
}
