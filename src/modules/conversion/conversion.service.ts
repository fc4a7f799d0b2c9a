/**
 * `convertMelody`, the write path: check the request, stream the upload into storage under a size cap,
 * validate it with the analysis engine, create the row and queue the job. Bad input of any kind comes
 * back as `userErrors` with stable codes and leaves no row, no job and no file behind.
 *
 * Order of work (each step runs only when the previous ones passed):
 * 1. idempotency key format; a (user, key) seen before returns that conversion as it is now, whatever
 *    else this request carries (like a retried HTTP POST, the key names the first request);
 * 2. the text fields (`validateRequest` from the pipeline) and the priority (HIGH only for PARTNER and
 *    ADMIN callers, else PRIORITY_NOT_ALLOWED);
 * 2b. the quota: one unit of the day and of the month is reserved atomically (quota.service.ts); none
 *    left → QUOTA_EXCEEDED with the reset time. From here on any failure or rejection gives the unit
 *    back before returning, so only a queued conversion keeps it;
 * 3. the upload, streamed to `conversions/<id>/input` with `MAX_UPLOAD_BYTES` counted on the way
 *    (memory holds one chunk at a time), then checked by the decode helper process
 *    (platform/decode-helper.ts: it reads the file back and runs `validateAndDecode` with the ffmpeg
 *    decoder, the same checks the worker's pipeline starts with, so this event loop never waits on a
 *    decode or on ffmpeg's start; `DECODE_HELPER=inline` does it here, in 10 ms slices); at most
 *    DECODE_CONCURRENCY checks at once per process, DECODE_SLOTS_PER_USER per user; an optional `melody` file
 *    (MIDI or MusicXML, at most `MAX_MELODY_BYTES`, conversion-upload.ts) is read alongside (whatever the order of the
 *    parts), checked with `readMelodyFile` and stored at `conversions/<id>/melody`;
 * 4. one transaction: the user row if missing, the PENDING conversion. A concurrent request with the
 *    same idempotency key loses on the unique constraint and returns the winner's conversion;
 * 5. the Bee-Queue job (id = conversion id, so it can never be queued twice) in the queue of the
 *    row's priority, committed row first so the worker always finds it. When queueing fails the row and the file are removed again and the
 *    caller gets SERVICE_UNAVAILABLE (retryable).
 */
import { randomUUID } from 'node:crypto';
import type { FileUpload } from 'graphql-upload-minimal';
import { RateLimiter } from '../../platform/rate-limiter.js';
import { DecodeSlots } from './decode-slots.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { validateRequest, type CleanRequest, type RequestText } from '../../audio/validate/request.js';
import { readMelodyFile } from '../../audio/score/melody-file.js';
import type { CompressedDecoder } from '../../audio/decode/decode.js';
import { AppError, ValidationError } from '../../audio/errors.js';
import { QuotaExceededError, UnavailableError, userErrorOf, type UserErrorData } from '../../platform/api-errors.js';
import { createFfmpegDecoder } from '../../platform/ffmpeg-decoder.js';
import { inlineUploadChecker, type UploadChecker } from '../../platform/upload-check.js';
import type { AuthUser } from '../../platform/auth.js';
import { Role } from '../user/user.entity.js';
import type { Logger } from '../../platform/logger.js';
import type { Services } from '../../platform/services.js';
import { enqueueConversion, jobPolicy, storageKeys } from './conversion-job.js';
import { ConversionPriority, type Conversion, type InputMetadata, type WarningData } from './conversion.entity.js';
import { ConversionRepository, IdempotencyConflictError } from './conversion.repository.js';
import { QuotaService, quotaExceededMessage, type QuotaCharge, type QuotaView } from '../quota/quota.service.js';
import { fileTooLarge, httpStatusOf, MAX_MELODY_BYTES, readMelodyUpload, receiveUpload, sanitizeFileName } from './conversion-upload.js';
import { userErrorsFrom } from './conversion-user-errors.js';

/** The pipeline's request as the API receives it: uploads instead of bytes, plus how to queue it. */
export type ConvertMelodyRequest = RequestText & {
  audio: Promise<FileUpload> | null | undefined;
  /** A melody file (MIDI or MusicXML) to sing instead of the transcription. */
  melody?: Promise<FileUpload> | null;
  idempotencyKey?: string | null;
  /** Default NORMAL; HIGH only for PARTNER and ADMIN callers. */
  priority?: ConversionPriority | null;
};

/** Roles that may ask for HIGH priority. */
const HIGH_PRIORITY_ROLES: ReadonlySet<Role> = new Set([Role.PARTNER, Role.ADMIN]);

export type ConvertMelodyOutcome =
  | { ok: true; conversion: Conversion; warnings: WarningData[]; estimatedSeconds: number; reused: boolean }
  | { ok: false; userErrors: UserErrorData[]; quota?: QuotaView };

/** Longest idempotency key (the column is varchar(200)). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** How long queueing may take before the request gives up (Redis away). */
const ENQUEUE_TIMEOUT_MS = 10_000;

/**
 * Decodes running at once for one API process (in its decode helper). Validation decodes the whole
 * recording (up to 5 min: ~50–120 MB of float samples), so concurrent uploads wait here rather than
 * multiply that.
 */
const DECODE_CONCURRENCY = 2;
/** Decodes one user may run at once in one API process (decode-slots.ts): the other slot stays for others. */
const DECODE_SLOTS_PER_USER = 1;
/**
 * Rate-limit units an upload refused after decoding costs its user (on top of the operation's 1): a
 * refusal can take seconds of decoding, so a user who keeps sending such files reaches
 * RATE_LIMIT_PER_MINUTE after ~RATE_LIMIT_PER_MINUTE / 10 of them.
 */
export const DECODE_REFUSAL_COST = 10;

/**
 * Rough time to completion once a worker starts: 5 s of fixed cost (queue, decoding, encoding,
 * storing) plus 0.1 s per second of recording, rounded up. Generous on the measured pipeline (which
 * runs well above 10× real time on one core), so clients are rarely told too little.
 */
export function estimateSeconds(recordingSeconds: number): number {
  return Math.ceil(5 + 0.1 * Math.max(0, recordingSeconds));
}

export class ConversionService {
  private readonly checker: UploadChecker;
  private readonly decodeSlots = new DecodeSlots(DECODE_CONCURRENCY, DECODE_SLOTS_PER_USER);
  private readonly rateLimiter: RateLimiter;
  /** The instant quotas are judged at (injectable for tests crossing day and month boundaries). */
  readonly clock: () => Date;

  constructor(
    private readonly services: Services,
    options: { decoder?: CompressedDecoder; clock?: () => Date } = {},
  ) {
    // The decode helper process when the services run one (DECODE_HELPER=process), else this process.
    this.checker =
      options.decoder || !services.uploadChecker
        ? inlineUploadChecker(services.storage, options.decoder ?? createFfmpegDecoder())
        : services.uploadChecker;
    this.rateLimiter = new RateLimiter(services.redis, services.config.redisPrefix, services.config.rateLimitPerMinute);
    this.clock = options.clock ?? (() => new Date());
  }

  /** The quota service for `em` with this service's settings and clock. */
  quota(em: EntityManager): QuotaService {
    return new QuotaService(em, this.services.config, this.clock);
  }

  async convertMelody(em: EntityManager, user: AuthUser, request: ConvertMelodyRequest, logger: Logger): Promise<ConvertMelodyOutcome> {
    const repository = new ConversionRepository(em);
    const early = await this.precheck(repository, user, request);
    if (early.done) return early.outcome;
    const quota = this.quota(em);
    const reservation = await quota.reserve(user.id);
    if (!reservation.ok) {
      return {
        ok: false,
        userErrors: [userErrorOf(new QuotaExceededError(quotaExceededMessage(reservation.view)))],
        quota: reservation.view,
      };
    }
    let kept = false;
    try {
      const outcome = await this.store(em, repository, user, request, early.clean, early.priority, reservation.charge, logger);
      kept = outcome.ok && !outcome.reused;
      return outcome;
    } finally {
      if (!kept) {
        await quota
          .release(user.id, reservation.charge)
          .catch((error: Error) => logger.error('Could not give a quota unit back', { error: error.message }));
      }
    }
  }

  /** Steps 1 and 2: an idempotent replay or bad text ends the request before any quota is taken. */
  private async precheck(
    repository: ConversionRepository,
    user: AuthUser,
    request: ConvertMelodyRequest,
  ): Promise<{ done: true; outcome: ConvertMelodyOutcome } | { done: false; clean: CleanRequest; priority: ConversionPriority }> {
    // 1. Idempotency.
    const idempotencyKey = request.idempotencyKey ?? null;
    if (
      idempotencyKey !== null &&
      (idempotencyKey.length < 1 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH || /[\p{Cc}]/u.test(idempotencyKey))
    ) {
      return {
        done: true,
        outcome: {
          ok: false,
          userErrors: [
            {
              code: 'INVALID_IDEMPOTENCY_KEY',
              field: 'idempotencyKey',
              message: `The idempotency key must be 1–${MAX_IDEMPOTENCY_KEY_LENGTH} characters without control characters.`,
            },
          ],
        },
      };
    }
    if (idempotencyKey !== null) {
      const existing = await repository.findByIdempotencyKey(user.id, idempotencyKey);
      if (existing) return { done: true, outcome: this.reused(existing) };
    }

    // 2. Text fields and priority.
    const priority = request.priority ?? ConversionPriority.NORMAL;
    if (priority === ConversionPriority.HIGH && !HIGH_PRIORITY_ROLES.has(user.role)) {
      return {
        done: true,
        outcome: {
          ok: false,
          userErrors: [
            {
              code: 'PRIORITY_NOT_ALLOWED',
              field: 'priority',
              message: 'HIGH priority is for partner integrations and administrators; use NORMAL or LOW.',
            },
          ],
        },
      };
    }
    try {
      const clean = validateRequest({
        prompt: request.prompt,
        genre: request.genre,
        mood: request.mood,
        lyrics: request.lyrics,
        voice: request.voice,
        seed: request.seed,
      });
      return { done: false, clean, priority };
    } catch (error) {
      if (error instanceof ValidationError) return { done: true, outcome: { ok: false, userErrors: userErrorsFrom(error, null) } };
      throw error;
    }
  }

  /** Steps 3–5, holding a reserved quota unit. */
  private async store(
    em: EntityManager,
    repository: ConversionRepository,
    user: AuthUser,
    request: ConvertMelodyRequest,
    clean: CleanRequest,
    priority: ConversionPriority,
    charge: QuotaCharge,
    logger: Logger,
  ): Promise<ConvertMelodyOutcome> {
    const idempotencyKey = request.idempotencyKey ?? null;

    // 3. The upload. The melody part is read at once, whatever the order of the parts: the parser
    // cannot reach a later part while an earlier one waits unread.
    const melodyUpload = request.melody ? readMelodyUpload(request.melody, MAX_MELODY_BYTES) : null;
    let file: FileUpload;
    try {
      if (!request.audio) throw new Error('no file');
      file = await request.audio;
    } catch (error) {
      logger.debug('convertMelody: no file in the request', { error: (error as Error).message });
      await melodyUpload;
      return {
        ok: false,
        userErrors: [
          {
            code: 'NO_FILE',
            field: 'audio',
            message: 'The request carries no audio file: send it as the `audio` part of a multipart request.',
          },
        ],
      };
    }
    const id = randomUUID();
    const inputKey = storageKeys.input(id);
    const fileName = sanitizeFileName(file.filename);
    const storage = this.services.storage;
    const removeFiles = () =>
      storage
        .deletePrefix(storageKeys.dir(id))
        .catch((error: Error) => logger.warn('Could not remove upload', { conversionId: id, error: error.message }));
    let input: InputMetadata;
    let warnings: WarningData[];
    try {
      const sizeBytes = await receiveUpload(storage, file, inputKey, this.services.config.maxUploadBytes).catch(async (error: unknown) => {
        await melodyUpload;
        throw error;
      });
      this.services.metrics?.storageBytesWritten.inc({ kind: 'input' }, sizeBytes);
      const checked = await this.decodeSlots.run(user.id, async () => {
        try {
          return await this.checker.check({ key: inputKey, fileName, maxFileBytes: this.services.config.maxUploadBytes });
        } catch (error) {
          // A file that crashes the checker costs its user like a refused one: it cost a process start.
          if (error instanceof ValidationError || (error instanceof AppError && error.reason === 'DECODE_HELPER_CRASHED'))
            await this.chargeRefusal(user.id, logger);
          throw error;
        }
      });
      input = {
        fileName,
        format: checked.format,
        codec: checked.codec,
        durationSeconds: Math.round(checked.seconds * 1000) / 1000,
        sampleRate: checked.sampleRate,
        channels: checked.channels,
        sizeBytes,
        bitrate: checked.bitrate === null ? null : Math.round(checked.bitrate),
      };
      warnings = checked.warnings.map((issue) => ({ code: issue.code, message: issue.message, stage: 'VALIDATION' }));
      if (melodyUpload) {
        const melody = await melodyUpload;
        if (!melody.ok) {
          await removeFiles();
          return { ok: false, userErrors: [melody.userError] };
        }
        let noteCount: number;
        try {
          noteCount = readMelodyFile(melody.bytes).notes.length;
        } catch (error) {
          if (error instanceof ValidationError) {
            await removeFiles();
            return { ok: false, userErrors: userErrorsFrom(error, 'melody') };
          }
          throw error;
        }
        await storage.write(storageKeys.melody(id), melody.bytes);
        input.melody = { fileName: melody.fileName, sizeBytes: melody.bytes.length, noteCount };
      }
    } catch (error) {
      await removeFiles();
      if (error instanceof ValidationError) return { ok: false, userErrors: userErrorsFrom(error, 'audio') };
      if (httpStatusOf(error) === 413)
        return { ok: false, userErrors: userErrorsFrom(fileTooLarge(this.services.config.maxUploadBytes), 'audio') };
      if (httpStatusOf(error) !== undefined) {
        return {
          ok: false,
          userErrors: [
            { code: 'UPLOAD_INTERRUPTED', field: 'audio', message: 'The upload did not arrive completely; please send it again.' },
          ],
        };
      }
      throw error;
    }

    // 4. The row.
    let conversion: Conversion;
    try {
      conversion = await repository.create({
        id,
        userId: user.id,
        role: user.role,
        idempotencyKey,
        prompt: clean.prompt,
        genre: clean.genre,
        mood: clean.mood,
        lyrics: clean.lyrics,
        voice: clean.voice,
        seed: request.seed === null || request.seed === undefined ? null : clean.seed,
        inputKey,
        input,
        warnings,
        priority,
        quota: charge,
      });
    } catch (error) {
      await removeFiles();
      if (error instanceof IdempotencyConflictError && idempotencyKey !== null) {
        const winner = await new ConversionRepository(em.fork() as EntityManager).findByIdempotencyKey(user.id, idempotencyKey);
        if (winner) return this.reused(winner);
      }
      throw error;
    }

    // 5. The job.
    try {
      await this.enqueue(id, priority);
    } catch (error) {
      logger.error('convertMelody: could not queue the job; removing the conversion', {
        conversionId: id,
        error: (error as Error).message,
      });
      await repository
        .delete(id)
        .catch((deleteError: Error) =>
          logger.error('Could not remove an unqueued conversion', { conversionId: id, error: deleteError.message }),
        );
      await removeFiles();
      throw UnavailableError.queue();
    }
    logger.info('Conversion queued', {
      conversionId: id,
      format: input.format,
      durationSeconds: input.durationSeconds,
      sizeBytes: input.sizeBytes,
    });
    return { ok: true, conversion, warnings, estimatedSeconds: estimateSeconds(input.durationSeconds), reused: false };
  }

  /** Counts a refused decode against the user's rate limit ({@link DECODE_REFUSAL_COST}); fails open like the limiter itself. */
  private async chargeRefusal(userId: string, logger: Logger): Promise<void> {
    if (this.rateLimiter.limitPerMinute <= 0) return;
    await this.rateLimiter
      .hit(userId, DECODE_REFUSAL_COST)
      .catch((error: Error) => logger.warn('Could not charge a refused upload to the rate limit', { error: error.message }));
  }

  private reused(conversion: Conversion): ConvertMelodyOutcome {
    return {
      ok: true,
      conversion,
      warnings: conversion.warnings,
      estimatedSeconds: estimateSeconds(conversion.input.durationSeconds),
      reused: true,
    };
  }

  /**
   * Queues the job with the policy of src/worker/conversion-job.ts (retries with exponential backoff).
   * No Bee-Queue job timeout: the worker enforces JOB_TIMEOUT_SECONDS itself by aborting the pipeline
   * (a non-retryable TIMEOUT_ERROR); a Bee-Queue timeout would fail and retry the job while its thread
   * still runs.
   */
  private async enqueue(conversionId: string, priority: ConversionPriority): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        enqueueConversion(this.services.queue.of(priority), { conversionId }, jobPolicy(this.services.config)).then(() =>
          this.services.metrics?.jobsEnqueued.inc(),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Queueing took longer than ${ENQUEUE_TIMEOUT_MS} ms.`)), ENQUEUE_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
