/**
 * One HTTP request of a remote provider, as an attempt of a ResilientCaller: Node's fetch, the body
 * read in full (bounded), and every failure thrown as an {@link AttemptFault} the resilience layer
 * understands: 429 and 5xx are transient STATUS faults (with their `Retry-After`), other 4xx are
 * REJECTED, connection faults NETWORK, an oversized or unexpected answer BAD_RESPONSE. An abort of
 * `signal` is rethrown as is: the caller tells its own abort from its timeout.
 */
import { AttemptFault } from '../resilience.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  /** Largest answer body accepted, bytes; a longer one is a BAD_RESPONSE. */
  maxBytes: number;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** The status line of a failed answer, with a short, single-line excerpt of its body. */
function describeAnswer(status: number, body: Uint8Array): string {
  const text = new TextDecoder().decode(body.subarray(0, 200)).replace(/\s+/g, ' ').trim();
  return text ? `HTTP ${status}: ${text}` : `HTTP ${status}`;
}

async function readBody(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new AttemptFault('BAD_RESPONSE', `The answer is ${declared} bytes, more than the ${maxBytes} accepted.`, {
      status: response.status,
    });
  }
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new AttemptFault('BAD_RESPONSE', `The answer is longer than the ${maxBytes} bytes accepted.`, { status: response.status });
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/**
 * Sends `request` and returns a 2xx answer with its whole body.
 * @throws AttemptFault (STATUS, REJECTED, NETWORK, BAD_RESPONSE); the signal's reason when it aborted.
 */
export async function httpRequest(request: HttpRequest, signal: AbortSignal): Promise<HttpAnswer> {
  let response: Response;
  let body: Uint8Array;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal,
      redirect: 'error',
    });
    body = await readBody(response, request.maxBytes);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof AttemptFault) throw error;
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const detail =
      typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error).message;
    throw new AttemptFault('NETWORK', `${request.method} ${new URL(request.url).pathname} failed: ${detail}`, { cause: error });
  }
  const { status } = response;
  if (status >= 200 && status < 300) return { status, headers: response.headers, body };
  const message = describeAnswer(status, body);
  if (status === 429 || status >= 500)
    throw new AttemptFault('STATUS', message, { status, retryAfter: response.headers.get('retry-after') });
  if (status >= 400) throw new AttemptFault('REJECTED', message, { status });
  throw new AttemptFault('BAD_RESPONSE', `Unexpected ${message}`, { status });
}

/** `Authorization: Bearer <key>` when a key is configured. */
export function bearer(key: string | null): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}
