/**
 * Breakers, retries and timeouts around a remote provider's calls, built on mollitia.
 *
 * One {@link ResilientCaller} per remote provider (per breaker), shared by every job of the process:
 * it runs `attempt(signal)` functions (one HTTP request each) through a mollitia circuit of three
 * modules, outermost first:
 *
 * 1. mollitia `Retry`: up to `retries` further attempts after a transient failure (429, 5xx, timeout,
 *    network error, malformed reply). Its `onRejection` hook decides each retry and its delay: full
 *    jitter `random() × retryBaseMs × 2^(retry−1)`, or the server's `Retry-After` when it sent one.
 *    Never after a 4xx rejection, a caller abort, or once the breaker is open.
 * 2. A backoff step (a mollitia `Module` of ours, mollitia.adapter.ts): sleeps the delay chosen by the hook through the
 *    injectable, abortable `sleep`, because mollitia's own wait is a bare `setTimeout` that neither a
 *    test nor an AbortSignal can reach. It sits inside Retry and outside the breaker, so the wait is
 *    not counted as call time and an attempt after the wait still meets a breaker opened meanwhile.
 * 3. A consecutive-failure breaker (mollitia.adapter.ts), a mollitia `SlidingCountBreaker` set up to open after
 *    `failureThreshold` CONSECUTIVE failed attempts (window = minimum calls = threshold, opening when
 *    the whole window failed), half-open after `halfOpenAfterMs` and allowing one trial: a successful
 *    trial closes it, a failed one opens it again. Every attempt counts, retries included. Only remote
 *    faults count as failures: a 4xx rejection is an answer (it counts as a success), and a caller
 *    abort counts as nothing at all.
 *
 * The per-attempt timeout is ours, not mollitia's `Timeout` module: that one only stops waiting for the
 * promise, while a provider request must really end (an AbortController aborts the fetch and closes the
 * socket). Final failures are {@link ProviderError}s in the error model (see {@link ProviderFailureReason}).
 * Everything that touches mollitia's classes and internals is in mollitia.adapter.ts.
 */
import { AbortedError, AppError } from '../audio/errors.js';
import { createBreakerCircuit } from './mollitia.adapter.js';
import type { BreakerStatus } from './providers/provider-host.js';

/** Why a provider call failed for good (`ProviderError.reason`). */
export type ProviderFailureReason =
  /** The breaker is open (or a half-open trial is already running): the provider was not contacted, or no longer retried. */
  | 'CIRCUIT_OPEN'
  /** Every attempt failed with a transient fault (429, 5xx, network error), or `Retry-After` asked for longer than the timeout. */
  | 'RETRIES_EXHAUSTED'
  /** The provider rejected the request with a 4xx (other than 429): retrying the same request gives the same answer. */
  | 'PROVIDER_REJECTED'
  /** The provider's answer could not be used (malformed JSON, not a WAV, unknown status) on the last attempt. */
  | 'BAD_RESPONSE'
  /** The remote job itself reported a failure (remote vocal engine). */
  | 'REMOTE_JOB_FAILED'
  /** The last attempt (or the whole remote job) ran past `MELODY_VOCALS_TIMEOUT`; code TIMEOUT_ERROR. */
  | 'PROVIDER_TIMEOUT';

/** A remote provider's final failure: AI_SERVICE_ERROR, or TIMEOUT_ERROR for PROVIDER_TIMEOUT. */
export class ProviderError extends AppError {
  /** The breaker (provider) name, e.g. `lyrics:llm`. */
  readonly provider: string;
  /** HTTP status of the last answer, when there was one. */
  readonly status: number | null;
  /** Attempts made (requests sent); 0 when the breaker refused the call. */
  readonly attempts: number;

  constructor(
    provider: string,
    reason: ProviderFailureReason,
    message: string,
    options: { retryable: boolean; status?: number | null; attempts: number; cause?: unknown },
  ) {
    super(reason === 'PROVIDER_TIMEOUT' ? 'TIMEOUT_ERROR' : 'AI_SERVICE_ERROR', message, {
      reason,
      retryable: options.retryable,
      cause: options.cause,
    });
    this.provider = provider;
    this.status = options.status ?? null;
    this.attempts = options.attempts;
  }
}

/** How one failed attempt is classified. */
export type AttemptFaultKind =
  /** 429 or 5xx: transient, counts for the breaker, retried (Retry-After honoured). */
  | 'STATUS'
  /** Connection refused or reset, DNS failure, socket closed mid-answer: transient. */
  | 'NETWORK'
  /** The attempt ran past the per-attempt timeout: transient. */
  | 'TIMEOUT'
  /** The answer could not be used: transient (a retry may get a good one). */
  | 'BAD_RESPONSE'
  /** 4xx other than 429: final, and not a breaker failure. */
  | 'REJECTED'
  /** The caller's signal aborted: final, neutral for the breaker. */
  | 'ABORTED'
  /** An error of our own code (a bug), not a provider fault: rethrown as is, neutral for the breaker. */
  | 'OTHER';

const TRANSIENT: ReadonlySet<AttemptFaultKind> = new Set(['STATUS', 'NETWORK', 'TIMEOUT', 'BAD_RESPONSE']);

/**
 * What an attempt throws to say how it failed; provider clients throw it (usually through
 * `httpRequest` in providers/http-client.ts) and {@link ResilientCaller} classifies anything else.
 */
export class AttemptFault extends Error {
  readonly kind: AttemptFaultKind;
  /** HTTP status, when the fault is an answer. */
  readonly status: number | null;
  /** The raw `Retry-After` header of the answer (seconds or an HTTP date), if any. */
  readonly retryAfter: string | null;

  constructor(
    kind: AttemptFaultKind,
    message: string,
    options: { status?: number | null; retryAfter?: string | null; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AttemptFault';
    this.kind = kind;
    this.status = options.status ?? null;
    this.retryAfter = options.retryAfter ?? null;
  }

  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}

/** Abortable sleep, ms; rejects with {@link AbortedError} when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The default {@link Sleep}: a timer that the signal clears. */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** One retry the caller decided on (what `onRetry` receives, and what tests assert on). */
export interface RetryDecision {
  /** 1 for the first retry. */
  retry: number;
  /** The delay requested before it, ms. */
  delayMs: number;
  /** Whether the delay came from the server's `Retry-After`. */
  fromRetryAfter: boolean;
  /** The failure that led to it. */
  fault: AttemptFaultKind;
  status: number | null;
}

export interface ResilienceOptions {
  /** `MELODY_VOCALS_TIMEOUT`: time one attempt may take, ms (an AbortController aborts it). Default 180000. */
  timeoutMs?: number;
  /** `MELODY_VOCALS_RETRIES`: attempts after the first one, on transient faults. Default 3. */
  retries?: number;
  /** `MELODY_VOCALS_RETRY_BASE_MS`: the first retry's delay cap, doubled per retry (full jitter), ms. Default 2000. */
  retryBaseMs?: number;
  /** `BREAKER_FAILURE_THRESHOLD`: consecutive failed attempts that open the breaker. Default 5. */
  failureThreshold?: number;
  /** `BREAKER_HALF_OPEN_AFTER_MS`: how long the breaker stays open before a trial call, ms. Default 60000. */
  halfOpenAfterMs?: number;
  /** Waits between attempts. Default: a real, abortable timer. */
  sleep?: Sleep;
  /** Uniform [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
  /** Wall clock, ms since the epoch (state-change times, `Retry-After` dates). Default `Date.now`. */
  now?: () => number;
  /** Told of every retry before its delay starts. */
  onRetry?: (decision: RetryDecision) => void;
}

export interface RunOptions {
  /** The caller's signal: aborting it ends the call at once with {@link AbortedError} (no retry, no breaker failure). */
  signal?: AbortSignal;
}

/** Internal per-call state; travels through the mollitia circuit as the function's parameter. */
interface CallState {
  attempt: (signal: AbortSignal) => Promise<unknown>;
  signal: AbortSignal | undefined;
  attempts: number;
  pendingDelayMs: number;
  lastFault: AttemptFault | null;
  /** Set when the retry hook stopped early: why. */
  stopped: 'BREAKER_OPEN' | 'RETRY_AFTER_TOO_LONG' | null;
  retryAfterMs: number | null;
}

/**
 * `Retry-After` in ms from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent
 * or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP dates start with the day's name (IMF-fixdate, RFC 850, asctime); Date.parse alone would take "1.5".
  if (!/^[A-Za-z]{3}/.test(text)) return null;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, at - now);
}

/** Node's fetch (undici) reports connection faults as TypeError('fetch failed') with a coded cause. */
function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^(ECONN|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_|EHOSTUNREACH|ENETUNREACH|UND_ERR)/.test(code)) return true;
  return error instanceof TypeError && /fetch failed|terminated|other side closed/i.test(error.message);
}

/** A caller of one remote provider with its breaker, retries and timeout. */
export interface ResilientCaller {
  /** The breaker's name, e.g. `lyrics:llm`. */
  readonly name: string;
  /**
   * Runs `attempt` (one request; it must honour `signal`) until it succeeds or the policy gives up.
   * @throws ProviderError (see {@link ProviderFailureReason}); AbortedError when `options.signal` aborts;
   *   an error of kind OTHER unchanged.
   */
  run<T>(attempt: (signal: AbortSignal) => Promise<T>, options?: RunOptions): Promise<T>;
  /** The breaker now. */
  status(): BreakerStatus;
  /** Called on every breaker state change; returns an unsubscribe function. */
  onStateChange(listener: (status: BreakerStatus) => void): () => void;
  /** Stops the breaker's timers and forgets the circuit. */
  close(): void;
}

/**
 * Makes a {@link ResilientCaller} named `name` (the breaker's name in logs, metrics and `stats`).
 * Defaults are the issue's: 3 min per attempt, 3 retries from 2 s, open after 5 failures for 60 s.
 */
export function createResilientCaller(name: string, options: ResilienceOptions = {}): ResilientCaller {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const retries = options.retries ?? 3;
  const retryBaseMs = options.retryBaseMs ?? 2000;
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const listeners = new Set<(status: BreakerStatus) => void>();
  let consecutiveFailures = 0;
  let changedAt: string | null = null;

  /** The fault of each failed attempt → its call (the retry hook sees only the error). */
  const currentCalls = new WeakMap<AttemptFault, CallState>();

  /** Decides each retry; a number is the delay mollitia waits itself: 0, because the backoff step waits instead. */
  const onRejection = (error: unknown, index: number): false | number => {
    if (!(error instanceof AttemptFault) || !error.transient) return false;
    const call = currentCalls.get(error);
    if (!call || call.signal?.aborted) return false;
    if (!circuit.isClosed()) {
      call.stopped = 'BREAKER_OPEN';
      return false;
    }
    const retryAfterMs = parseRetryAfter(error.retryAfter, now());
    if (retryAfterMs !== null && retryAfterMs > timeoutMs) {
      call.stopped = 'RETRY_AFTER_TOO_LONG';
      call.retryAfterMs = retryAfterMs;
      return false;
    }
    const delayMs = retryAfterMs ?? Math.floor(random() * retryBaseMs * 2 ** index);
    call.pendingDelayMs = delayMs;
    options.onRetry?.({ retry: index + 1, delayMs, fromRetryAfter: retryAfterMs !== null, fault: error.kind, status: error.status });
    return 0;
  };

  const attemptOnce = async (call: CallState): Promise<unknown> => {
    call.attempts += 1;
    const timeout = new AbortController();
    const signal = call.signal ? AbortSignal.any([call.signal, timeout.signal]) : timeout.signal;
    let onAbort: (() => void) | undefined;
    // Ends the attempt when the signal aborts even if the attempt itself is slow to notice.
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    const timer = setTimeout(() => timeout.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const result = await Promise.race([call.attempt(signal), aborted]);
      consecutiveFailures = 0;
      return result;
    } catch (error) {
      const fault = classify(error, call.signal, timeout.signal);
      call.lastFault = fault;
      currentCalls.set(fault, call);
      if (fault.transient) consecutiveFailures += 1;
      else if (fault.kind === 'REJECTED') consecutiveFailures = 0;
      throw fault;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  };

  const circuit = createBreakerCircuit<CallState>({
    name,
    attempt: attemptOnce,
    retries,
    onRejection,
    beforeAttempt: async (call) => {
      if (call.pendingDelayMs > 0) {
        const delay = call.pendingDelayMs;
        call.pendingDelayMs = 0;
        try {
          await wait(delay, call.signal);
        } catch (error) {
          throw new AttemptFault('ABORTED', 'The call was aborted while waiting to retry.', { cause: error });
        }
      }
      if (call.signal?.aborted) throw new AttemptFault('ABORTED', 'The call was aborted.');
    },
    failureThreshold: options.failureThreshold ?? 5,
    halfOpenAfterMs: options.halfOpenAfterMs ?? 60_000,
    // Only remote faults count as failures; a 4xx rejection is an answer; anything else (the caller's
    // abort, a bug of ours) says nothing about the provider.
    isFailure: (error) => error instanceof AttemptFault && error.transient,
    isVerdict: (error) => error instanceof AttemptFault && (error.transient || error.kind === 'REJECTED'),
  });
  const status = (): BreakerStatus => ({ name, state: circuit.state(), consecutiveFailures, changedAt });
  circuit.onStateChange(() => {
    changedAt = new Date(now()).toISOString();
    const current = status();
    for (const listener of [...listeners]) listener(current);
  });

  const classify = (error: unknown, callerSignal: AbortSignal | undefined, timeoutSignal: AbortSignal): AttemptFault => {
    if (callerSignal?.aborted) return new AttemptFault('ABORTED', 'The call was aborted.', { cause: error });
    if (error instanceof AttemptFault) return error;
    if (timeoutSignal.aborted) return new AttemptFault('TIMEOUT', `No answer within ${timeoutMs} ms.`, { cause: error });
    if (error instanceof AbortedError) return new AttemptFault('ABORTED', error.message, { cause: error });
    if (isNetworkError(error)) return new AttemptFault('NETWORK', `Network error: ${describe(error)}.`, { cause: error });
    return new AttemptFault('OTHER', error instanceof Error ? error.message : String(error), { cause: error });
  };

  const finalError = (error: unknown, call: CallState): unknown => {
    const attempts = call.attempts;
    if (!(error instanceof AttemptFault)) {
      // mollitia's BreakerError (open) or BreakerMaxAllowedRequestError (a half-open trial is running).
      const last = call.lastFault;
      return new ProviderError(name, 'CIRCUIT_OPEN', `The ${name} provider's circuit breaker is open: not called.`, {
        retryable: true,
        attempts,
        status: last?.status,
        cause: last ?? error,
      });
    }
    const status = error.status;
    switch (error.kind) {
      case 'ABORTED':
        return new AbortedError();
      case 'OTHER':
        return error.cause ?? error;
      case 'REJECTED':
        return new ProviderError(name, 'PROVIDER_REJECTED', `The ${name} provider rejected the request (${error.message}).`, {
          retryable: false,
          status,
          attempts,
          cause: error,
        });
      default:
        break;
    }
    if (call.stopped === 'BREAKER_OPEN') {
      return new ProviderError(
        name,
        'CIRCUIT_OPEN',
        `The ${name} provider's circuit breaker opened after ${attempts} attempt(s): ${error.message}`,
        { retryable: true, status, attempts, cause: error },
      );
    }
    if (call.stopped === 'RETRY_AFTER_TOO_LONG') {
      return new ProviderError(
        name,
        'RETRIES_EXHAUSTED',
        `The ${name} provider asked to retry after ${Math.round((call.retryAfterMs ?? 0) / 1000)} s, longer than the ${timeoutMs} ms timeout (${error.message}).`,
        { retryable: true, status, attempts, cause: error },
      );
    }
    if (error.kind === 'TIMEOUT') {
      return new ProviderError(
        name,
        'PROVIDER_TIMEOUT',
        `The ${name} provider did not answer within ${timeoutMs} ms (${attempts} attempt(s)).`,
        { retryable: true, status, attempts, cause: error },
      );
    }
    if (error.kind === 'BAD_RESPONSE') {
      return new ProviderError(
        name,
        'BAD_RESPONSE',
        `The ${name} provider's answer was unusable after ${attempts} attempt(s): ${error.message}`,
        { retryable: true, status, attempts, cause: error },
      );
    }
    return new ProviderError(name, 'RETRIES_EXHAUSTED', `The ${name} provider failed ${attempts} attempt(s): ${error.message}`, {
      retryable: true,
      status,
      attempts,
      cause: error,
    });
  };

  return {
    name,
    async run<T>(attempt: (signal: AbortSignal) => Promise<T>, runOptions: RunOptions = {}): Promise<T> {
      if (runOptions.signal?.aborted) throw new AbortedError();
      const call: CallState = {
        attempt,
        signal: runOptions.signal,
        attempts: 0,
        pendingDelayMs: 0,
        lastFault: null,
        stopped: null,
        retryAfterMs: null,
      };
      try {
        return await circuit.execute<T>(call);
      } catch (error) {
        throw finalError(error, call);
      }
    },
    status,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
      circuit.dispose();
    },
  };
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}
