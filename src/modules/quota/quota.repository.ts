/**
 * The quota's SQL. Every statement takes the moment to judge (`now`, an ISO instant, so tests can move
 * the clock) and the IANA time zone whose local midnights and first days of the month start the
 * periods; PostgreSQL computes the periods (`(now AT TIME ZONE tz)::date`, `date_trunc('month', …)`),
 * so the check and the count never disagree about which day it is.
 *
 * One row per user in `quota_counters` holds the current day's and month's use. A reservation is ONE
 * statement: `INSERT … ON CONFLICT (user_id) DO UPDATE … WHERE day_used < daily AND month_used <
 * monthly`. PostgreSQL locks the row and re-evaluates the WHERE on its newest version, so concurrent
 * reservations are serialised on the row and can never take more than the limits allow; a counter
 * from an earlier period counts as 0 and is restarted by the same statement (day and month rollover).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { executePrepared } from '../../platform/database.js';

export interface QuotaLimitsDefaults {
  dailyQuota: number;
  monthlyQuota: number;
}

/** The periods a unit was charged to: local dates `YYYY-MM-DD` in the quota time zone. */
export interface QuotaCharge {
  day: string;
  month: string;
}

export interface QuotaRow {
  dailyLimit: number;
  monthlyLimit: number;
  dayUsed: number;
  monthUsed: number;
  dayStartsAt: Date;
  dayResetsAt: Date;
  monthStartsAt: Date;
  monthResetsAt: Date;
}

/** The CTE `p` with the current local day and month for bindings (now, tz, now, tz). */
const PERIODS = `p as (
  select (?::timestamptz at time zone ?)::date as day,
         date_trunc('month', ?::timestamptz at time zone ?)::date as month
)`;

/** The statement of {@link QuotaRepository.read} (run prepared: it is on every `quota` request). */
const READ_SQL = `with ${PERIODS}
       select coalesce(u."daily_quota", ?) as daily_limit,
              coalesce(u."monthly_quota", ?) as monthly_limit,
              case when q."day_start" = p.day then q."day_used" else 0 end as day_used,
              case when q."month_start" = p.month then q."month_used" else 0 end as month_used,
              (p.day::timestamp at time zone ?) as day_starts_at,
              ((p.day + 1)::timestamp at time zone ?) as day_resets_at,
              (p.month::timestamp at time zone ?) as month_starts_at,
              ((p.month + interval '1 month')::timestamp at time zone ?) as month_resets_at
       from p left join "users" u on u."id" = ? left join "quota_counters" q on q."user_id" = ?`;

export class QuotaRepository {
  constructor(private readonly em: EntityManager) {}

  /**
   * Takes one unit of the day and of the month, atomically, when both have one left.
   * @returns the periods charged, or null when a limit is reached.
   */
  async reserve(userId: string, now: Date, timeZone: string, defaults: QuotaLimitsDefaults): Promise<QuotaCharge | null> {
    const at = now.toISOString();
    const rows = await this.em.execute<{ day: string; month: string }[]>(
      `with ${PERIODS}, lim as (
         select coalesce((select "daily_quota" from "users" where "id" = ?), ?) as d,
                coalesce((select "monthly_quota" from "users" where "id" = ?), ?) as m
       )
       insert into "quota_counters" as q ("user_id", "day_start", "day_used", "month_start", "month_used")
       select ?, p.day, 1, p.month, 1 from p, lim where lim.d >= 1 and lim.m >= 1
       on conflict ("user_id") do update set
         "day_used" = case when q."day_start" = excluded."day_start" then q."day_used" + 1 else 1 end,
         "day_start" = excluded."day_start",
         "month_used" = case when q."month_start" = excluded."month_start" then q."month_used" + 1 else 1 end,
         "month_start" = excluded."month_start"
       where (case when q."day_start" = excluded."day_start" then q."day_used" else 0 end) < (select d from lim)
         and (case when q."month_start" = excluded."month_start" then q."month_used" else 0 end) < (select m from lim)
       returning q."day_start"::text as day, q."month_start"::text as month`,
      [at, timeZone, at, timeZone, userId, defaults.dailyQuota, userId, defaults.monthlyQuota, userId],
    );
    return rows.length === 1 ? { day: rows[0].day, month: rows[0].month } : null;
  }

  /**
   * Gives back a unit charged to `charge` (only to the periods that are still current in the counter:
   * a unit of yesterday is not returned to today). Never below 0.
   */
  async release(userId: string, charge: QuotaCharge): Promise<void> {
    await this.em.execute(
      `update "quota_counters" q set
         "day_used" = case when q."day_start" = ?::date then greatest(q."day_used" - 1, 0) else q."day_used" end,
         "month_used" = case when q."month_start" = ?::date then greatest(q."month_used" - 1, 0) else q."month_used" end
       where q."user_id" = ?`,
      [charge.day, charge.month, userId],
    );
  }

  /** Records on the conversion which periods paid for it (so a later refund finds them). */
  async attach(conversionId: string, charge: QuotaCharge): Promise<void> {
    await this.em.execute('update "conversions" set "quota_day" = ?::date, "quota_month" = ?::date where "id" = ?', [
      charge.day,
      charge.month,
      conversionId,
    ]);
  }

  /**
   * Gives back the unit a conversion paid with, at most once (the `quota_refunded` flag is claimed in
   * the same statement). @returns whether a unit was given back.
   */
  async refundConversion(conversionId: string): Promise<boolean> {
    const rows = await this.em.execute<{ user_id: string }[]>(
      `with c as (
         update "conversions" set "quota_refunded" = true
         where "id" = ? and "quota_day" is not null and "quota_refunded" = false
         returning "user_id", "quota_day", "quota_month"
       )
       update "quota_counters" q set
         "day_used" = case when q."day_start" = c."quota_day" then greatest(q."day_used" - 1, 0) else q."day_used" end,
         "month_used" = case when q."month_start" = c."quota_month" then greatest(q."month_used" - 1, 0) else q."month_used" end
       from c where q."user_id" = c."user_id"
       returning q."user_id"`,
      [conversionId],
    );
    return rows.length > 0;
  }

  /** Sets a user's own limits (null: back to the defaults); creates the user row when missing. */
  async setLimits(userId: string, daily: number | null, monthly: number | null): Promise<void> {
    await this.em.execute(
      `insert into "users" ("id", "daily_quota", "monthly_quota") values (?, ?, ?)
       on conflict ("id") do update set "daily_quota" = excluded."daily_quota", "monthly_quota" = excluded."monthly_quota"`,
      [userId, daily, monthly],
    );
  }

  /** Limits, use in the current periods and their bounds as instants. */
  async read(userId: string, now: Date, timeZone: string, defaults: QuotaLimitsDefaults): Promise<QuotaRow> {
    const at = now.toISOString();
    const rows = await executePrepared<Record<string, unknown>>(this.em, 'quota-read', READ_SQL, [
      at,
      timeZone,
      at,
      timeZone,
      defaults.dailyQuota,
      defaults.monthlyQuota,
      timeZone,
      timeZone,
      timeZone,
      timeZone,
      userId,
      userId,
    ]);
    const row = rows[0];
    return {
      dailyLimit: Number(row.daily_limit),
      monthlyLimit: Number(row.monthly_limit),
      dayUsed: Number(row.day_used),
      monthUsed: Number(row.month_used),
      dayStartsAt: new Date(row.day_starts_at as string | Date),
      dayResetsAt: new Date(row.day_resets_at as string | Date),
      monthStartsAt: new Date(row.month_starts_at as string | Date),
      monthResetsAt: new Date(row.month_resets_at as string | Date),
    };
  }
}
