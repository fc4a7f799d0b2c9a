import { Migration } from '@mikro-orm/migrations';

/**
 * Columns for issue 6 (resilience):
 * - `attempt_id`: the id of the run that holds the row now. A worker claims the row with a fresh id
 *   and every later write of that run is conditional on it, so when a stalled job is handed to
 *   another worker while the first still runs, only the newest run can finish the conversion.
 * - `stall_count`: how many runs lost their worker (crash, kill -9) before finishing; a job over
 *   `JOB_MAX_STALLS` ends FAILED instead of killing worker after worker.
 * - `priority`: LOW, NORMAL or HIGH; which queue the job waits in.
 * - `reused_from`: the conversion whose finished result this one reused (same audio bytes and options).
 * - `conversions_active_idx`: the reconciler's scan of unfinished rows by age.
 */
export class Migration20261220000000_resilience extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'alter table "conversions" add column "attempt_id" varchar(36) null, add column "stall_count" smallint not null default 0, add column "priority" text check ("priority" in (\'LOW\', \'NORMAL\', \'HIGH\')) not null default \'NORMAL\', add column "reused_from" uuid null;',
    );
    this.addSql(`create index "conversions_active_idx" on "conversions" ("updated_at") where "status" in ('PENDING', 'PROCESSING');`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "conversions_active_idx";');
    this.addSql(
      'alter table "conversions" drop column "reused_from", drop column "priority", drop column "stall_count", drop column "attempt_id";',
    );
  }
}
