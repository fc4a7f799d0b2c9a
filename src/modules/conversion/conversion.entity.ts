import { randomUUID } from 'node:crypto';
import { BigIntType, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';
import type { StageName } from '../../audio/stages.js';
import type { TimedLine } from '../../audio/quality/report.js';

/** Which queue a conversion's job waits in; HIGH jobs start before NORMAL ones, NORMAL before LOW. */
export enum ConversionPriority {
  LOW = 'LOW',
  NORMAL = 'NORMAL',
  HIGH = 'HIGH',
}

export enum ConversionStatus {
  PENDING = 'PENDING',
  PROCESSING = 'PROCESSING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** When each stage started and finished (ISO strings). */
export type StageTimestamps = Partial<Record<StageName, { startedAt: string; finishedAt?: string }>>;

/** What the uploaded file turned out to be. */
export interface InputMetadata {
  fileName: string;
  format: string;
  codec: string;
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  sizeBytes: number;
  bitrate: number | null;
  /** The melody file given with the request (stored at `storageKeys.melody`), absent when none was. */
  melody?: { fileName: string; sizeBytes: number; noteCount: number } | null;
}

/** Storage keys of the outputs plus the musical and lyrical facts of the result. */
export interface ResultData {
  files: { vocalsWav: string; vocalsCompressed: string; midi: string; musicXml: string; report: string };
  compressedFormat: string;
  lyrics: string;
  melody: { noteCount: number; phraseCount: number; key: string | null; tempoBpm: number | null; durationSeconds: number };
  lyricsInfo: { lineCount: number; syllableCount: number; genre: string; mood: string; qualityScore: number; source: string };
  /** Each lyric line with its syllables' times (karaoke); absent in results stored before it was kept. */
  timedLines?: TimedLine[];
  /** The melody's notes (seconds, float MIDI); absent in results stored before they were kept. */
  notes?: { start: number; end: number; midi: number; lowConfidence: boolean }[];
}

export interface QualityData {
  pitchAccuracy: number | null;
  lyricsQuality: number;
  integratedLufs: number | null;
  truePeakDbtp: number | null;
}

export interface ErrorData {
  code: string;
  message: string;
  retryable: boolean;
}

export interface WarningData {
  code: string;
  message: string;
  stage?: string;
}

/** One conversion request and everything known about it: the row is the truth users see. */
@Entity({ tableName: 'conversions' })
@Index({
  name: 'conversions_user_created_idx',
  expression: 'create index "conversions_user_created_idx" on "conversions" ("user_id", "created_at" desc, "id" desc)',
})
@Index({ name: 'conversions_created_idx', properties: ['createdAt'] })
@Index({ name: 'conversions_status_idx', properties: ['status'] })
@Unique({ name: 'conversions_user_idempotency_key_unique', properties: ['user', 'idempotencyKey'] })
export class Conversion {
  [OptionalProps]?:
    | 'id'
    | 'status'
    | 'stage'
    | 'progress'
    | 'stageTimestamps'
    | 'warnings'
    | 'retryCount'
    | 'createdAt'
    | 'updatedAt'
    | 'idempotencyKey'
    | 'lyrics'
    | 'seed'
    | 'result'
    | 'quality'
    | 'error'
    | 'processingMs'
    | 'startedAt'
    | 'completedAt'
    | 'attemptId'
    | 'stallCount'
    | 'priority'
    | 'reusedFrom';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Enum({ items: () => ConversionStatus, type: 'string' })
  status: ConversionStatus = ConversionStatus.PENDING;

  @Property({ type: 'string', length: 32, nullable: true })
  stage: StageName | null = null;

  /** 0..100 */
  @Property({ type: 'smallint' })
  progress = 0;

  @Property({ type: 'json' })
  stageTimestamps: StageTimestamps = {};

  @Property({ type: 'string', length: 200, nullable: true })
  idempotencyKey: string | null = null;

  @Property({ type: 'text' })
  prompt!: string;

  @Property({ type: 'string', length: 40 })
  genre!: string;

  @Property({ type: 'string', length: 40 })
  mood!: string;

  /** Lyrics the user supplied (null when the service writes them). */
  @Property({ type: 'text', nullable: true })
  lyrics: string | null = null;

  @Property({ type: 'string', length: 32 })
  voice!: string;

  /** 0..2^32-1, stored as bigint and mapped to a JS number (not a bigint). */
  @Property({ type: new BigIntType('number'), nullable: true })
  seed: number | null = null;

  /** Storage key of the uploaded file. */
  @Property({ type: 'string', length: 255 })
  inputKey!: string;

  @Property({ type: 'json' })
  input!: InputMetadata;

  @Property({ type: 'json', nullable: true })
  result: ResultData | null = null;

  @Property({ type: 'json', nullable: true })
  quality: QualityData | null = null;

  @Property({ type: 'json' })
  warnings: WarningData[] = [];

  @Property({ type: 'json', nullable: true })
  error: ErrorData | null = null;

  @Property({ type: 'smallint' })
  retryCount = 0;

  @Property({ type: 'integer', nullable: true })
  processingMs: number | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  completedAt: Date | null = null;

  /** The run holding the row (see the resilience migration); null when no run has claimed it. */
  @Property({ type: 'string', length: 36, nullable: true })
  attemptId: string | null = null;

  /** Runs that lost their worker before finishing. */
  @Property({ type: 'smallint' })
  stallCount = 0;

  @Enum({ items: () => ConversionPriority, type: 'string' })
  priority: ConversionPriority = ConversionPriority.NORMAL;

  /** The conversion whose finished result this one reused (duplicate detection), or null. */
  @Property({ type: 'uuid', nullable: true })
  reusedFrom: string | null = null;
}

/**
 * A conversion as the read side presents it: every field of the row, the owner by id only. A managed
 * {@link Conversion} is one; so is the plain object the read queries map a row to without the ORM's
 * hydration and identity map (conversion-query.repository.ts).
 */
export type ConversionRecord = Omit<Conversion, 'user' | typeof OptionalProps> & { user: { id: string } };
