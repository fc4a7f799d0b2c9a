/**
 * The read-side queries on conversions: one user's conversion by id, keyset pages of their history and
 * the counts behind `totalCount` and `quota`. Every query is scoped by the owner, so another user's row
 * is indistinguishable from a missing one.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { StageName } from '../../audio/stages.js';
import { executePrepared } from '../../platform/database.js';
import {
  Conversion,
  ConversionPriority,
  ConversionStatus,
  type ConversionRecord,
  type ErrorData,
  type InputMetadata,
  type QualityData,
  type ResultData,
  type StageTimestamps,
  type WarningData,
} from './conversion.entity.js';
import type { HistoryCursor } from './history-cursor.js';

export interface HistoryPageQuery {
  userId: string;
  /** Rows to return, 0..100 (the caller validates). */
  limit: number;
  /** Return rows strictly older than this key (exclusive). */
  after: HistoryCursor | null;
  status: ConversionStatus | null;
}

export interface HistoryRow {
  conversion: ConversionRecord;
  cursor: HistoryCursor;
}

/**
 * The columns {@link conversionFromRow} reads, listed rather than `*`: a prepared statement whose result
 * columns change under it (a migration adding one during a rolling deploy) fails until re-prepared.
 */
const CONVERSION_COLUMNS = [
  'id',
  'user_id',
  'status',
  'stage',
  'progress',
  'stage_timestamps',
  'idempotency_key',
  'prompt',
  'genre',
  'mood',
  'lyrics',
  'voice',
  'seed',
  'input_key',
  'input',
  'result',
  'quality',
  'warnings',
  'error',
  'retry_count',
  'processing_ms',
  'created_at',
  'updated_at',
  'started_at',
  'completed_at',
  'attempt_id',
  'stall_count',
  'priority',
  'reused_from',
]
  .map((column) => `"${column}"`)
  .join(', ');

/** PostgreSQL's microsecond ISO text of `created_at` in UTC: the exact sort key for cursors. */
const CURSOR_CREATED_AT = `to_char("created_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * A `conversions` row ({@link CONVERSION_COLUMNS}) as a {@link ConversionRecord}, column by column: what `em.map` gives
 * for reading, without its hydration, change-set snapshot and identity map, which cost about a third of
 * a `history(first: 20)` request's CPU (issue 16's profile) and buy nothing for a row that is only
 * presented. jsonb columns arrive parsed (pg); timestamps arrive as text (MikroORM's type parsers) and
 * are read by the platform's own date parser; `seed` is a bigint, read as a number as the entity does.
 */
function conversionFromRow(row: Record<string, unknown>, parseDate: (value: unknown) => Date): ConversionRecord {
  const date = (value: unknown): Date | null => (value === null || value === undefined ? null : parseDate(value));
  const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
  const number = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
  return {
    id: String(row.id),
    user: { id: String(row.user_id) },
    status: row.status as ConversionStatus,
    stage: text(row.stage) as StageName | null,
    progress: Number(row.progress),
    stageTimestamps: (row.stage_timestamps ?? {}) as StageTimestamps,
    idempotencyKey: text(row.idempotency_key),
    prompt: String(row.prompt),
    genre: String(row.genre),
    mood: String(row.mood),
    lyrics: text(row.lyrics),
    voice: String(row.voice),
    seed: number(row.seed),
    inputKey: String(row.input_key),
    input: row.input as InputMetadata,
    result: (row.result ?? null) as ResultData | null,
    quality: (row.quality ?? null) as QualityData | null,
    warnings: (row.warnings ?? []) as WarningData[],
    error: (row.error ?? null) as ErrorData | null,
    retryCount: Number(row.retry_count),
    processingMs: number(row.processing_ms),
    createdAt: date(row.created_at)!,
    updatedAt: date(row.updated_at)!,
    startedAt: date(row.started_at),
    completedAt: date(row.completed_at),
    attemptId: text(row.attempt_id),
    stallCount: Number(row.stall_count),
    priority: (row.priority ?? ConversionPriority.NORMAL) as ConversionPriority,
    reusedFrom: text(row.reused_from),
  };
}

export class ConversionQueryRepository {
  constructor(private readonly em: EntityManager) {}

  /** The conversion when it exists and belongs to `userId`; null otherwise (the two are not told apart). */
  findOwned(userId: string, conversionId: string): Promise<Conversion | null> {
    return this.em.findOne(Conversion, { id: conversionId, user: userId });
  }

  /** {@link findOwned} for presenting only: the row as a plain {@link ConversionRecord}, not a managed entity. */
  async findOwnedRecord(userId: string, conversionId: string): Promise<ConversionRecord | null> {
    const rows = await executePrepared<Record<string, unknown>>(
      this.em,
      'conversion-owned',
      `select ${CONVERSION_COLUMNS} from "conversions" where "id" = ? and "user_id" = ?`,
      [conversionId, userId],
    );
    return rows.length === 1 ? conversionFromRow(rows[0]!, this.parseDate) : null;
  }

  private readonly parseDate = (value: unknown): Date => this.em.getPlatform().parseDate(value as string);

  /**
   * Up to `limit` rows newest first, strictly after `after` in that order. The predicate
   * `(created_at, id) < ($1, $2)` with `ORDER BY created_at DESC, id DESC` walks the
   * `conversions_user_created_idx` index (user_id, created_at desc, id desc) from the cursor on, so a
   * page costs O(limit) whatever the history length, and rows inserted later (newer) never shift it.
   */
  async page(query: HistoryPageQuery): Promise<HistoryRow[]> {
    if (query.limit <= 0) return [];
    const where: string[] = ['"user_id" = ?'];
    const params: unknown[] = [query.userId];
    if (query.status) {
      where.push('"status" = ?');
      params.push(query.status);
    }
    if (query.after) {
      where.push('("created_at", "id") < (?::timestamptz, ?::uuid)');
      params.push(query.after.createdAt, query.after.id);
    }
    params.push(query.limit);
    // One prepared statement per shape of the filter (status or not, cursor or not).
    const rows = await executePrepared<Record<string, unknown>>(
      this.em,
      `history-page${query.status ? '-status' : ''}${query.after ? '-after' : ''}`,
      `select ${CONVERSION_COLUMNS}, ${CURSOR_CREATED_AT} as "cursor_created_at" from "conversions" where ${where.join(' and ')} order by "created_at" desc, "id" desc limit ?`,
      params,
    );
    return rows.map((row) => {
      const cursor = { createdAt: String(row.cursor_created_at), id: String(row.id) };
      delete row.cursor_created_at;
      return { conversion: conversionFromRow(row, this.parseDate), cursor };
    });
  }

  /** Whether the user has a row newer than `cursor` (under the same status filter): `hasPreviousPage`. */
  async existsBefore(userId: string, cursor: HistoryCursor, status: ConversionStatus | null): Promise<boolean> {
    const rows = await this.em.execute<{ found: boolean }[]>(
      `select exists(select 1 from "conversions" where "user_id" = ?${status ? ' and "status" = ?' : ''} and ("created_at", "id") > (?::timestamptz, ?::uuid)) as "found"`,
      status ? [userId, status, cursor.createdAt, cursor.id] : [userId, cursor.createdAt, cursor.id],
    );
    return rows[0]?.found === true;
  }

  /** How many conversions the user has (optionally in one status). */
  count(userId: string, status: ConversionStatus | null): Promise<number> {
    return this.em.count(Conversion, status ? { user: userId, status } : { user: userId });
  }

  /** How many conversions the user created at or after `since` (any status). */
  countCreatedSince(userId: string, since: Date): Promise<number> {
    return this.em.count(Conversion, { user: userId, createdAt: { $gte: since } });
  }
}
