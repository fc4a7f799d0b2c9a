/**
 * Test helpers for the worker: a PostgreSQL database, a Redis prefix and a storage directory of the
 * test's own, the real services and worker on them, a conversion factory that stores a real upload,
 * and a listener that records every event published on a conversion's progress channel.
 * Everything is disposed of by the {@link Cleanup} list (service-harness.ts), last in first out.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createRedis } from '../../src/platform/redis.js';
import { Topic, topicChannel, type ProgressPayload } from '../../src/platform/pubsub.js';
import { createServices, type Services } from '../../src/services.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { enqueueConversion, jobPolicy, storageKeys } from '../../src/modules/conversion/conversion-job.js';
import { startWorker, type RunningWorker, type WorkerOptions } from '../../src/worker/worker.js';
import { MELODY_FIXTURE_DIR } from './melody-fixtures.js';
import { Cleanup, createTestResources } from './service-harness.js';

export interface WorkerEnv {
  config: Config;
  services: Services;
  worker: RunningWorker;
  storageDir: string;
}

/**
 * Real services (own database `mv_test_<random>`, Redis prefix `mvtest-<random>`, temp storage
 * directory) and a worker running in this process on them.
 * @param env extra environment (e.g. `JOB_RETRIES`); @param configOverrides set after loading (values
 *   the environment may not hold, e.g. a sub-second `jobTimeoutSeconds`).
 */
export async function startWorkerEnv(
  cleanup: Cleanup,
  options: { env?: Record<string, string>; configOverrides?: Partial<Config>; worker?: WorkerOptions } = {},
): Promise<WorkerEnv> {
  const resources = await createTestResources(cleanup, { storageLabel: 'mv-worker-' });
  const config: Config = {
    // Duplicate detection off unless a test turns it on: most tests convert the same fixture with the
    // same options several times and are about the pipeline run, which a cache hit would skip.
    ...loadConfig({ ...resources.env, LOG_LEVEL: 'error', RESULT_CACHE_TTL_SECONDS: '0', ...options.env }),
    ...options.configOverrides,
  };
  const services = await createServices(config, { role: 'worker' });
  cleanup.add(() => services.close());
  const worker = await startWorker(services, { stopTimeoutMs: 10_000, ...options.worker });
  cleanup.add(() => worker.stop());
  return { config, services, worker, storageDir: resources.storageDir };
}

export const FIXTURE_NAME = 'voice-la';
/** voice-la.flac: 10.7 s, 16 kHz mono FLAC. */
export const FIXTURE_SECONDS = 10.7;

export async function fixtureBytes(name = FIXTURE_NAME): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(MELODY_FIXTURE_DIR, `${name}.flac`)));
}

/**
 * Inserts a user and a PENDING conversion whose upload (`audio`, default the voice-la fixture) is in
 * storage at its input key, as `convertMelody` leaves them before enqueueing.
 */
export async function insertPendingConversion(
  env: WorkerEnv,
  options: { audio?: Uint8Array; userId?: string; fileName?: string } = {},
): Promise<Conversion> {
  const em = env.services.orm.em.fork() as EntityManager;
  const userId = options.userId ?? `user-${randomUUID()}`;
  await em.getConnection().execute('insert into "users" ("id") values (?) on conflict do nothing', [userId]);
  const audio = options.audio ?? (await fixtureBytes());
  const id = randomUUID();
  await env.services.storage.write(storageKeys.input(id), audio);
  const conversion = em.create(Conversion, {
    id,
    user: userId,
    status: ConversionStatus.PENDING,
    prompt: 'a romantic ballad about summer nights by the sea',
    genre: 'ballad',
    mood: 'romantic',
    voice: 'high',
    seed: 7,
    inputKey: storageKeys.input(id),
    input: {
      fileName: options.fileName ?? 'voice-la.flac',
      format: 'flac',
      codec: 'flac',
      durationSeconds: FIXTURE_SECONDS,
      sampleRate: 16000,
      channels: 1,
      sizeBytes: audio.byteLength,
      bitrate: null,
    },
  });
  await em.persistAndFlush(conversion);
  return conversion;
}

/** Enqueues the conversion's job as the API does. */
export async function enqueue(env: WorkerEnv, conversionId: string): Promise<void> {
  await enqueueConversion(env.services.queue, { conversionId }, jobPolicy(env.config));
}

/** The row as it is in the database now. */
export async function loadConversion(env: WorkerEnv, id: string): Promise<Conversion> {
  const em = env.services.orm.em.fork();
  return em.findOneOrFail(Conversion, { id });
}

export interface ProgressRecorder {
  events: ProgressPayload[];
  /** When each event arrived (performance.now ms), same order as `events`. */
  arrivals: number[];
  /** Resolves with the first event matching `predicate` (already received or future); rejects after `timeoutMs`. */
  waitFor(predicate: (event: ProgressPayload) => boolean, timeoutMs?: number): Promise<ProgressPayload>;
  /** The first final event. */
  final(timeoutMs?: number): Promise<ProgressPayload>;
  /**
   * Resolves once every event published on the channel before the call has been received: it publishes
   * a marker (not recorded) and waits for it, since Redis delivers a channel's messages in the order it
   * ran the publishes. How a test that checks that something was NOT published waits, instead of a sleep.
   */
  settled(timeoutMs?: number): Promise<void>;
}

/** Subscribes (on its own Redis connection) to a conversion's progress channel and records every event. */
export async function recordProgress(cleanup: Cleanup, env: WorkerEnv, conversionId: string): Promise<ProgressRecorder> {
  const subscriber = createRedis(env.config.redisUrl);
  cleanup.add(() => subscriber.disconnect());
  const channel = topicChannel(env.config.redisPrefix, Topic.CONVERSION_PROGRESS, conversionId);
  const events: ProgressPayload[] = [];
  const arrivals: number[] = [];
  const waiters: { predicate: (event: ProgressPayload) => boolean; resolve: (event: ProgressPayload) => void }[] = [];
  const markers = new Map<string, () => void>();
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    const marker = markers.get(message);
    if (marker) return marker();
    const event = JSON.parse(message) as ProgressPayload;
    events.push(event);
    arrivals.push(performance.now());
    for (const waiter of [...waiters]) {
      if (waiter.predicate(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  await subscriber.subscribe(channel);
  const waitFor = (predicate: (event: ProgressPayload) => boolean, timeoutMs = 30_000): Promise<ProgressPayload> => {
    const seen = events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `No matching progress event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.status, e.stage, e.progress]))}`,
            ),
          ),
        timeoutMs,
      );
      waiters.push({
        predicate,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  };
  const settled = async (timeoutMs = 30_000): Promise<void> => {
    const marker = JSON.stringify({ settledMarker: randomUUID() });
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<void>((resolve, reject) => {
      markers.set(marker, resolve);
      timer = setTimeout(() => reject(new Error(`The settle marker did not come back within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await env.services.redis.publish(channel, marker);
      await arrived;
    } finally {
      clearTimeout(timer);
      markers.delete(marker);
    }
  };
  return { events, arrivals, waitFor, final: (timeoutMs) => waitFor((e) => e.final, timeoutMs), settled };
}

/**
 * Names of the files under a conversion's storage folder, at any depth (outputs sit in one folder per
 * attempt, `conversions/<id>/<attemptId>/`), sorted; empty when the folder is gone.
 */
export async function storedFiles(env: WorkerEnv, conversionId: string): Promise<string[]> {
  try {
    const entries = await readdir(join(env.storageDir, ...storageKeys.dir(conversionId).split('/')), {
      recursive: true,
      withFileTypes: true,
    });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/** The attempt folders under a conversion's storage folder (one per attempt whose outputs are kept). */
export async function attemptDirs(env: WorkerEnv, conversionId: string): Promise<string[]> {
  try {
    const entries = await readdir(join(env.storageDir, ...storageKeys.dir(conversionId).split('/')), { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}
