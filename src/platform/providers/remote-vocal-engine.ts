/**
 * The remote singing engine (`EXPERT_MUSIC_AI_URL`): a client of the HTTP contract in
 * docs/providers.md.
 *
 * 1. `POST {base}/v1/vocals`, multipart/form-data: part `melody` (the original upload's bytes) and part
 *    `request` (JSON: the {@link VocalRequest} without its bytes). An `Idempotency-Key` header, the same
 *    on every retry of one job, lets the engine recognise a job it already accepted.
 * 2. The engine answers `200 audio/wav` (sung at once) or `202 {"id", "status"}` (queued).
 * 3. Then `GET {base}/v1/vocals/{id}` every `EXPERT_MUSIC_AI_POLL_MS` →
 *    `{"status": "queued|running|succeeded|failed", "progress"?, "error"?: {"code","message","retryable"}}`
 *    until `succeeded` (then `GET {base}/v1/vocals/{id}/audio` → `audio/wav`) or `failed`.
 *
 * Every request goes through the provider's ResilientCaller (breaker, retries, per-request timeout);
 * the whole job (upload, polls, download) is bounded by the same timeout. The audio must be a
 * RIFF/WAVE file, or it is a BAD_RESPONSE.
 */
import { randomUUID } from 'node:crypto';
import type { ProviderCallOptions, VocalEngine, VocalRequest, VocalTake } from '../../audio/providers.js';
import { AbortedError } from '../../audio/errors.js';
import { AttemptFault, ProviderError, sleep as realSleep, type ResilientCaller, type Sleep } from '../resilience.js';
import { bearer, httpRequest } from './http-client.js';

/** Largest audio answer read, bytes (a 5-minute 48 kHz stereo 32-bit float WAV is ~115 MB). */
const MAX_AUDIO_BYTES = 256 * 1024 * 1024;
/** Largest JSON answer read, bytes. */
const MAX_JSON_BYTES = 64 * 1024;
const JOB_ID = /^[A-Za-z0-9._:-]{1,200}$/;
const STATUSES = new Set(['queued', 'running', 'succeeded', 'failed']);

export interface RemoteVocalEngineOptions {
  /** `EXPERT_MUSIC_AI_URL`, without a trailing slash. */
  baseUrl: string;
  /** `EXPERT_MUSIC_AI_KEY`; sent as a bearer token when set. */
  apiKey: string | null;
  /** `EXPERT_MUSIC_AI_POLL_MS`: time between status polls, ms. */
  pollMs: number;
  /** `MELODY_VOCALS_TIMEOUT`: the whole remote job's deadline, ms (each request has it too, through the caller). */
  timeoutMs: number;
  caller: ResilientCaller;
  /** Waits between polls. Default: a real, abortable timer. */
  sleep?: Sleep;
}

/** The engine's view of a job. */
export interface RemoteJobStatus {
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress?: number;
  error?: { code: string; message: string; retryable: boolean };
}

/** True when `bytes` start like a RIFF/WAVE file. */
export function isRiffWave(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const tag = (at: number) => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  return tag(0) === 'RIFF' && tag(8) === 'WAVE';
}

function wavOrFault(bytes: Uint8Array): Uint8Array {
  if (!isRiffWave(bytes)) throw new AttemptFault('BAD_RESPONSE', `The audio is not a RIFF/WAVE file (${bytes.length} bytes).`);
  return bytes;
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new AttemptFault('BAD_RESPONSE', 'The answer is not JSON.');
  }
}

/** A status document, checked. @throws AttemptFault BAD_RESPONSE */
export function parseJobStatus(value: unknown): RemoteJobStatus {
  const doc = value as { status?: unknown; progress?: unknown; error?: { code?: unknown; message?: unknown; retryable?: unknown } } | null;
  if (!doc || typeof doc !== 'object' || typeof doc.status !== 'string' || !STATUSES.has(doc.status)) {
    throw new AttemptFault('BAD_RESPONSE', 'The job status is missing or unknown.');
  }
  const status: RemoteJobStatus = { status: doc.status as RemoteJobStatus['status'] };
  if (typeof doc.progress === 'number' && Number.isFinite(doc.progress)) status.progress = doc.progress;
  if (doc.error && typeof doc.error === 'object') {
    status.error = {
      code: typeof doc.error.code === 'string' ? doc.error.code.slice(0, 64) : 'UNKNOWN',
      message: typeof doc.error.message === 'string' ? doc.error.message.replace(/\s+/g, ' ').slice(0, 300) : 'no message',
      retryable: doc.error.retryable === true,
    };
  }
  return status;
}

/** What the engine's JSON part `request` holds: the request without the melody's bytes. */
export function vocalRequestDocument(request: VocalRequest): Omit<VocalRequest, 'melody'> {
  const { melody: _melody, ...rest } = request;
  return rest;
}

/** A {@link VocalEngine} named `expert-music-ai` speaking the contract above, behind `options.caller`. */
export function createRemoteVocalEngine(options: RemoteVocalEngineOptions): VocalEngine {
  const { baseUrl, apiKey, pollMs, timeoutMs, caller } = options;
  const wait = options.sleep ?? realSleep;
  const name = 'expert-music-ai';
  const auth = bearer(apiKey);

  return {
    name,
    async sing(request: VocalRequest, callOptions: ProviderCallOptions = {}): Promise<VocalTake> {
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), timeoutMs);
      const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, deadline.signal]) : deadline.signal;
      const idempotencyKey = randomUUID();
      const document = JSON.stringify(vocalRequestDocument(request));
      try {
        const started = await caller.run(
          async (attemptSignal) => {
            // A fresh form per attempt: a body is consumed by the request that sends it.
            const form = new FormData();
            form.append('melody', new Blob([request.melody], { type: 'application/octet-stream' }), request.fileName ?? 'melody');
            form.append('request', new Blob([document], { type: 'application/json' }), 'request.json');
            const answer = await httpRequest(
              {
                method: 'POST',
                url: `${baseUrl}/v1/vocals`,
                headers: { ...auth, 'idempotency-key': idempotencyKey },
                body: form,
                maxBytes: MAX_AUDIO_BYTES,
              },
              attemptSignal,
            );
            if (answer.status === 200) return { kind: 'sung' as const, wav: wavOrFault(answer.body) };
            if (answer.status !== 202)
              throw new AttemptFault('BAD_RESPONSE', `Unexpected HTTP ${answer.status} to the upload.`, { status: answer.status });
            const doc = parseJson(answer.body) as { id?: unknown };
            if (typeof doc?.id !== 'string' || !JOB_ID.test(doc.id))
              throw new AttemptFault('BAD_RESPONSE', 'The 202 answer has no usable job id.');
            return { kind: 'queued' as const, id: doc.id, status: parseJobStatus(doc) };
          },
          { signal },
        );
        if (started.kind === 'sung') return { wav: started.wav, source: name };

        const jobUrl = `${baseUrl}/v1/vocals/${encodeURIComponent(started.id)}`;
        let status = started.status;
        while (status.status === 'queued' || status.status === 'running') {
          await wait(pollMs, signal);
          status = await caller.run(
            async (attemptSignal) => {
              const answer = await httpRequest(
                { method: 'GET', url: jobUrl, headers: { ...auth, accept: 'application/json' }, maxBytes: MAX_JSON_BYTES },
                attemptSignal,
              );
              return parseJobStatus(parseJson(answer.body));
            },
            { signal },
          );
        }
        if (status.status === 'failed') {
          const error = status.error ?? { code: 'UNKNOWN', message: 'no reason given', retryable: false };
          throw new ProviderError(
            caller.name,
            'REMOTE_JOB_FAILED',
            `The remote vocal job ${started.id} failed: ${error.code}: ${error.message}`,
            { retryable: error.retryable, attempts: 1 },
          );
        }
        const wav = await caller.run(
          async (attemptSignal) => {
            const answer = await httpRequest(
              { method: 'GET', url: `${jobUrl}/audio`, headers: { ...auth, accept: 'audio/wav' }, maxBytes: MAX_AUDIO_BYTES },
              attemptSignal,
            );
            return wavOrFault(answer.body);
          },
          { signal },
        );
        return { wav, source: name };
      } catch (error) {
        // The job's own deadline, not the caller, stopped it: a timeout.
        if (deadline.signal.aborted && !callOptions.signal?.aborted && error instanceof AbortedError) {
          throw new ProviderError(caller.name, 'PROVIDER_TIMEOUT', `The remote vocal job did not finish within ${timeoutMs} ms.`, {
            retryable: true,
            attempts: 1,
            cause: error,
          });
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
