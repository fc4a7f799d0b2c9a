/**
 * cancelConversion: stops a caller's PENDING or PROCESSING conversion.
 *
 * Order of effects (the row is the truth, so it changes first):
 * 1. Conditional update `status → CANCELLED WHERE status IN (PENDING, PROCESSING)` on the caller's row.
 *    Whoever wins this update decides the outcome: a worker finishing at the same moment updates
 *    `WHERE status = 'PROCESSING'` and finds nothing, so it neither completes the row nor keeps files.
 * 2. Publish {@link Topic.CONVERSION_CANCEL} (always, even for a PENDING row: a worker may have picked
 *    the job up since we read it), so the worker running it aborts the pipeline through its AbortSignal.
 * 3. For a row that was PENDING, remove the Bee-Queue job so no worker starts it, and give the
 *    user's quota unit back.
 * 4. Delete the conversion's files (input and any outputs already written).
 * 5. Publish the final CANCELLED progress event, after the files are gone, so subscribers complete.
 * Effects 2–5 are best effort once 1 succeeded: a failure is logged and the cancel still stands (the
 * worker re-checks the row before starting and before completing).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Logger } from '../../platform/logger.js';
import type { Storage } from '../../platform/storage.js';
import type { ConversionQueue } from '../../platform/services.js';
import { Topic, topicChannel, type CancelPayload, type ProgressPayload } from '../../platform/pubsub.js';
import { storageKeys } from './conversion-job.js';
import { conversionUuidFromId } from '../node/global-id.js';
import { Conversion, ConversionStatus, type ErrorData } from './conversion.entity.js';
import { ConversionQueryRepository } from './conversion-query.repository.js';
import { QuotaRepository } from '../quota/quota.repository.js';

export const CANCELLED_MESSAGE = 'Cancelled by the user.';

/** What a cancelled row's `error` says (the Conversion type documents CANCELLED as code ABORTED). */
export const CANCELLED_ERROR: ErrorData = { code: 'ABORTED', message: CANCELLED_MESSAGE, retryable: false };

export interface CancelDeps {
  em: EntityManager;
  queue: Pick<ConversionQueue, 'removeJob'>;
  storage: Pick<Storage, 'deletePrefix'>;
  pubsub: Pick<RedisPubSub, 'publish'>;
  redisPrefix: string;
  logger: Pick<Logger, 'warn' | 'info'>;
}

export type CancelOutcome =
  | { ok: true; conversion: Conversion }
  | { ok: false; code: 'NOT_FOUND' | 'NOT_CANCELLABLE'; message: string; conversion: Conversion | null };

const ACTIVE: ConversionStatus[] = [ConversionStatus.PENDING, ConversionStatus.PROCESSING];

export const NOT_FOUND_MESSAGE = 'No conversion with this id.';

export class ConversionCancelService {
  private readonly repository: ConversionQueryRepository;

  constructor(private readonly deps: CancelDeps) {
    this.repository = new ConversionQueryRepository(deps.em);
  }

  async cancel(userId: string, id: string): Promise<CancelOutcome> {
    const uuid = conversionUuidFromId(id);
    const found = uuid ? await this.repository.findOwned(userId, uuid) : null;
    if (!found) return { ok: false, code: 'NOT_FOUND', message: NOT_FOUND_MESSAGE, conversion: null };
    const previous = found.status;
    if (!ACTIVE.includes(previous)) {
      return {
        ok: false,
        code: 'NOT_CANCELLABLE',
        message: `The conversion is already ${previous} and can no longer be cancelled.`,
        conversion: found,
      };
    }
    const now = new Date();
    const updated = await this.deps.em.nativeUpdate(
      Conversion,
      { id: found.id, user: userId, status: { $in: ACTIVE } },
      { status: ConversionStatus.CANCELLED, error: CANCELLED_ERROR, completedAt: now, updatedAt: now },
    );
    const conversion = await this.deps.em.refreshOrFail(found);
    if (updated === 0) {
      // The worker finished (or another cancel won) between our read and our update.
      return {
        ok: false,
        code: 'NOT_CANCELLABLE',
        message: `The conversion is already ${conversion.status} and can no longer be cancelled.`,
        conversion,
      };
    }
    const log = { conversionId: conversion.id, previousStatus: previous };
    await this.bestEffort('publish the cancel request', log, () =>
      this.deps.pubsub.publish(topicChannel(this.deps.redisPrefix, Topic.CONVERSION_CANCEL, conversion.id), {
        conversionId: conversion.id,
        at: now.toISOString(),
      } satisfies CancelPayload),
    );
    // A PROCESSING job stays in Bee-Queue: the worker aborts it and settles it itself.
    if (previous === ConversionStatus.PENDING) {
      await this.bestEffort('remove the queued job', log, () => this.deps.queue.removeJob(conversion.id));
      // Cancelled before any processing: the quota unit goes back (once).
      await this.bestEffort('give the quota unit back', log, () => new QuotaRepository(this.deps.em).refundConversion(conversion.id));
    }
    await this.bestEffort('delete the files', log, () => this.deps.storage.deletePrefix(storageKeys.dir(conversion.id)));
    await this.bestEffort('publish the final event', log, () =>
      this.deps.pubsub.publish(
        topicChannel(this.deps.redisPrefix, Topic.CONVERSION_PROGRESS, conversion.id),
        finalCancelledEvent(conversion, userId, now),
      ),
    );
    this.deps.logger.info('Conversion cancelled', log);
    return { ok: true, conversion };
  }

  private async bestEffort(what: string, log: Record<string, unknown>, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.deps.logger.warn(`Cancel: could not ${what}`, { ...log, error: (error as Error).message });
    }
  }
}

function finalCancelledEvent(conversion: Conversion, userId: string, at: Date): ProgressPayload {
  return {
    conversionId: conversion.id,
    userId,
    status: 'CANCELLED',
    stage: conversion.stage,
    progress: conversion.progress,
    message: CANCELLED_MESSAGE,
    at: at.toISOString(),
    final: true,
    error: { ...CANCELLED_ERROR },
  };
}
