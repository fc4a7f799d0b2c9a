import { Migration } from '@mikro-orm/migrations';

/** Users, conversions and feedback. */
export class Migration20261121000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "users" (
      "id" varchar(128) not null,
      "role" text check ("role" in ('USER', 'PARTNER', 'ADMIN')) not null default 'USER',
      "created_at" timestamptz not null default now(),
      constraint "users_pkey" primary key ("id"));`);

    this.addSql(`create table "conversions" (
      "id" uuid not null,
      "user_id" varchar(128) not null,
      "status" text check ("status" in ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED')) not null default 'PENDING',
      "stage" varchar(32) null,
      "progress" smallint not null default 0 check ("progress" between 0 and 100),
      "stage_timestamps" jsonb not null default '{}',
      "idempotency_key" varchar(200) null,
      "prompt" text not null,
      "genre" varchar(40) not null,
      "mood" varchar(40) not null,
      "lyrics" text null,
      "voice" varchar(32) not null,
      "seed" bigint null,
      "input_key" varchar(255) not null,
      "input" jsonb not null,
      "result" jsonb null,
      "quality" jsonb null,
      "warnings" jsonb not null default '[]',
      "error" jsonb null,
      "retry_count" smallint not null default 0,
      "processing_ms" int null,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now(),
      "started_at" timestamptz null,
      "completed_at" timestamptz null,
      constraint "conversions_pkey" primary key ("id"),
      constraint "conversions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade);`);
    this.addSql('create index "conversions_status_idx" on "conversions" ("status");');
    // History pages: a user's conversions newest first, ties broken by id (the cursor is (created_at, id)).
    this.addSql('create index "conversions_user_created_idx" on "conversions" ("user_id", "created_at" desc, "id" desc);');
    this.addSql('create index "conversions_created_idx" on "conversions" ("created_at");');
    this.addSql(
      'alter table "conversions" add constraint "conversions_user_idempotency_key_unique" unique ("user_id", "idempotency_key");',
    );

    this.addSql(`create table "feedback" (
      "id" uuid not null,
      "conversion_id" uuid not null,
      "rating" smallint not null check ("rating" between 1 and 5),
      "comment" text null check (char_length("comment") <= 2000),
      "favorite" boolean not null default false,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now(),
      constraint "feedback_pkey" primary key ("id"),
      constraint "feedback_conversion_unique" unique ("conversion_id"),
      constraint "feedback_conversion_id_foreign" foreign key ("conversion_id") references "conversions" ("id") on update cascade on delete cascade);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "feedback" cascade;');
    this.addSql('drop table if exists "conversions" cascade;');
    this.addSql('drop table if exists "users" cascade;');
  }
}
