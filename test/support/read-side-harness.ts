/**
 * Test helpers for the read side (history, node, quota, stats, cancel, feedback, progress): a
 * PostgreSQL database and a Redis prefix of the test file's own, a cleanup list that disposes of
 * everything in reverse order, and factories for users and conversions in any state.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { knex } from '@mikro-orm/knex';
import { initOrm, type Orm } from '../../src/platform/database.js';
import { createRedis } from '../../src/platform/redis.js';
import { Conversion, ConversionStatus, type InputMetadata, type ResultData } from '../../src/modules/conversion/conversion.entity.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execute, parse, subscribe, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createServices, type Services } from '../../src/platform/services.js';
import { createContext } from '../../src/graphql/context.js';
import { Role } from '../../src/modules/user/user.entity.js';

export const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Disposers run last-in first-out; one failing does not stop the others. */
export class Cleanup {
  private readonly tasks: (() => unknown)[] = [];

  add(task: () => unknown): void {
    this.tasks.push(task);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.tasks.length > 0) {
      const task = this.tasks.pop()!;
      try {
        await task();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** Drops a test database, closing whatever connections are still open to it. */
export async function dropDatabase(name: string): Promise<void> {
  const admin = knex({ client: 'pg', connection: POSTGRES_ADMIN_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.destroy();
  }
}

/** A fresh database `mv_test_<random>` with the migrations applied; dropped by the cleanup. */
export async function createTestDatabase(cleanup: Cleanup): Promise<{ orm: Orm; url: string; name: string }> {
  const name = `mv_test_${randomBytes(6).toString('hex')}`;
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  cleanup.add(() => dropDatabase(name));
  const orm = await initOrm(url);
  cleanup.add(() => orm.close(true));
  return { orm, url, name };
}

/** A Redis key prefix `mvtest-<random>`; the cleanup deletes every key under it. */
export function createTestPrefix(cleanup: Cleanup): string {
  const prefix = `mvtest-${randomBytes(6).toString('hex')}`;
  cleanup.add(async () => {
    const redis = createRedis(REDIS_URL);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });
  return prefix;
}

const INPUT: InputMetadata = {
  fileName: 'melody.wav',
  format: 'wav',
  codec: 'pcm_s16le',
  durationSeconds: 4,
  sampleRate: 44100,
  channels: 1,
  sizeBytes: 352844,
  bitrate: null,
};

export function resultFor(id: string): ResultData {
  return {
    files: {
      vocalsWav: `conversions/${id}/vocals.wav`,
      vocalsCompressed: `conversions/${id}/vocals.mp3`,
      midi: `conversions/${id}/score.mid`,
      musicXml: `conversions/${id}/score.musicxml`,
      report: `conversions/${id}/report.json`,
    },
    compressedFormat: 'mp3',
    lyrics: 'la la la',
    melody: { noteCount: 3, phraseCount: 1, key: 'C major', tempoBpm: 100, durationSeconds: 4 },
    lyricsInfo: { lineCount: 1, syllableCount: 3, genre: 'pop', mood: 'happy', qualityScore: 0.8, source: 'template' },
  };
}

/** Makes sure a user row exists (conversions reference it). */
export async function ensureUser(em: EntityManager, userId: string): Promise<void> {
  await em.getConnection().execute('insert into "users" ("id") values (?) on conflict do nothing', [userId]);
}

export interface ConversionSeed {
  userId: string;
  status?: ConversionStatus;
  createdAt?: Date;
  id?: string;
  progress?: number;
  stage?: Conversion['stage'];
}

/** Inserts one conversion in the given state (COMPLETED ones get a result and quality). */
export async function insertConversion(em: EntityManager, seed: ConversionSeed): Promise<Conversion> {
  await ensureUser(em, seed.userId);
  const fork = em.fork();
  const id = seed.id ?? randomUUID();
  const status = seed.status ?? ConversionStatus.PENDING;
  const finished = status === ConversionStatus.COMPLETED || status === ConversionStatus.FAILED || status === ConversionStatus.CANCELLED;
  const conversion = fork.create(Conversion, {
    id,
    user: seed.userId,
    status,
    stage: seed.stage ?? (status === ConversionStatus.PROCESSING ? 'PITCH_EXTRACTION' : status === ConversionStatus.COMPLETED ? 'FINALIZATION' : null),
    progress: seed.progress ?? (status === ConversionStatus.COMPLETED ? 100 : status === ConversionStatus.PROCESSING ? 30 : 0),
    prompt: 'a song about the sea at night, slow and calm',
    genre: 'pop',
    mood: 'happy',
    voice: 'high',
    inputKey: `conversions/${id}/input`,
    input: INPUT,
    result: status === ConversionStatus.COMPLETED ? resultFor(id) : null,
    quality: status === ConversionStatus.COMPLETED ? { pitchAccuracy: 0.97, lyricsQuality: 0.8, integratedLufs: -16, truePeakDbtp: -1.2 } : null,
    error: status === ConversionStatus.FAILED ? { code: 'AUDIO_PROCESSING_ERROR', message: 'The decoder failed.', retryable: false } : null,
    createdAt: seed.createdAt ?? new Date(),
    completedAt: finished ? new Date() : null,
  });
  await fork.persistAndFlush(conversion);
  return conversion;
}

// ---------------------------------------------------------------------------------------------
// Services, schema and operations through graphql-js on the real schema.

export interface ReadSideEnv {
  services: Services;
  config: Config;
  prefix: string;
  databaseName: string;
}

/**
 * Real services (PostgreSQL database, Redis prefix and storage directory of this test file's own)
 * built by the production composition root. Everything is disposed of by `cleanup`.
 */
export async function createReadSideEnv(cleanup: Cleanup, extraEnv: Record<string, string> = {}): Promise<ReadSideEnv> {
  const databaseName = `mv_test_${randomBytes(6).toString('hex')}`;
  const prefix = createTestPrefix(cleanup);
  const storageDir = await mkdtemp(join(tmpdir(), 'mv-read-side-'));
  cleanup.add(() => rm(storageDir, { recursive: true, force: true }));
  cleanup.add(() => dropDatabase(databaseName));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${databaseName}`,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    STORAGE_DIR: storageDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PORT: '0',
    ...extraEnv,
  });
  const services = await createServices(config, { role: 'api' });
  cleanup.add(() => services.close());
  return { services, config, prefix, databaseName };
}

/** A context exactly as the server makes one: its own fork, the user (or nobody). */
export function contextFor(env: ReadSideEnv, userId: string | null) {
  return createContext(env.services, { requestId: randomUUID(), user: userId ? { id: userId, role: Role.USER } : null });
}

/** Runs a query or mutation through graphql-js `execute` on the real schema. */
export async function run<T = Record<string, unknown>>(
  schema: GraphQLSchema,
  env: ReadSideEnv,
  userId: string | null,
  source: string,
  variableValues: Record<string, unknown> = {},
): Promise<ExecutionResult<T>> {
  return (await execute({ schema, document: parse(source), variableValues, contextValue: contextFor(env, userId) })) as ExecutionResult<T>;
}

/** Starts a subscription through graphql-js `subscribe`: an async iterator of results, or one error result. */
export async function startSubscription<T = Record<string, unknown>>(
  schema: GraphQLSchema,
  env: ReadSideEnv,
  userId: string | null,
  source: string,
  variableValues: Record<string, unknown> = {},
): Promise<AsyncGenerator<ExecutionResult<T>> | ExecutionResult<T>> {
  return (await subscribe({ schema, document: parse(source), variableValues, contextValue: contextFor(env, userId) })) as
    | AsyncGenerator<ExecutionResult<T>>
    | ExecutionResult<T>;
}

/** Another process's worth of services on the same database, Redis prefix and storage (its own connections). */
export async function createReplicaServices(cleanup: Cleanup, env: ReadSideEnv): Promise<Services> {
  const services = await createServices(env.config, { role: 'api' });
  cleanup.add(() => services.close());
  return services;
}
