/**
 * Conversion quotas, enforced: each user may start `daily` conversions per day and `monthly` per
 * calendar month, both counted in `QUOTA_TIME_ZONE` (UTC by default). Limits come from the user's row
 * (`setUserQuota`) or, when unset, `DAILY_QUOTA` / `MONTHLY_QUOTA`.
 *
 * Life of a unit: `reserve` takes it before the upload is stored (one atomic SQL statement, see
 * quota.repository.ts); when the write path fails or rejects the input before a conversion exists,
 * `release` gives it back; once the row exists it records the periods it paid for, and `refund`
 * gives the unit back (at most once) when the conversion fails for a server-side reason or is
 * cancelled before processing.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../platform/config.js';
import { QuotaRepository, type QuotaCharge } from './quota.repository.js';

export type { QuotaCharge };

export interface QuotaWindowView {
  /** Units taken in the window (conversions started, minus the ones given back). */
  used: number;
  limit: number;
  /** `max(0, limit - used)`. */
  remaining: number;
  /** Start of the window (local midnight / first of the month in the quota time zone), as an instant. */
  windowStart: Date;
  /** When the window ends and `used` starts again from 0. */
  resetsAt: Date;
}

export interface QuotaView {
  daily: QuotaWindowView;
  monthly: QuotaWindowView;
  /** The IANA zone the windows are counted in. */
  timeZone: string;
}

export type QuotaSettings = Pick<Config, 'dailyQuota' | 'monthlyQuota'> & Partial<Pick<Config, 'quotaTimeZone'>>;

export type ReserveOutcome = { ok: true; charge: QuotaCharge } | { ok: false; view: QuotaView };

export class QuotaService {
  private readonly repository: QuotaRepository;
  private readonly timeZone: string;

  /** @param clock the current instant (injectable so tests can cross day and month boundaries). */
  constructor(
    em: EntityManager,
    private readonly settings: QuotaSettings,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.repository = new QuotaRepository(em);
    this.timeZone = settings.quotaTimeZone ?? 'UTC';
  }

  async view(userId: string): Promise<QuotaView> {
    const row = await this.repository.read(userId, this.clock(), this.timeZone, this.settings);
    const window = (used: number, limit: number, windowStart: Date, resetsAt: Date): QuotaWindowView => ({
      used,
      limit,
      remaining: Math.max(0, limit - used),
      windowStart,
      resetsAt,
    });
    return {
      daily: window(row.dayUsed, row.dailyLimit, row.dayStartsAt, row.dayResetsAt),
      monthly: window(row.monthUsed, row.monthlyLimit, row.monthStartsAt, row.monthResetsAt),
      timeZone: this.timeZone,
    };
  }

  /** Takes one unit of today and of this month, or none when either is used up (then `view` says which). */
  async reserve(userId: string): Promise<ReserveOutcome> {
    const charge = await this.repository.reserve(userId, this.clock(), this.timeZone, this.settings);
    if (charge) return { ok: true, charge };
    return { ok: false, view: await this.view(userId) };
  }

  /** Gives back a unit that no conversion holds (the write path failed before or while creating it). */
  release(userId: string, charge: QuotaCharge): Promise<void> {
    return this.repository.release(userId, charge);
  }

  /** Gives back the unit conversion `id` paid with, once. @returns whether a unit was given back. */
  refund(conversionId: string): Promise<boolean> {
    return this.repository.refundConversion(conversionId);
  }

  /** Sets a user's own limits (null = the configured default). */
  async setLimits(userId: string, daily: number | null, monthly: number | null): Promise<QuotaView> {
    await this.repository.setLimits(userId, daily, monthly);
    return this.view(userId);
  }
}

/** The message of QUOTA_EXCEEDED: which limit, and when it resets. */
export function quotaExceededMessage(view: QuotaView): string {
  const daily = view.daily.remaining <= 0;
  const window = daily ? view.daily : view.monthly;
  return `You have used all ${window.limit} conversions ${daily ? 'of today' : 'of this month'}; the quota resets at ${window.resetsAt.toISOString()}.`;
}
