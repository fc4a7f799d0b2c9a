/**
 * The queries one worker *attempt* runs on its conversion row (see src/worker/conversion.processor.ts):
 * the claim, and the writes that are conditional on the row still being PROCESSING under this attempt
 * (progress, completion, reset to PENDING, failure) or still open (cancel). Each write returns the
 * number of rows it changed: 0 means the row was cancelled or taken by a newer attempt, which the
 * caller tells apart with {@link ConversionAttemptsRepository.readState}.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { StageName } from '../../audio/stages.js';
import {
  Conversion,
  ConversionStatus,
  type ErrorData,
  type QualityData,
  type ResultData,
  type StageTimestamps,
  type WarningData,
} from './conversion.entity.js';

/** What the claim found and did. */
export interface AttemptClaim {
  previousStatus: ConversionStatus;
  /** The attempt that held the row before, or null. */
  previousAttempt: string | null;
  /** The row's stall count after the claim. */
  stallCount: number;
  /** True when another attempt held the row PROCESSING (it lost its worker): a stall was counted. */
  stalled: boolean;
}

/** The row's data for a completed attempt. */
export interface Completion {
  result: ResultData;
  quality: QualityData | null;
  warnings: WarningData[];
  /** The conversion whose result was reused (duplicate detection), or null when this attempt computed it. */
  reusedFrom: string | null;
}

/** An attempt's progress as written to its row. */
export interface ProgressWrite {
  stage: StageName;
  progress: number;
  stageTimestamps: StageTimestamps;
  updatedAt: Date;
}

/** How an attempt ended, as written to its row with the completion or the failure. */
export interface AttemptEnd {
  stageTimestamps: StageTimestamps;
  processingMs: number;
  completedAt: Date;
}

/** A COMPLETED (or not) conversion's stored result, as read for reuse. */
export interface StoredResult {
  status: ConversionStatus;
  result: ResultData | null;
  quality: QualityData | null;
  warnings: WarningData[];
}

export class ConversionAttemptsRepository {
  constructor(private readonly em: EntityManager) {}

  /** The conversion a job names, or null. */
  find(conversionId: string): Promise<Conversion | null> {
    return this.em.findOne(Conversion, { id: conversionId }, { populate: [] });
  }

  /**
   * The claim: one statement that takes a PENDING or PROCESSING row for `attemptId` and counts a
   * stall when another attempt held it PROCESSING (unless that attempt is `released`: it handed the
   * job back itself). @returns null when the row was neither.
   */
  async claim(
    conversionId: string,
    attemptId: string,
    released: string | null,
    stage: StageName,
    stageTimestamps: StageTimestamps,
    startedAt: Date,
  ): Promise<AttemptClaim | null> {
    const at = startedAt.toISOString();
    const rows = await this.em
      .getConnection()
      .execute<{ previous_status: ConversionStatus; previous_attempt: string | null; stall_count: number; stalled: boolean }[]>(
        `update "conversions" c set
         "status" = 'PROCESSING', "attempt_id" = ?, "stall_count" = c."stall_count" + (case when o."stalled" then 1 else 0 end),
         "stage" = ?, "progress" = 0, "stage_timestamps" = ?::jsonb, "started_at" = ?, "completed_at" = null, "error" = null, "updated_at" = ?
       from (
         select "id", "status", "attempt_id", ("status" = 'PROCESSING' and "attempt_id" is not null and "attempt_id" is distinct from ?) as "stalled"
         from "conversions" where "id" = ? and "status" in ('PENDING', 'PROCESSING') for update
       ) o
       where c."id" = o."id"
       returning o."status" as "previous_status", o."attempt_id" as "previous_attempt", c."stall_count" as "stall_count", o."stalled" as "stalled"`,
        [attemptId, stage, JSON.stringify(stageTimestamps), at, at, released, conversionId],
      );
    const row = rows[0];
    if (!row) return null;
    return {
      previousStatus: row.previous_status,
      previousAttempt: row.previous_attempt,
      stallCount: Number(row.stall_count),
      stalled: row.stalled === true,
    };
  }

  /** The row's status and holder as they are in the database now (never the identity map's copy). */
  async readState(conversionId: string): Promise<{ status: ConversionStatus; attemptId: string | null } | null> {
    const rows = await this.em
      .getConnection()
      .execute<{ status: ConversionStatus; attempt_id: string | null }[]>(
        'select "status", "attempt_id" from "conversions" where "id" = ?',
        [conversionId],
      );
    return rows[0] ? { status: rows[0].status, attemptId: rows[0].attempt_id } : null;
  }

  /** Writes the attempt's progress. */
  writeProgress(conversionId: string, attemptId: string, data: ProgressWrite): Promise<number> {
    return this.em.nativeUpdate(Conversion, this.held(conversionId, attemptId), data);
  }

  /** Ends the row COMPLETED with `completion`. */
  complete(conversionId: string, attemptId: string, completion: Completion, ended: AttemptEnd): Promise<number> {
    return this.em.nativeUpdate(Conversion, this.held(conversionId, attemptId), {
      status: ConversionStatus.COMPLETED,
      stage: 'FINALIZATION',
      progress: 100,
      stageTimestamps: ended.stageTimestamps,
      result: completion.result,
      quality: completion.quality,
      warnings: completion.warnings,
      reusedFrom: completion.reusedFrom,
      error: null,
      processingMs: ended.processingMs,
      completedAt: ended.completedAt,
      updatedAt: ended.completedAt,
    });
  }

  /**
   * Puts the row back to PENDING for the queue to run again: with `retry`, a counted retry that keeps
   * its error as the reason; without, a hand-back (the worker shut down) that counts nothing.
   */
  resetToPending(conversionId: string, attemptId: string, retry?: { retryCount: number; error: ErrorData }): Promise<number> {
    const reset = { status: ConversionStatus.PENDING, stage: null, progress: 0, updatedAt: new Date() };
    return this.em.nativeUpdate(
      Conversion,
      this.held(conversionId, attemptId),
      retry ? { ...reset, retryCount: retry.retryCount, error: retry.error } : reset,
    );
  }

  /** Ends the row FAILED with `error`. */
  fail(conversionId: string, attemptId: string, error: ErrorData, ended: AttemptEnd): Promise<number> {
    return this.em.nativeUpdate(Conversion, this.held(conversionId, attemptId), {
      status: ConversionStatus.FAILED,
      error,
      stageTimestamps: ended.stageTimestamps,
      processingMs: ended.processingMs,
      completedAt: ended.completedAt,
      updatedAt: ended.completedAt,
    });
  }

  /** Ends the row CANCELLED while it is still PENDING or PROCESSING under this attempt. */
  cancel(conversionId: string, attemptId: string, error: ErrorData, at: Date): Promise<number> {
    return this.em.nativeUpdate(
      Conversion,
      { id: conversionId, attemptId, status: { $in: [ConversionStatus.PENDING, ConversionStatus.PROCESSING] } },
      { status: ConversionStatus.CANCELLED, error, completedAt: at, updatedAt: at },
    );
  }

  /** The stored result of conversion `sourceId` of user `userId` (reuse never crosses users), or null. */
  async findStoredResult(sourceId: string, userId: string): Promise<StoredResult | null> {
    const rows = await this.em
      .getConnection()
      .execute<StoredResult[]>('select "status", "result", "quality", "warnings" from "conversions" where "id" = ? and "user_id" = ?', [
        sourceId,
        userId,
      ]);
    return rows[0] ?? null;
  }

  /** The condition of every write of an attempt: the row is PROCESSING under it. */
  private held(conversionId: string, attemptId: string) {
    return { id: conversionId, status: ConversionStatus.PROCESSING, attemptId };
  }
}
