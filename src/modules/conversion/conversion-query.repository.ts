/**
 * The read-side queries on conversions: one user's conversion by id, keyset pages of their history and
 * the counts behind `totalCount` and `quota`. Every query is scoped by the owner, so another user's row
 * is indistinguishable from a missing one.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Conversion, ConversionStatus } from './conversion.entity.js';
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
  conversion: Conversion;
  cursor: HistoryCursor;
}

/** PostgreSQL's microsecond ISO text of `created_at` in UTC: the exact sort key for cursors. */
const CURSOR_CREATED_AT = `to_char("created_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export class ConversionQueryRepository {
  constructor(private readonly em: EntityManager) {}

  /** The conversion when it exists and belongs to `userId`; null otherwise (the two are not told apart). */
  findOwned(userId: string, conversionId: string): Promise<Conversion | null> {
    return this.em.findOne(Conversion, { id: conversionId, user: userId });
  }

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
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select *, ${CURSOR_CREATED_AT} as "cursor_created_at" from "conversions" where ${where.join(' and ')} order by "created_at" desc, "id" desc limit ?`,
      params,
    );
    return rows.map((row) => {
      const cursor = { createdAt: String(row.cursor_created_at), id: String(row.id) };
      delete row.cursor_created_at;
      return { conversion: this.em.map(Conversion, row), cursor };
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
