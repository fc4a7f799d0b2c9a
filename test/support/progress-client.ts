/**
 * A real graphql-ws client (`createClient` with `ws` as the WebSocket) following `conversionProgress`
 * on a running API: every event is recorded as it arrives, with ways to wait for one, for the end of
 * the stream, or for the error that ended it.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Cleanup } from './service-harness.js';

export const PROGRESS_SUBSCRIPTION = `subscription Progress($id: ID!) {
  conversionProgress(id: $id) {
    conversionId status stage progress message at final
    error { code message retryable }
    conversion { id status progress result { vocalsUrl compressedAudioUrl lyrics } }
  }
}`;

export interface ProgressEvent {
  conversionId: string;
  status: string;
  stage: string | null;
  progress: number;
  message: string;
  at: string;
  final: boolean;
  error: { code: string; message: string; retryable: boolean } | null;
  conversion: {
    id: string;
    status: string;
    progress: number;
    result: { vocalsUrl: string; compressedAudioUrl: string; lyrics: string } | null;
  } | null;
}

/** A graphql-ws client of `httpUrl`'s `/graphql` with `token` in `connectionParams`; disposed of by the cleanup. */
export function progressClient(cleanup: Cleanup, httpUrl: string, token: string | null): Client {
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
  cleanup.add(() => client.dispose());
  return client;
}

export interface FollowedProgress {
  /** Every event so far, in arrival order. */
  events: ProgressEvent[];
  /** GraphQL errors of results that carried errors instead of data. */
  errors: unknown[];
  /** Resolves with the first event (received or future) matching `predicate`; rejects after `timeoutMs` or when the stream ends first. */
  waitFor(predicate: (event: ProgressEvent) => boolean, timeoutMs?: number): Promise<ProgressEvent>;
  /** Resolves with every event once the server completes the subscription; rejects with what ended it otherwise, or after `timeoutMs`. */
  completion(timeoutMs?: number): Promise<ProgressEvent[]>;
  /** Resolves with what ended the subscription with an error (GraphQL errors, or the socket's CloseEvent). */
  failure(timeoutMs?: number): Promise<unknown>;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what()} within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Subscribes to `conversionProgress(id)` on `client` and records what arrives. */
export function followProgress(client: Client, id: string): FollowedProgress {
  const events: ProgressEvent[] = [];
  const errors: unknown[] = [];
  const waiters: {
    predicate: (event: ProgressEvent) => boolean;
    resolve: (event: ProgressEvent) => void;
    reject: (error: Error) => void;
  }[] = [];
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const ended = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Either outcome is observed by completion() or failure(); never an unhandled rejection.
  ended.catch(() => undefined);
  const summary = () => JSON.stringify(events.map((event) => [event.status, event.stage, event.progress, event.final]));
  const endWaiters = (why: string) => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`${why} before a matching event; got ${summary()}`));
  };

  client.subscribe<{ conversionProgress: ProgressEvent }>(
    { query: PROGRESS_SUBSCRIPTION, variables: { id } },
    {
      next: (result) => {
        if (result.errors?.length) {
          errors.push(...result.errors);
          return;
        }
        const event = result.data!.conversionProgress;
        events.push(event);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(event)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(event);
          }
        }
      },
      error: (error) => {
        endWaiters('The subscription failed');
        settle.reject(error);
      },
      complete: () => {
        endWaiters('The subscription completed');
        if (errors.length > 0) settle.reject(errors);
        else settle.resolve();
      },
    },
  );

  return {
    events,
    errors,
    waitFor(predicate, timeoutMs = 60_000) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      const waiting = new Promise<ProgressEvent>((resolve, reject) => waiters.push({ predicate, resolve, reject }));
      return withTimeout(waiting, timeoutMs, () => `No matching progress event (got ${summary()})`);
    },
    completion(timeoutMs = 90_000) {
      return withTimeout(
        ended.then(() => events),
        timeoutMs,
        () => `The subscription did not complete (got ${summary()})`,
      );
    },
    failure(timeoutMs = 10_000) {
      return withTimeout(
        ended.then(
          () => {
            throw new Error(`The subscription completed without an error (got ${summary()})`);
          },
          (error: unknown) => error,
        ),
        timeoutMs,
        () => 'The subscription did not fail',
      );
    },
  };
}
