/**
 * A read-only view of a user's conversion allowance: how many conversions they started in the current
 * UTC day and UTC calendar month against `DAILY_QUOTA` / `MONTHLY_QUOTA`. Every conversion created in
 * the window counts, whatever became of it (a started job used the capacity). Nothing is enforced here:
 * atomic enforcement in SQL arrives with issue 5 and should reuse these windows.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../platform/config.js';
import { ConversionQueryRepository } from '../conversion/conversion-query.repository.js';

export interface QuotaWindowView {
  /** Conversions created in the window. */
  used: number;
  limit: number;
  /** `max(0, limit - used)`. */
  remaining: number;
  /** Start of the window (UTC). */
  windowStart: Date;
  /** When the window ends and the count starts again (UTC midnight / first of next month). */
  resetsAt: Date;
}

export interface QuotaView {
  daily: QuotaWindowView;
  monthly: QuotaWindowView;
}

/** The UTC day and UTC calendar month that contain `now`. */
export function quotaWindows(now: Date): { dayStart: Date; dayEnd: Date; monthStart: Date; monthEnd: Date } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  return {
    dayStart: new Date(Date.UTC(y, m, d)),
    dayEnd: new Date(Date.UTC(y, m, d + 1)),
    monthStart: new Date(Date.UTC(y, m, 1)),
    monthEnd: new Date(Date.UTC(y, m + 1, 1)),
  };
}

export class QuotaService {
  private readonly repository: ConversionQueryRepository;

  constructor(
    em: EntityManager,
    private readonly limits: Pick<Config, 'dailyQuota' | 'monthlyQuota'>,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.repository = new ConversionQueryRepository(em);
  }

  async view(userId: string): Promise<QuotaView> {
    const windows = quotaWindows(this.clock());
    const [day, month] = await Promise.all([
      this.repository.countCreatedSince(userId, windows.dayStart),
      this.repository.countCreatedSince(userId, windows.monthStart),
    ]);
    const window = (used: number, limit: number, windowStart: Date, resetsAt: Date): QuotaWindowView => ({
      used,
      limit,
      remaining: Math.max(0, limit - used),
      windowStart,
      resetsAt,
    });
    return {
      daily: window(day, this.limits.dailyQuota, windows.dayStart, windows.dayEnd),
      monthly: window(month, this.limits.monthlyQuota, windows.monthStart, windows.monthEnd),
    };
  }
}
