import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 5: enforced quotas and API keys.
 * - `users.daily_quota` / `users.monthly_quota`: per-user limits; null = the configured default.
 * - `quota_counters`: one row per user with the current day's and month's usage and the period each
 *   count belongs to (local dates in QUOTA_TIME_ZONE). No foreign key to users: a unit is reserved
 *   before the user's first conversion row (and user row) exists. The reservation is one
 *   `INSERT … ON CONFLICT DO UPDATE … WHERE` on this row (src/modules/quota/quota.repository.ts).
 * - `conversions.quota_day` / `quota_month` / `quota_refunded`: which periods a conversion was
 *   charged to, and whether its unit was given back (refunds happen at most once).
 * - `api_keys`: partner keys, stored as SHA-256 of the secret, looked up by their public prefix.
 */
export class Migration20261201000000_quotas_api_keys extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'alter table "users" add column "daily_quota" int null check ("daily_quota" >= 0), add column "monthly_quota" int null check ("monthly_quota" >= 0);',
    );
    this.addSql(`create table "quota_counters" (
      "user_id" varchar(128) not null,
      "day_start" date not null,
      "day_used" int not null default 0 check ("day_used" >= 0),
      "month_start" date not null,
      "month_used" int not null default 0 check ("month_used" >= 0),
      constraint "quota_counters_pkey" primary key ("user_id"));`);
    this.addSql(
      'alter table "conversions" add column "quota_day" date null, add column "quota_month" date null, add column "quota_refunded" boolean not null default false;',
    );
    this.addSql(`create table "api_keys" (
      "id" uuid not null,
      "user_id" varchar(128) not null,
      "role" text check ("role" in ('USER', 'PARTNER', 'ADMIN')) not null default 'PARTNER',
      "name" varchar(100) not null,
      "prefix" varchar(32) not null,
      "key_hash" char(64) not null,
      "created_at" timestamptz not null default now(),
      "last_used_at" timestamptz null,
      "revoked_at" timestamptz null,
      constraint "api_keys_pkey" primary key ("id"),
      constraint "api_keys_prefix_unique" unique ("prefix"),
      constraint "api_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "api_keys" cascade;');
    this.addSql(
      'alter table "conversions" drop column if exists "quota_day", drop column if exists "quota_month", drop column if exists "quota_refunded";',
    );
    this.addSql('drop table if exists "quota_counters" cascade;');
    this.addSql('alter table "users" drop column if exists "daily_quota", drop column if exists "monthly_quota";');
  }
}
