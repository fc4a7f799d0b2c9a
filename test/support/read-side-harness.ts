/**
 * Test helpers for the read side (history, node, quota, stats, cancel, feedback, progress): real
 * services on a PostgreSQL database, Redis prefix and storage directory of the test file's own
 * (service-harness.ts; disposed of by its cleanup list), factories for users and conversions in any
 * state, and operations through graphql-js on the real schema.
 */
import { randomUUID } from 'node:crypto';
import { Conversion, ConversionStatus, type InputMetadata, type ResultData } from '../../src/modules/conversion/conversion.entity.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { execute, parse, subscribe, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createServices, type Services } from '../../src/services.js';
import { createContext } from '../../src/modules/graphql-context.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { Cleanup, createTestResources } from './service-harness.js';

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
    stage:
      seed.stage ??
      (status === ConversionStatus.PROCESSING ? 'PITCH_EXTRACTION' : status === ConversionStatus.COMPLETED ? 'FINALIZATION' : null),
    progress: seed.progress ?? (status === ConversionStatus.COMPLETED ? 100 : status === ConversionStatus.PROCESSING ? 30 : 0),
    prompt: 'a song about the sea at night, slow and calm',
    genre: 'pop',
    mood: 'happy',
    voice: 'high',
    inputKey: `conversions/${id}/input`,
    input: INPUT,
    result: status === ConversionStatus.COMPLETED ? resultFor(id) : null,
    quality:
      status === ConversionStatus.COMPLETED ? { pitchAccuracy: 0.97, lyricsQuality: 0.8, integratedLufs: -16, truePeakDbtp: -1.2 } : null,
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
  const resources = await createTestResources(cleanup, { storageLabel: 'mv-read-side-' });
  const config = loadConfig({ ...resources.env, PORT: '0', ...extraEnv });
  const services = await createServices(config, { role: 'api' });
  cleanup.add(() => services.close());
  return { services, config, prefix: resources.prefix, databaseName: resources.databaseName };
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
    AsyncGenerator<ExecutionResult<T>> | ExecutionResult<T>;
}

/** Another process's worth of services on the same database, Redis prefix and storage (its own connections). */
export async function createReplicaServices(cleanup: Cleanup, env: ReadSideEnv): Promise<Services> {
  const services = await createServices(env.config, { role: 'api' });
  cleanup.add(() => services.close());
  return services;
}
