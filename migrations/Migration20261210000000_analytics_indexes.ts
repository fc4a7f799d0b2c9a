import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes for the admin analytics (src/modules/stats/analytics.repository.ts), so every figure is an
 * index(-only) range scan over the window instead of a scan of the whole table:
 * - `conversions_analytics_idx`: the window aggregates (counts by status, processing-time
 *   percentiles, peak hours, top genres and moods, daily counts) read `created_at` ranges and the
 *   included columns only.
 * - `conversions_failed_code_idx`: the error breakdown reads failed rows of a window and their code.
 * - `conversions_user_stats_idx`: per-user figures (favourite genre and mood, success rate).
 * - `feedback_created_rating_idx`: rating average and distribution of feedback given in a window.
 * - `conversions_created_idx` (initial migration) is dropped: `conversions_analytics_idx` starts with the
 *   same column and serves every `created_at` range; with both, the planner picked the narrower one
 *   and fetched each row from the heap (43 ms instead of an index-only scan for 30 days of 100k rows).
 */
export class Migration20261210000000_analytics_indexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create index "conversions_analytics_idx" on "conversions" ("created_at") include ("status", "genre", "mood", "processing_ms");',
    );
    this.addSql(
      `create index "conversions_failed_code_idx" on "conversions" ("created_at", ("error"->>'code')) where "status" = 'FAILED';`,
    );
    this.addSql(
      'create index "conversions_user_stats_idx" on "conversions" ("user_id") include ("status", "genre", "mood", "processing_ms", "id");',
    );
    this.addSql('create index "feedback_created_rating_idx" on "feedback" ("created_at") include ("rating");');
    this.addSql('drop index if exists "conversions_created_idx";');
  }

  override async down(): Promise<void> {
    this.addSql('create index if not exists "conversions_created_idx" on "conversions" ("created_at");');
    this.addSql('drop index if exists "feedback_created_rating_idx";');
    this.addSql('drop index if exists "conversions_user_stats_idx";');
    this.addSql('drop index if exists "conversions_failed_code_idx";');
    this.addSql('drop index if exists "conversions_analytics_idx";');
  }
}
