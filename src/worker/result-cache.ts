/**
 * Duplicate detection: the same audio bytes with the same result-changing options give the same
 * conversion result (the pipeline is deterministic for a given input and seed), so a finished
 * result is remembered in Redis and reused instead of being computed again.
 *
 * - Scope: one user. The owner's id is part of the key, and the processor reuses only a conversion
 *   of the same user: a hit across users would tell one user what another uploaded (and hand them its
 *   result and warnings).
 * - Key: SHA-256 over a version tag, the owner, the SHA-256 of the audio bytes, the SHA-256 of the
 *   melody file's bytes (or `-` when the request gave none) and the canonical JSON (sorted
 *   keys) of everything that changes the result: the request (prompt, genre, mood, lyrics, voice,
 *   seed with null read as the pipeline's default 1), the pipeline options (compressed format, target
 *   loudness, limits...) and the configured provider identities (`LLM_API_URL`, `LLM_MODEL`,
 *   `EXPERT_MUSIC_AI_URL`): another engine makes another result. The file name is left out (the
 *   bytes decide the decode).
 * - Redis: `<REDIS_PREFIX>:result-cache:<key>` → the id of the conversion that computed the result,
 *   with a TTL of `RESULT_CACHE_TTL_SECONDS` (0 turns the cache off).
 * - Graceful: every command has a short deadline; a Redis error or timeout is a miss (or a skipped
 *   store), logged once per outage, and never fails a job.
 *
 * The cache holds only a pointer: the processor checks that the conversion it names is still
 * COMPLETED with its files before reusing anything (src/worker/conversion.processor.ts).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ConvertRequest } from '../audio/pipeline.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { redisKey } from '../platform/redis.js';
import type { ThreadPipelineOptions } from './thread-protocol.js';

/** Bumped when what a key covers changes, so old entries stop matching. */
const KEY_VERSION = 'result-cache/v3';

/** Longest wait for one cache command before it counts as a miss, ms. */
export const DEFAULT_CACHE_COMMAND_TIMEOUT_MS = 500;

/** The request fields that change the result. */
export type CachedRequest = Pick<ConvertRequest, 'prompt' | 'genre' | 'mood' | 'lyrics' | 'voice' | 'seed'>;

/** The configured remote engines: a different engine gives a different result. */
export type ProviderIdentity = Pick<Config, 'llmApiUrl' | 'llmModel' | 'expertMusicAiUrl'>;

/** JSON with object keys sorted at every level and `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([name, member]) => `${JSON.stringify(name)}:${canonicalJson(member)}`).join(',')}}`;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The cache key (64 hex digits) of `audio` converted for user `ownerId` with `request`, `options` and
 * `providers`, singing the melody file `melody` (its bytes) when given.
 */
export function resultCacheKey(
  ownerId: string,
  audio: Uint8Array,
  request: CachedRequest,
  options: ThreadPipelineOptions,
  providers: ProviderIdentity,
  melody: Uint8Array | null = null,
): string {
  const canonical = canonicalJson({
    request: {
      prompt: request.prompt,
      genre: request.genre ?? null,
      mood: request.mood ?? null,
      lyrics: request.lyrics ?? null,
      voice: request.voice ?? null,
      // The pipeline's default seed (src/audio/pipeline.ts): null and 1 give the same result.
      seed: request.seed ?? 1,
    },
    options,
    providers: { llmApiUrl: providers.llmApiUrl, llmModel: providers.llmModel, expertMusicAiUrl: providers.expertMusicAiUrl },
  });
  return sha256(`${KEY_VERSION}\n${JSON.stringify(ownerId)}\n${sha256(audio)}\n${melody ? sha256(melody) : '-'}\n${canonical}`);
}

export interface ResultCache {
  /** False when `RESULT_CACHE_TTL_SECONDS` is 0: lookups are not made and nothing is stored. */
  readonly enabled: boolean;
  /** The conversion id stored under `key`, or null on a miss, a Redis error or a timeout. */
  lookup(key: string): Promise<string | null>;
  /** Stores `conversionId` under `key` for the TTL; a Redis failure is logged, not thrown. */
  remember(key: string, conversionId: string): Promise<void>;
  /** Removes `key` if it still names `conversionId` (a stale entry); failures ignored. */
  forget(key: string, conversionId: string): Promise<void>;
}

export interface ResultCacheOptions {
  /** Any ioredis connection; the worker passes `services.redis`. */
  redis: Pick<Redis, 'get' | 'set' | 'eval'>;
  /** `REDIS_PREFIX`. */
  prefix: string;
  /** `RESULT_CACHE_TTL_SECONDS`; 0 turns the cache off. */
  ttlSeconds: number;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** Deadline of one command, ms; default {@link DEFAULT_CACHE_COMMAND_TIMEOUT_MS}. */
  commandTimeoutMs?: number;
}

/** Deletes KEYS[1] only while it holds ARGV[1] (compare-and-delete). */
const FORGET_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** A cache of finished results in Redis (see the module comment). */
export function createResultCache(options: ResultCacheOptions): ResultCache {
  const { redis, prefix, ttlSeconds, logger } = options;
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_CACHE_COMMAND_TIMEOUT_MS;
  let unavailable = false;
  const keyOf = (key: string) => redisKey(prefix, 'result-cache', key);

  /** Runs one command within the deadline; null (and one log line per outage) on failure. */
  async function bounded<T>(what: string, command: () => Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        command(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (unavailable) {
        unavailable = false;
        logger.info('Result cache available again');
      }
      return result;
    } catch (error) {
      if (!unavailable) {
        unavailable = true;
        logger.warn('Result cache unavailable; lookups count as misses until it answers again', {
          operation: what,
          error: (error as Error).message,
        });
      }
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    enabled: ttlSeconds > 0,
    async lookup(key) {
      if (ttlSeconds <= 0) return null;
      return bounded('lookup', () => redis.get(keyOf(key)));
    },
    async remember(key, conversionId) {
      if (ttlSeconds <= 0) return;
      await bounded('store', () => redis.set(keyOf(key), conversionId, 'EX', ttlSeconds));
    },
    async forget(key, conversionId) {
      if (ttlSeconds <= 0) return;
      await bounded('forget', () => redis.eval(FORGET_SCRIPT, 1, keyOf(key), conversionId));
    },
  };
}
