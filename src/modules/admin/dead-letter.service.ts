/**
 * The admin side of the dead-letter list (src/worker/dead-letter.ts): listing it, and re-queueing a
 * conversion from it.
 *
 * `requeue`, in order (the row is the truth, so it changes first, conditionally):
 * 1. the row must exist (NOT_FOUND), be FAILED (NOT_FAILED) and have a dead letter (NOT_DEAD_LETTER:
 *    e.g. a VALIDATION_ERROR, which re-running cannot fix);
 * 2. `FAILED → PENDING` with error null, retryCount 0, stallCount 0, attemptId null, completedAt null;
 * 3. the old Bee-Queue record (any queue) and its finish times are removed and a new job is queued
 *    under the same id in the queue of the row's priority. Should that fail (Redis away), the row goes
 *    back to FAILED and the caller gets SERVICE_UNAVAILABLE, nothing else changed;
 * 4. the dead letter is removed and a PENDING progress event published.
 *
 * Quota: the re-run is not charged. The unit was given back when the conversion failed (a failure not
 * caused by the user), and `quota_refunded` stays set, so should the re-run fail again nothing is
 * given back twice either.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { RedisPubSub } from 'graphql-redis-subscriptions';
import { UnavailableError } from '../../platform/api-errors.js';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { Topic, topicChannel, type ProgressPayload } from '../../platform/pubsub.js';
import type { ConversionQueue } from '../../platform/services.js';
import { requeueJob } from '../conversion/conversion-job.js';
import { DeadLetters, type DeadLetterPage } from './dead-letter.store.js';
import { Conversion, ConversionStatus } from '../conversion/conversion.entity.js';
import { conversionUuidFromId } from '../node/global-id.js';

export interface DeadLetterDeps {
  em: EntityManager;
  redis: Redis;
  queue: ConversionQueue;
  pubsub: Pick<RedisPubSub, 'publish'>;
  config: Pick<Config, 'redisPrefix' | 'jobRetries' | 'jobBackoffMs'>;
  logger: Pick<Logger, 'info' | 'warn'>;
}

export type RequeueOutcome =
  | { ok: true; conversion: Conversion }
  | { ok: false; code: 'NOT_FOUND' | 'NOT_FAILED' | 'NOT_DEAD_LETTER'; message: string; conversion: Conversion | null };

export class DeadLetterService {
  private readonly letters: DeadLetters;

  constructor(private readonly deps: DeadLetterDeps) {
    this.letters = new DeadLetters(deps.redis, deps.config.redisPrefix);
  }

  /** A page of the list and the conversions it names (by id; missing rows are absent). */
  async list(first: number, after: string | null): Promise<{ page: DeadLetterPage; rows: Map<string, Conversion> }> {
    const page = await this.letters.list(first, after);
    const ids = page.entries.map((entry) => entry.conversionId);
    const rows = ids.length > 0 ? await this.deps.em.find(Conversion, { id: { $in: ids } }) : [];
    return { page, rows: new Map(rows.map((row) => [row.id, row])) };
  }

  async requeue(id: string): Promise<RequeueOutcome> {
    const uuid = conversionUuidFromId(id);
    const row = uuid ? await this.deps.em.findOne(Conversion, { id: uuid }) : null;
    if (!uuid || !row) return { ok: false, code: 'NOT_FOUND', message: 'No conversion with this id.', conversion: null };
    if (row.status !== ConversionStatus.FAILED) {
      return {
        ok: false,
        code: 'NOT_FAILED',
        message: `The conversion is ${row.status}; only FAILED ones can be re-queued.`,
        conversion: row,
      };
    }
    const letter = await this.letters.get(uuid);
    if (!letter)
      return {
        ok: false,
        code: 'NOT_DEAD_LETTER',
        message: 'The conversion is not in the dead-letter list (bad input is not re-queued).',
        conversion: row,
      };

    const now = new Date();
    const previous = { error: row.error, completedAt: row.completedAt, retryCount: row.retryCount };
    const changed = await this.deps.em.nativeUpdate(
      Conversion,
      { id: uuid, status: ConversionStatus.FAILED },
      {
        status: ConversionStatus.PENDING,
        stage: null,
        progress: 0,
        error: null,
        retryCount: 0,
        stallCount: 0,
        attemptId: null,
        completedAt: null,
        processingMs: null,
        updatedAt: now,
      },
    );
    if (changed === 0) {
      const current = await this.deps.em.refreshOrFail(row);
      return {
        ok: false,
        code: 'NOT_FAILED',
        message: `The conversion is ${current.status}; only FAILED ones can be re-queued.`,
        conversion: current,
      };
    }
    try {
      await requeueJob(this.deps, uuid, row.priority);
    } catch (error) {
      this.deps.logger.warn('requeueDeadLetter: could not queue the job; the conversion stays FAILED', {
        conversionId: uuid,
        error: (error as Error).message,
      });
      await this.deps.em.nativeUpdate(
        Conversion,
        { id: uuid, status: ConversionStatus.PENDING },
        { status: ConversionStatus.FAILED, ...previous, updatedAt: new Date() },
      );
      throw UnavailableError.queue();
    }
    await this.letters.remove(uuid);
    const payload: ProgressPayload = {
      conversionId: uuid,
      userId: row.user.id,
      status: 'PENDING',
      stage: null,
      progress: 0,
      message: 'Queued again by an administrator',
      at: now.toISOString(),
      final: false,
      error: null,
    };
    await this.deps.pubsub
      .publish(topicChannel(this.deps.config.redisPrefix, Topic.CONVERSION_PROGRESS, uuid), payload)
      .catch((error: Error) => {
        this.deps.logger.warn('requeueDeadLetter: could not publish', { conversionId: uuid, error: error.message });
      });
    this.deps.logger.info('Dead letter re-queued', { conversionId: uuid, priority: row.priority, code: letter.error.code });
    return { ok: true, conversion: await this.deps.em.refreshOrFail(row) };
  }
}
