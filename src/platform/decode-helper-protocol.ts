/**
 * The messages between an API process and its decode helper (decode-helper.ts ↔
 * decode-helper-process.ts), JSON over the IPC channel of `child_process.fork`.
 *
 * helper → API: `ready` once it listens; then one `result` per `check`.
 * API → helper: `init` (once, after `ready`), `check`, `cancel` (the job's ffmpeg is killed and the job
 * answers ABORTED).
 */
import type { Config } from './config.js';
import type { SerializedError, UploadCheckJob, UploadCheckResult } from './upload-check.js';

/** What the helper needs to know of the API's configuration. */
export type HelperSettings = Pick<Config, 'storageBackend' | 'storageDir' | 's3'> & {
  /** ffmpeg's own time limit per file, ms (its DECODE_TIMEOUT error). */
  ffmpegTimeoutMs: number;
};

export type ToHelper =
  { type: 'init'; settings: HelperSettings } | { type: 'check'; id: number; job: UploadCheckJob } | { type: 'cancel'; id: number };

export type FromHelper =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true; result: UploadCheckResult }
  | { type: 'result'; id: number; ok: false; error: SerializedError };
