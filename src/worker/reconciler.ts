/**
 * The reconciler: the database row is the truth users see, and this makes the queue and storage agree
 * with it. Every RECONCILE_INTERVAL_MS one worker (Redis lock, periodic-task.ts) looks at the PENDING
 * and PROCESSING rows nobody has touched for RECONCILE_GRACE_MS and at the job Bee-Queue holds for each
 * (queue of the row's priority, job id = conversion id):
 *
 * - no job (Redis flushed or restarted; a crash between the row's commit and the enqueue), or a job
 *   record in no list → a PROCESSING row goes back to PENDING (attemptId null) and the job is queued
 *   again with the same id;
 * - the job failed for good but the row is not final (the worker lost the database at that moment) →
 *   the row becomes FAILED with the error recorded in the dead-letter entry (else UNKNOWN_ERROR), the
 *   quota unit is given back as the processor does, the dead letter is kept (or added), a final event
 *   is published;
 * - the job succeeded but the row is not final → the job's record is removed and the job queued again
 *   (running it twice gives one result: the processor treats a finished row as done);
 * - the job is waiting, delayed or active → nothing: it will run, or Bee-Queue's stalled-job check
 *   hands it to another worker.
 *
 * Every row change is conditional on the row still being as read (same status, still untouched for the
 * grace), so a worker
 * that picked the conversion up meanwhile always wins. Then storage: folders under `conversions/`
 * untouched for the grace whose conversion no longer exists or is CANCELLED are removed; FAILED ones
 * lose their outputs (the input stays, so an admin can re-queue the dead letter). Each repair is
 * logged and counted (`melody_reconciler_repairs_total{kind}`).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { Orm } from '../platform/database.js';
import { Topic, topicChannel, type ProgressPayload } from '../platform/pubsub.js';
import type { Storage } from '../platform/storage.js';
import { Conversion, ConversionPriority, ConversionStatus, type ErrorData } from '../modules/conversion/conversion.entity.js';
import { QuotaRepository } from '../modules/quota/quota.repository.js';
import { requeueJob, storageKeys } from '../modules/conversion/conversion-job.js';
import { jobState } from './bee-queue.adapter.js';
import type { ConversionQueue } from '../platform/services.js';
import { QUEUE_NAMES } from './conversion-queues.js';
import type { DeadLetterError, DeadLetters } from '../modules/admin/dead-letter.store.js';

/** What a row whose job failed without a recorded error shows. */
export const UNRECORDED_FAILURE: DeadLetterError = {
  code: 'UNKNOWN_ERROR',
  message: 'The conversion failed unexpectedly.',
  retryable: false,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Output files of a conversion: everything in its folder but the upload. */
const INPUT_NAME = 'input';

export interface ReconcilerDeps {
  config: Pick<Config, 'redisPrefix' | 'reconcileGraceMs' | 'jobRetries' | 'jobBackoffMs'>;
  orm: Orm;
  redis: Redis;
  /** Producer queues (enqueue, removeJob). */
  queue: ConversionQueue;
  storage: Storage;
  pubsub: Pick<RedisPubSub, 'publish'>;
  deadLetters: DeadLetters;
  logger: Logger;
  metrics?: Metrics;
  /** Rows examined per round at most; default 500 (the rest wait for the next round). */
  batchSize?: number;
}

export type RepairKind = 'requeued_missing' | 'requeued_succeeded' | 'failed_from_queue' | 'storage_removed';

export type ReconcileResult = Record<RepairKind, number>;

/** One reconciliation round (see the module comment). */
export async function reconcile(deps: ReconcilerDeps, nowMs = Date.now()): Promise<ReconcileResult> {
  const result: ReconcileResult = { requeued_missing: 0, requeued_succeeded: 0, failed_from_queue: 0, storage_removed: 0 };
  const cutoff = new Date(nowMs - deps.config.reconcileGraceMs);
  const em = deps.orm.em.fork() as EntityManager;
  const rows = await em.find(
    Conversion,
    { status: { $in: [ConversionStatus.PENDING, ConversionStatus.PROCESSING] }, updatedAt: { $lte: cutoff } },
    {
      orderBy: { updatedAt: 'asc' },
      limit: deps.batchSize ?? 500,
      fields: ['id', 'status', 'priority', 'updatedAt', 'user', 'retryCount'],
    },
  );
  for (const row of rows) {
    try {
      const kind = await reconcileRow(deps, em, row, cutoff);
      if (kind) count(deps, result, kind, { conversionId: row.id, status: row.status });
    } catch (error) {
      deps.logger.warn('Reconciler: could not repair a conversion', { conversionId: row.id, error: (error as Error).message });
    }
  }
  await reconcileStorage(deps, em, nowMs, result);
  return result;
}

function count(deps: ReconcilerDeps, result: ReconcileResult, kind: RepairKind, details: Record<string, unknown>): void {
  result[kind] += 1;
  deps.metrics?.reconcilerRepairs.inc({ kind });
  deps.logger.warn(`Reconciler: ${kind.replace('_', ' ')}`, { kind, ...details });
}

async function reconcileRow(
  deps: ReconcilerDeps,
  em: EntityManager,
  row: Pick<Conversion, 'id' | 'status' | 'priority' | 'user' | 'retryCount'>,
  cutoff: Date,
): Promise<RepairKind | null> {
  const priority = row.priority ?? ConversionPriority.NORMAL;
  const state = await jobState(deps.redis, deps.config, QUEUE_NAMES[priority], row.id);
  if (state === 'waiting' || state === 'active' || state === 'delayed') return null;
  // Still as read: same status, still untouched for the grace (a worker that took it meanwhile wins).
  const unchanged = { id: row.id, status: row.status, updatedAt: { $lte: cutoff } };
  const now = new Date();

  if (state === 'failed') {
    const letter = await deps.deadLetters.get(row.id);
    const error: ErrorData = letter
      ? { code: letter.error.code, message: letter.error.message, retryable: letter.error.retryable }
      : { ...UNRECORDED_FAILURE };
    const changed = await em.nativeUpdate(Conversion, unchanged, {
      status: ConversionStatus.FAILED,
      error,
      completedAt: now,
      updatedAt: now,
    });
    if (changed === 0) return null;
    if (error.code !== 'VALIDATION_ERROR') {
      await new QuotaRepository(em).refundConversion(row.id);
      if (!letter)
        await deps.deadLetters.record({
          conversionId: row.id,
          priority,
          error: { ...error },
          attempts: row.retryCount + 1,
          failedAt: now.toISOString(),
        });
    }
    await removeOutputs(deps.storage, row.id);
    await publish(deps, {
      conversionId: row.id,
      userId: row.user.id,
      status: 'FAILED',
      stage: null,
      progress: 0,
      message: error.message,
      at: now.toISOString(),
      final: true,
      error,
    });
    return 'failed_from_queue';
  }

  // Missing, orphaned or succeeded: the row goes (back) to PENDING and the job is queued again.
  const changed = await em.nativeUpdate(Conversion, unchanged, {
    status: ConversionStatus.PENDING,
    stage: null,
    progress: 0,
    attemptId: null,
    updatedAt: now,
  });
  if (changed === 0) return null;
  await requeueJob(deps, row.id, priority);
  if (row.status === ConversionStatus.PROCESSING) {
    await publish(deps, {
      conversionId: row.id,
      userId: row.user.id,
      status: 'PENDING',
      stage: null,
      progress: 0,
      message: 'The conversion lost its job and was queued again',
      at: now.toISOString(),
      final: false,
      error: null,
    });
  }
  return state === 'succeeded' ? 'requeued_succeeded' : 'requeued_missing';
}

async function publish(deps: ReconcilerDeps, payload: ProgressPayload): Promise<void> {
  await deps.pubsub
    .publish(topicChannel(deps.config.redisPrefix, Topic.CONVERSION_PROGRESS, payload.conversionId), payload)
    .catch((error: Error) => {
      deps.logger.warn('Reconciler: could not publish', { conversionId: payload.conversionId, error: error.message });
    });
}

/**
 * Removes everything in a conversion's folder but the upload: output files and the per-attempt
 * output folders (`conversions/<id>/<attemptId>/`, conversion.processor.ts). @returns entries removed.
 */
async function removeOutputs(storage: Storage, conversionId: string): Promise<number> {
  if (!storage.list) return 0;
  const entries = (await storage.list(storageKeys.dir(conversionId))).filter((entry) => entry.name !== INPUT_NAME);
  await Promise.all(
    entries.map((entry) => {
      const key = `${storageKeys.dir(conversionId)}/${entry.name}`;
      return entry.folder ? storage.deletePrefix(key) : storage.delete(key);
    }),
  );
  return entries.length;
}

/** Storage folders of conversions that no longer exist or are CANCELLED go; FAILED ones lose their outputs. */
async function reconcileStorage(deps: ReconcilerDeps, em: EntityManager, nowMs: number, result: ReconcileResult): Promise<void> {
  if (!deps.storage.list) return;
  const root = storageKeys.dir('x').split('/')[0];
  const cutoffMs = nowMs - deps.config.reconcileGraceMs;
  const folders = (await deps.storage.list(root)).filter(
    (entry) => entry.folder && UUID.test(entry.name) && entry.modifiedAt.getTime() <= cutoffMs,
  );
  for (let start = 0; start < folders.length; start += 500) {
    const ids = folders.slice(start, start + 500).map((entry) => entry.name);
    const rows = await em.find(Conversion, { id: { $in: ids } }, { fields: ['id', 'status'] });
    const status = new Map(rows.map((row) => [row.id, row.status]));
    for (const id of ids) {
      const found = status.get(id);
      if (found === undefined || found === ConversionStatus.CANCELLED) {
        await deps.storage.deletePrefix(storageKeys.dir(id));
        count(deps, result, 'storage_removed', { conversionId: id, status: found ?? 'MISSING' });
      } else if (found === ConversionStatus.FAILED) {
        const removed = await removeOutputs(deps.storage, id);
        if (removed === 0) continue;
        count(deps, result, 'storage_removed', { conversionId: id, status: found, files: removed });
      }
    }
  }
}
