/**
 * The resilient caller (mollitia breaker + retry, our timeout and backoff) against real local HTTP
 * servers that answer 200, 429 with Retry-After, 503, slowly, never, with malformed JSON, by resetting
 * the connection, or with 400/401/404. Delays are asserted as requested through an injected sleep and
 * random, never timed; the breaker's half-open delay is a real (short) timer waited for by polling.
 */
import { AbortedError } from '../../../src/audio/errors.js';
import {
  AttemptFault,
  ProviderError,
  createResilientCaller,
  type ResilienceOptions,
  type RetryDecision,
  type ResilientCaller,
} from '../../../src/platform/resilience.js';
import { httpRequest } from '../../../src/platform/providers/http-client.js';
import { Cleanup, freePort } from '../../support/service-harness.js';
import { json, sequence, startScriptedServer, type Handler, type ScriptedServer } from './scripted-server.js';

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

const OK = json(200, { ok: true });

interface Rig {
  server: ScriptedServer;
  caller: ResilientCaller;
  /** Delays the caller asked to sleep, ms. */
  slept: number[];
  retries: RetryDecision[];
  /** One call: GET the server, parse the JSON answer. */
  call(signal?: AbortSignal): Promise<unknown>;
}

async function rig(handler: Handler, options: ResilienceOptions = {}): Promise<Rig> {
  const server = await startScriptedServer(cleanup, handler);
  const slept: number[] = [];
  const retries: RetryDecision[] = [];
  const caller = createResilientCaller('test:provider', {
    timeoutMs: 5000,
    retries: 3,
    retryBaseMs: 2000,
    failureThreshold: 5,
    halfOpenAfterMs: 60_000,
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    onRetry: (decision) => retries.push(decision),
    ...options,
  });
  cleanup.add(() => caller.close());
  const call = (signal?: AbortSignal) =>
    caller.run(
      async (attemptSignal) => {
        const answer = await httpRequest({ method: 'GET', url: `${server.url}/thing`, maxBytes: 10_000 }, attemptSignal);
        try {
          return JSON.parse(Buffer.from(answer.body).toString('utf8')) as unknown;
        } catch {
          throw new AttemptFault('BAD_RESPONSE', 'not JSON');
        }
      },
      { signal },
    );
  return { server, caller, slept, retries, call };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('retries', () => {
  test('a 200 answer is returned after one request, with no retry', async () => {
    const r = await rig(sequence(OK));
    await expect(r.call()).resolves.toEqual({ ok: true });
    expect(r.server.requests).toHaveLength(1);
    expect(r.slept).toEqual([]);
  });

  test('503s are retried with exponential backoff and full jitter (random × base × 2^(n−1)) until a 200', async () => {
    const r = await rig(sequence(json(503, {}), json(503, {}), json(502, {}), OK));
    await expect(r.call()).resolves.toEqual({ ok: true });
    expect(r.server.requests).toHaveLength(4);
    // random() = 0.5, base 2000 ms: 0.5 × 2000 × 1, × 2, × 4.
    expect(r.slept).toEqual([1000, 2000, 4000]);
    expect(r.retries.map((d) => [d.retry, d.fault, d.status, d.fromRetryAfter])).toEqual([
      [1, 'STATUS', 503, false],
      [2, 'STATUS', 503, false],
      [3, 'STATUS', 502, false],
    ]);
  });

  test('the jitter spans [0, base × 2^(n−1)): random() near 1 asks for just under the cap', async () => {
    const r = await rig(sequence(json(500, {}), json(500, {}), OK), { random: () => 0.999 });
    await r.call();
    expect(r.slept).toEqual([1998, 3996]);
  });

  test('when every attempt gets a 503 the call fails RETRIES_EXHAUSTED (retryable) after 1 + MELODY_VOCALS_RETRIES requests', async () => {
    const r = await rig(sequence(json(503, { error: 'busy' })));
    const error = await failure(r.call());
    expect(error).toMatchObject({
      code: 'AI_SERVICE_ERROR',
      reason: 'RETRIES_EXHAUSTED',
      retryable: true,
      status: 503,
      attempts: 4,
      provider: 'test:provider',
    });
    expect(r.server.requests).toHaveLength(4);
    expect(r.slept).toEqual([1000, 2000, 4000]);
  });

  test('MELODY_VOCALS_RETRIES=0 sends exactly one request', async () => {
    const r = await rig(sequence(json(503, {})), { retries: 0 });
    expect(await failure(r.call())).toMatchObject({ reason: 'RETRIES_EXHAUSTED', attempts: 1 });
    expect(r.server.requests).toHaveLength(1);
  });

  test('429 with Retry-After in seconds is honoured instead of the backoff', async () => {
    const r = await rig(sequence(json(429, {}, { 'retry-after': '7' }), OK), { timeoutMs: 30_000 });
    await expect(r.call()).resolves.toEqual({ ok: true });
    expect(r.server.requests).toHaveLength(2);
    expect(r.slept).toEqual([7000]);
    expect(r.retries[0]).toMatchObject({ fromRetryAfter: true, status: 429 });
  });

  test('Retry-After as an HTTP date is honoured relative to the injected clock', async () => {
    const now = Date.parse('2026-12-20T10:00:00Z');
    const r = await rig(sequence(json(503, {}, { 'retry-after': 'Sun, 20 Dec 2026 10:00:12 GMT' }), OK), {
      now: () => now,
      timeoutMs: 30_000,
    });
    await r.call();
    expect(r.slept).toEqual([12_000]);
  });

  test('a Retry-After longer than the timeout stops retrying (RETRIES_EXHAUSTED, retryable) after one request', async () => {
    const r = await rig(sequence(json(429, {}, { 'retry-after': '600' })), { timeoutMs: 5000 });
    const error = await failure(r.call());
    expect(error).toMatchObject({ reason: 'RETRIES_EXHAUSTED', retryable: true, status: 429, attempts: 1 });
    expect(error.message).toMatch(/600 s/);
    expect(r.server.requests).toHaveLength(1);
    expect(r.slept).toEqual([]);
  });

  test.each([400, 401, 404])('a %i is not retried: PROVIDER_REJECTED, not retryable, one request', async (status) => {
    const r = await rig(sequence(json(status, { error: 'no' })));
    const error = await failure(r.call());
    expect(error).toMatchObject({ code: 'AI_SERVICE_ERROR', reason: 'PROVIDER_REJECTED', retryable: false, status, attempts: 1 });
    expect(r.server.requests).toHaveLength(1);
    expect(r.caller.status()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 0 });
  });

  test('a malformed JSON answer is retried, and ends BAD_RESPONSE when it persists', async () => {
    const r = await rig(sequence({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok": tru' }));
    const error = await failure(r.call());
    expect(error).toMatchObject({ code: 'AI_SERVICE_ERROR', reason: 'BAD_RESPONSE', retryable: true, attempts: 4 });
    expect(r.server.requests).toHaveLength(4);
  });

  test('a reset connection is a network fault: retried, and a later 200 succeeds', async () => {
    const r = await rig(sequence('reset', 'reset', OK));
    await expect(r.call()).resolves.toEqual({ ok: true });
    expect(r.server.requests).toHaveLength(3);
    expect(r.retries.map((d) => d.fault)).toEqual(['NETWORK', 'NETWORK']);
  });

  test('a connection refused is a network fault: retried, then RETRIES_EXHAUSTED', async () => {
    const r = await rig(sequence(OK));
    // A port that was just free: nothing listens there.
    const refused = `http://127.0.0.1:${await freePort()}/`;
    const error = await failure(r.caller.run((signal) => httpRequest({ method: 'GET', url: refused, maxBytes: 100 }, signal)));
    expect(error).toMatchObject({ reason: 'RETRIES_EXHAUSTED', attempts: 4 });
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(r.retries.map((d) => d.fault)).toEqual(['NETWORK', 'NETWORK', 'NETWORK']);
  });
});

describe('timeouts and aborts', () => {
  test('a slow answer within the timeout succeeds after one request', async () => {
    const r = await rig(sequence({ status: 200, body: '{"slow":true}', delayMs: 300 }), { timeoutMs: 10_000 });
    await expect(r.call()).resolves.toEqual({ slow: true });
    expect(r.server.requests).toHaveLength(1);
  });

  test('a hanging server is cut off by the per-attempt timeout: the connection is closed, and the call ends TIMEOUT_ERROR/PROVIDER_TIMEOUT', async () => {
    const r = await rig(sequence('hang'), { timeoutMs: 300, retries: 1 });
    const error = await failure(r.call());
    expect(error).toMatchObject({ code: 'TIMEOUT_ERROR', reason: 'PROVIDER_TIMEOUT', retryable: true, attempts: 2 });
    expect(r.server.requests).toHaveLength(2);
    // The server saw each attempt's connection closed by the client (the fetch was really aborted).
    await r.server.waitFor(() => r.server.requests.every((req) => req.closedByClient));
    expect(r.retries.map((d) => d.fault)).toEqual(['TIMEOUT']);
  });

  test('a caller abort during a request ends the call at once with AbortedError: no retry, no breaker failure, connection closed', async () => {
    const r = await rig(sequence('hang'), { timeoutMs: 60_000 });
    const controller = new AbortController();
    const pending = r.call(controller.signal);
    await r.server.waitFor(() => r.server.requests.length === 1);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await r.server.waitFor(() => r.server.requests[0].closedByClient);
    expect(r.server.requests).toHaveLength(1);
    expect(r.slept).toEqual([]);
    expect(r.caller.status()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 0 });
  });

  test('a caller abort during the backoff wait ends the call with AbortedError and sends nothing more', async () => {
    const controller = new AbortController();
    const r = await rig(sequence(json(503, {})), {
      // A sleep that only ends by abort, as a long real backoff would.
      sleep: (_ms, signal) =>
        new Promise((_, reject) => {
          signal?.addEventListener('abort', () => reject(new AbortedError()), { once: true });
          controller.abort();
        }),
    });
    await expect(r.call(controller.signal)).rejects.toBeInstanceOf(AbortedError);
    expect(r.server.requests).toHaveLength(1);
  });

  test('an already aborted signal sends no request', async () => {
    const r = await rig(sequence(OK));
    await expect(r.call(AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    expect(r.server.requests).toHaveLength(0);
  });
});

describe('circuit breaker', () => {
  test('opens after 5 consecutive failed attempts, then fails fast (CIRCUIT_OPEN) without contacting the server', async () => {
    const r = await rig(sequence(json(503, {})), { retries: 0 });
    const states: string[] = [];
    r.caller.onStateChange((s) => states.push(s.state));
    for (let i = 1; i <= 4; i += 1) {
      await failure(r.call());
      expect(r.caller.status()).toMatchObject({ state: 'CLOSED', consecutiveFailures: i });
    }
    await failure(r.call());
    expect(r.caller.status()).toMatchObject({ state: 'OPEN', consecutiveFailures: 5 });
    expect(r.caller.status().changedAt).not.toBeNull();
    expect(states).toEqual(['OPEN']);

    const error = await failure(r.call());
    expect(error).toMatchObject({ code: 'AI_SERVICE_ERROR', reason: 'CIRCUIT_OPEN', retryable: true, attempts: 0 });
    expect(r.server.requests).toHaveLength(5);
  });

  test('every attempt counts: retries feed the breaker, and no retry is made once it opened', async () => {
    const r = await rig(sequence(json(503, {})), { retries: 3 });
    // 4 attempts: 4 consecutive failures, still closed.
    expect(await failure(r.call())).toMatchObject({ reason: 'RETRIES_EXHAUSTED', attempts: 4 });
    expect(r.caller.status()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 4 });
    // The 5th attempt opens it: the call stops there instead of retrying.
    expect(await failure(r.call())).toMatchObject({ reason: 'CIRCUIT_OPEN', attempts: 1, status: 503 });
    expect(r.server.requests).toHaveLength(5);
    expect(r.caller.status().state).toBe('OPEN');
  });

  test('a 4xx is an answer: it breaks the run of consecutive failures', async () => {
    const r = await rig(sequence(json(503, {}), json(503, {}), json(503, {}), json(503, {}), json(404, {}), json(503, {})), { retries: 0 });
    for (let i = 0; i < 4; i += 1) await failure(r.call());
    expect(await failure(r.call())).toMatchObject({ reason: 'PROVIDER_REJECTED' });
    expect(r.caller.status()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 0 });
    for (let i = 0; i < 4; i += 1) await failure(r.call());
    expect(r.caller.status()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 4 });
  });

  test('timeouts, resets and malformed answers count as failures too', async () => {
    const r = await rig(sequence('hang', 'reset', { status: 200, body: 'nope' }, json(500, {}), 'reset'), { retries: 0, timeoutMs: 200 });
    for (let i = 0; i < 5; i += 1) await failure(r.call());
    expect(r.caller.status().state).toBe('OPEN');
  });

  test('half-opens after the configured delay; a successful trial closes it', async () => {
    const r = await rig(sequence(json(503, {})), { retries: 0, failureThreshold: 2, halfOpenAfterMs: 300 });
    const states: string[] = [];
    r.caller.onStateChange((s) => states.push(s.state));
    await failure(r.call());
    await failure(r.call());
    expect(r.caller.status().state).toBe('OPEN');
    await r.server.waitFor(() => r.caller.status().state === 'HALF_OPEN');
    r.server.setHandler(() => OK);
    await expect(r.call()).resolves.toEqual({ ok: true });
    expect(r.caller.status()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 0 });
    expect(states).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
    expect(r.server.requests).toHaveLength(3);
  });

  test('a failed half-open trial opens it again (and it half-opens again later)', async () => {
    const r = await rig(sequence(json(503, {})), { retries: 2, failureThreshold: 2, halfOpenAfterMs: 300 });
    const states: string[] = [];
    r.caller.onStateChange((s) => states.push(s.state));
    expect(await failure(r.call())).toMatchObject({ reason: 'CIRCUIT_OPEN', attempts: 2 });
    await r.server.waitFor(() => r.caller.status().state === 'HALF_OPEN');
    // One trial only: its failure re-opens the breaker and the call is not retried.
    expect(await failure(r.call())).toMatchObject({ reason: 'CIRCUIT_OPEN', attempts: 1 });
    expect(r.caller.status()).toMatchObject({ state: 'OPEN', consecutiveFailures: 3 });
    expect(r.server.requests).toHaveLength(3);
    await r.server.waitFor(() => r.caller.status().state === 'HALF_OPEN');
    expect(states).toEqual(['OPEN', 'HALF_OPEN', 'OPEN', 'HALF_OPEN']);
  });

  test('a caller abort of the half-open trial decides nothing: the next call is the trial', async () => {
    const r = await rig(sequence(json(503, {})), { retries: 0, failureThreshold: 1, halfOpenAfterMs: 200, timeoutMs: 60_000 });
    await failure(r.call());
    await r.server.waitFor(() => r.caller.status().state === 'HALF_OPEN');
    r.server.setHandler(() => 'hang');
    const controller = new AbortController();
    const pending = r.call(controller.signal);
    await r.server.waitFor(() => r.server.requests.length === 2);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(r.caller.status().state).toBe('HALF_OPEN');
    r.server.setHandler(() => OK);
    await expect(r.call()).resolves.toEqual({ ok: true });
    expect(r.caller.status().state).toBe('CLOSED');
  });
});
