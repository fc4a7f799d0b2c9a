/**
 * The decode helper (issue 16, uploads): a small process per API process, forked once at start while
 * the API is small, that checks stored uploads for it (upload-check.ts: reads the file from storage,
 * decodes it, spawning ffmpeg itself, and measures it) and answers with the metadata and the warnings.
 *
 * Why a process: forking ffmpeg from the API blocked the API's event loop for 90–300 ms (libuv forks,
 * and a fork copies the page tables of the whole process, so its cost grows with the API's resident
 * size; from a worker thread the main thread still stalled on the address space's lock), and a WAV's
 * decode and level scan, even in 10 ms slices, held it for 120–170 ms on a loaded machine. In the
 * helper both cost the helper's event loop; the API only streams the upload to storage and exchanges
 * two small messages (docs/decisions.md, "Issue 16, uploads: the decode helper").
 *
 * Guarantees:
 * - a job gets an answer: its result, its error (the same classes and stable codes as in-process), a
 *   TIMEOUT_ERROR `DECODE_TIMEOUT` after `timeoutMs`, or, when the helper dies while it runs, a
 *   retryable AudioProcessingError `DECODE_HELPER_CRASHED`; never a hang;
 * - a helper that dies is started again (after 0 s, then up to `maxRestartDelayMs` while it keeps
 *   dying within a minute of starting); the next job goes to the new one;
 * - {@link DecodeHelper.close} stops it (SIGTERM, then SIGKILL after `stopGraceMs`) and waits for its
 *   exit; a killed API leaves none behind either (the helper exits when its IPC channel closes).
 *
 * Concurrency and fairness are the caller's (the API's decode slots, decode-slots.ts); the helper runs
 * the jobs it is sent at once, taking turns between slices of WAV work.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AbortedError, AppError, AudioProcessingError } from '../audio/errors.js';
import type { FromHelper, HelperSettings, ToHelper } from './decode-helper-protocol.js';
import type { Logger } from './logger.js';
import { deserializeError, type UploadCheckJob, type UploadCheckResult, type UploadChecker } from './upload-check.js';

/** The helper's entry: the compiled sibling, or the jest-built copy when running from source (test/support/build-thread.global-setup.ts). */
export const DECODE_HELPER_SCRIPT: URL = fileURLToPath(import.meta.url).endsWith('.ts')
  ? new URL('../../node_modules/.cache/melody-vocals-thread/src/platform/decode-helper-process.js', import.meta.url)
  : new URL('./decode-helper-process.js', import.meta.url);

export interface DecodeHelperOptions {
  settings: HelperSettings;
  logger?: Logger;
  /** A job not answered within this many ms fails with TIMEOUT_ERROR `DECODE_TIMEOUT`; default 60 000 + 5 000. */
  timeoutMs?: number;
  /** After a time-out, how long the helper gets to stop the job before it is killed and restarted, ms; default 2000. */
  cancelGraceMs?: number;
  /** How long {@link DecodeHelper.close} waits after SIGTERM before SIGKILL, ms; default 2000. */
  stopGraceMs?: number;
  /** Longest wait before restarting a helper that keeps dying, ms; default 5000. */
  maxRestartDelayMs?: number;
  /** The entry module; default {@link DECODE_HELPER_SCRIPT}. */
  script?: URL | string;
}

interface PendingJob {
  resolve: (result: UploadCheckResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  killTimer: NodeJS.Timeout | null;
  onAbort: (() => void) | null;
  signal: AbortSignal | undefined;
}

/** One running helper process and the jobs it holds. */
interface Helper {
  child: ChildProcess;
  /** Resolves when the helper said `ready` (jobs wait for it); rejects if it died first. */
  ready: Promise<void>;
  jobs: Map<number, PendingJob>;
  startedAt: number;
  /** Resolves when the process is gone and its pipes are closed. */
  exited: Promise<void>;
  /** Fails {@link Helper.ready} (the helper died before it was ready). */
  markDead: (error: Error) => void;
  /** True once the exit has been handled. */
  gone: boolean;
}

const LONG_LIVED_MS = 60_000;

/**
 * The parent side of the decode helper. Events (for tests and observability): `start` (pid), `exit`
 * (pid, code, signal, unexpected: false when {@link DecodeHelper.close} stopped it), `dispatch` (pid, job id).
 */
export class DecodeHelper extends EventEmitter implements UploadChecker {
  private helper: Helper | null = null;
  private nextId = 1;
  private closed = false;
  private restartDelayMs = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly timeoutMs: number;
  private readonly cancelGraceMs: number;
  private readonly stopGraceMs: number;
  private readonly maxRestartDelayMs: number;

  constructor(private readonly options: DecodeHelperOptions) {
    super();
    this.timeoutMs = options.timeoutMs ?? options.settings.ffmpegTimeoutMs + 5000;
    this.cancelGraceMs = options.cancelGraceMs ?? 2000;
    this.stopGraceMs = options.stopGraceMs ?? 2000;
    this.maxRestartDelayMs = options.maxRestartDelayMs ?? 5000;
  }

  /** Forks the helper (call once, early: a fork costs the more the larger this process is). */
  start(): this {
    if (!this.helper && !this.closed) this.helper = this.spawn();
    return this;
  }

  /** The running helper's process id, or null between a death and its restart. */
  get pid(): number | null {
    return this.helper?.child.pid ?? null;
  }

  /** Resolves when a helper is running and has said it is ready (tests). */
  async ready(): Promise<void> {
    this.start();
    await this.helper?.ready;
  }

  check(job: UploadCheckJob, signal?: AbortSignal): Promise<UploadCheckResult> {
    if (this.closed) return Promise.reject(stopped());
    this.start();
    // Between a death and a delayed restart: start now rather than make the request wait.
    if (!this.helper) this.restartNow();
    const helper = this.helper!;
    const id = this.nextId++;
    return new Promise<UploadCheckResult>((resolve, reject) => {
      const pending: PendingJob = {
        resolve,
        reject,
        signal,
        onAbort: null,
        killTimer: null,
        timer: setTimeout(() => {
          const seconds = Math.round(this.timeoutMs / 1000);
          this.settle(
            helper,
            id,
            new AppError('TIMEOUT_ERROR', `Checking the upload took longer than ${seconds} s and was stopped.`, {
              reason: 'DECODE_TIMEOUT',
            }),
          );
          this.cancel(helper, id);
        }, this.timeoutMs),
      };
      if (signal) {
        if (signal.aborted) {
          clearTimeout(pending.timer);
          reject(new AbortedError());
          return;
        }
        pending.onAbort = () => {
          this.settle(helper, id, new AbortedError());
          this.cancel(helper, id);
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      helper.jobs.set(id, pending);
      helper.ready.then(
        () => {
          if (!helper.jobs.has(id)) return;
          this.send(helper, { type: 'check', id, job });
          this.emit('dispatch', helper.child.pid, id);
        },
        () => undefined, // the exit handler has answered the job
      );
    });
  }

  /** Stops the helper and waits for it to exit; jobs still running fail as retryable. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const helper = this.helper;
    if (!helper) return;
    const killTimer = setTimeout(() => helper.child.kill('SIGKILL'), this.stopGraceMs);
    helper.child.kill('SIGTERM');
    await helper.exited;
    clearTimeout(killTimer);
  }

  private spawn(): Helper {
    const child = fork(this.options.script ?? DECODE_HELPER_SCRIPT, [], {
      // Not the API's flags (jest's --experimental-vm-modules, a large --max-old-space-size…).
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Passed on, not read: the S3 backend's credentials come from the AWS SDK's default chain (AWS_*).
      // Named here because a test sandbox's process.env is not the one fork would copy.
      env: process.env,
      serialization: 'json',
    });
    const jobs = new Map<number, PendingJob>();
    let markReady!: () => void;
    let markDead!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markDead = reject;
    });
    ready.catch(() => undefined);
    let exitedResolve!: () => void;
    const exited = new Promise<void>((resolve) => (exitedResolve = resolve));
    const helper: Helper = { child, ready, jobs, startedAt: Date.now(), exited, markDead, gone: false };
    child.on('message', (message: FromHelper) => {
      if (message.type === 'ready') {
        this.send(helper, { type: 'init', settings: this.options.settings });
        markReady();
      } else if (message.type === 'result') {
        this.settle(helper, message.id, message.ok ? null : deserializeError(message.error), message.ok ? message.result : undefined);
      }
    });
    // Failing to fork (EAGAIN, ENOMEM): 'exit' may not follow, so this ends the helper too.
    child.on('error', (error) => this.onExit(helper, null, null, error));
    child.on('exit', (code, signal) => this.onExit(helper, code, signal, null));
    child.on('close', () => exitedResolve());
    child.once('error', () => exitedResolve());
    this.emit('start', child.pid);
    this.options.logger?.debug('Decode helper started', { pid: child.pid });
    return helper;
  }

  private onExit(helper: Helper, code: number | null, signal: NodeJS.Signals | null, error: Error | null): void {
    if (helper.gone) return;
    helper.gone = true;
    const crashed = new AudioProcessingError('The upload checker stopped while reading this file; please send it again.', {
      reason: 'DECODE_HELPER_CRASHED',
      retryable: true,
      cause: error ?? undefined,
    });
    helper.markDead(crashed);
    for (const id of [...helper.jobs.keys()]) this.settle(helper, id, crashed);
    this.emit('exit', helper.child.pid, code, signal, !this.closed);
    if (this.helper !== helper) return;
    this.helper = null;
    if (this.closed) return;
    this.options.logger?.warn('Decode helper stopped; starting another', { pid: helper.child.pid, code, signal, error: error?.message });
    // The first death is restarted at once; a helper that keeps dying within a minute of starting is
    // restarted after 250 ms, 500 ms… up to maxRestartDelayMs (a job arriving meanwhile starts it at once).
    const longLived = Date.now() - helper.startedAt > LONG_LIVED_MS;
    const delay = longLived ? 0 : this.restartDelayMs;
    this.restartDelayMs = longLived ? 250 : Math.min(this.maxRestartDelayMs, Math.max(250, this.restartDelayMs * 2));
    if (delay === 0) this.restartNow();
    else this.restartTimer = setTimeout(() => this.restartNow(), delay);
  }

  private restartNow(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (!this.closed && !this.helper) this.helper = this.spawn();
  }

  /** Answers job `id` once: with `error`, or with `result`. */
  private settle(helper: Helper, id: number, error: Error | null, result?: UploadCheckResult): void {
    const pending = helper.jobs.get(id);
    if (!pending) return;
    helper.jobs.delete(id);
    clearTimeout(pending.timer);
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort);
    if (error) pending.reject(error);
    else pending.resolve(result!);
  }

  /**
   * Asks the helper to stop job `id` (its ffmpeg is killed); a helper that does not answer within
   * `cancelGraceMs` (stuck in a loop) is killed, and restarted by its exit handler.
   */
  private cancel(helper: Helper, id: number): void {
    this.send(helper, { type: 'cancel', id });
    const done = new Promise<void>((resolve) => {
      const onMessage = (message: FromHelper) => {
        if (message.type === 'result' && message.id === id) {
          helper.child.off('message', onMessage);
          resolve();
        }
      };
      helper.child.on('message', onMessage);
      void helper.exited.then(() => {
        helper.child.off('message', onMessage);
        resolve();
      });
    });
    const timer = setTimeout(() => {
      this.options.logger?.warn('Decode helper did not stop a job; killing it', { pid: helper.child.pid });
      helper.child.kill('SIGKILL');
    }, this.cancelGraceMs);
    void done.then(() => clearTimeout(timer));
  }

  private send(helper: Helper, message: ToHelper): void {
    if (!helper.child.connected) return;
    helper.child.send(message, (error) => {
      // The channel closed under the message: the exit handler answers the job.
      if (error) this.options.logger?.debug('Could not send to the decode helper', { error: error.message });
    });
  }
}

function stopped(): AppError {
  return new AppError('AUDIO_PROCESSING_ERROR', 'The upload checker is stopping; please send the file again.', {
    reason: 'DECODE_HELPER_STOPPED',
    retryable: true,
  });
}
