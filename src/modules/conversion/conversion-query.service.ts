/**
 * Reading conversions: one by id, the history connection and `node(id)`. Every read is scoped to the
 * caller, and an id that is malformed, missing or someone else's gives the same answer (null), so ids
 * leak nothing about other users.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { BadUserInputError } from '../../platform/api-errors.js';
import { conversionUuidFromId, fromGlobalId } from '../node/global-id.js';
import type { ConversionRecord, ConversionStatus } from './conversion.entity.js';
import { ConversionQueryRepository } from './conversion-query.repository.js';
import { decodeHistoryCursor, encodeHistoryCursor } from './history-cursor.js';

/** Default and largest page size of `history`. */
export const HISTORY_DEFAULT_PAGE = 20;
export const HISTORY_MAX_PAGE = 100;

export interface HistoryArgs {
  /** Page size, 0..{@link HISTORY_MAX_PAGE}; default {@link HISTORY_DEFAULT_PAGE}. */
  first?: number | null;
  /** The `endCursor` of the previous page; null or absent for the newest page. */
  after?: string | null;
  /** Only conversions in this status. */
  status?: ConversionStatus | null;
}

export interface HistoryPage {
  edges: { cursor: string; node: ConversionRecord }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** Conversions matching the filter across all pages (counted only when asked for). */
  totalCount: () => Promise<number>;
}

/** A `history` argument out of range (`reason` `INVALID_FIRST`) or a cursor we did not issue (`INVALID_CURSOR`). */
export class HistoryArgumentError extends BadUserInputError {
  constructor(reason: 'INVALID_FIRST' | 'INVALID_CURSOR', message: string) {
    super(message, { reason });
  }
}

export class ConversionQueryService {
  private readonly repository: ConversionQueryRepository;

  constructor(em: EntityManager) {
    this.repository = new ConversionQueryRepository(em);
  }

  /** The caller's conversion named by a global id or a raw UUID; null when missing or not theirs. */
  async findOwned(userId: string, id: string): Promise<ConversionRecord | null> {
    const uuid = conversionUuidFromId(id);
    return uuid ? this.repository.findOwnedRecord(userId, uuid) : null;
  }

  /** `node(id)`: only global ids are accepted here (Relay); null for anything else. */
  async node(userId: string, globalId: string): Promise<ConversionRecord | null> {
    const decoded = fromGlobalId(globalId);
    if (decoded?.type !== 'Conversion') return null;
    return this.findOwned(userId, globalId);
  }

  /**
   * One page of the caller's history, newest first (`created_at DESC, id DESC`).
   * @throws HistoryArgumentError when `first` is outside 0..100 (rejected rather than clamped, so a
   *   client asking for 500 learns it gets 100 a page instead of silently missing rows) or `after` is not
   *   a cursor this server issued.
   */
  async history(userId: string, args: HistoryArgs): Promise<HistoryPage> {
    const first = args.first ?? HISTORY_DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 0 || first > HISTORY_MAX_PAGE) {
      throw new HistoryArgumentError('INVALID_FIRST', `"first" must be a whole number from 0 to ${HISTORY_MAX_PAGE}, got ${first}.`);
    }
    const after = args.after == null || args.after === '' ? null : decodeHistoryCursor(args.after);
    if (args.after && !after) throw new HistoryArgumentError('INVALID_CURSOR', '"after" is not a cursor of this connection.');
    const status = args.status ?? null;
    // One row more than asked tells whether another page follows, without a count.
    const rows = await this.repository.page({ userId, limit: first + 1, after, status });
    const hasNextPage = rows.length > first;
    const edges = rows.slice(0, first).map((row) => ({ cursor: encodeHistoryCursor(row.cursor), node: row.conversion }));
    const hasPreviousPage = after ? await this.repository.existsBefore(userId, after, status) : false;
    let total: Promise<number> | null = null;
    return {
      edges,
      pageInfo: {
        hasNextPage,
        hasPreviousPage,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      totalCount: () => (total ??= this.repository.count(userId, status)),
    };
  }
}
