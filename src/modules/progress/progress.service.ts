/**
 * The event stream behind the `conversionProgress` subscription: first the conversion's current state
 * from the database (a synthesised event), then the live events the worker (or cancelConversion)
 * publishes on the conversion's Redis channel, ending after the final one.
 *
 * Race-free late join: we SUBSCRIBE to the channel first and wait for Redis to confirm, THEN read the
 * row. An event published before the read is either reflected in the row or waiting in our inbox; none
 * can fall in between. Events that were already in the inbox when the row was read are de-duplicated
 * against it (see {@link isReflectedIn}). If the row is already final we send it and complete.
 * Within one run the progress shown never decreases (see `monotonic` below).
 */
import type { RedisPubSub } from 'graphql-redis-subscriptions';
import { NotFoundError } from '../../platform/api-errors.js';
import { Topic, topicChannel, type ProgressPayload } from '../../platform/pubsub.js';
import { conversionUuidFromId } from '../node/global-id.js';
import { ConversionStatus, type Conversion } from '../conversion/conversion.entity.js';

/** The conversion does not exist or is not the caller's (the two are one answer): NOT_FOUND. */
export class ProgressNotFoundError extends NotFoundError {
  constructor() {
    super('No conversion with this id.');
  }
}

export interface ProgressStreamDeps {
  pubsub: Pick<RedisPubSub, 'subscribe' | 'unsubscribe'>;
  redisPrefix: string;
  /** Reads the caller's conversion afresh (a new EntityManager fork: no stale identity map); null when missing or not theirs. */
  loadOwned: (userId: string, conversionUuid: string) => Promise<Conversion | null>;
}

const FINAL = new Set<string>([ConversionStatus.COMPLETED, ConversionStatus.FAILED, ConversionStatus.CANCELLED]);

const MESSAGES: Record<ConversionStatus, string> = {
  [ConversionStatus.PENDING]: 'Waiting for a worker.',
  [ConversionStatus.PROCESSING]: 'Processing.',
  [ConversionStatus.COMPLETED]: 'Completed.',
  [ConversionStatus.FAILED]: 'Failed.',
  [ConversionStatus.CANCELLED]: 'Cancelled.',
};

/** The current state of a row as a progress event (what a late joiner receives first). */
export function eventFromRow(row: Conversion): ProgressPayload {
  return {
    conversionId: row.id,
    userId: row.user.id,
    status: row.status,
    stage: row.stage,
    progress: row.progress,
    message: row.error && row.status !== ConversionStatus.COMPLETED ? row.error.message : MESSAGES[row.status],
    at: row.updatedAt.toISOString(),
    final: FINAL.has(row.status),
    error: row.error ? { code: row.error.code, message: row.error.message, retryable: row.error.retryable } : null,
  };
}

/**
 * Whether an event that reached us before the row was read is already contained in the row, so it
 * must not be replayed after it: it is not final, and it was made no later than the row was last
 * written (the row was written after it, by the same single writer, so holds its state or a newer
 * one), or it is an earlier step of the same status.
 */
export function isReflectedIn(event: ProgressPayload, row: Conversion): boolean {
  if (event.final) return false;
  const at = Date.parse(event.at);
  if (Number.isFinite(at) && at <= row.updatedAt.getTime()) return true;
  return event.status === row.status && event.progress <= row.progress && event.stage === row.stage;
}

/** A buffer between Redis callbacks and the consumer; `close()` ends a pending `next()` at once. */
class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: ((value: T | null) => void) | null = null;
  private closed = false;

  push(item: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = null;
      wake(item);
    } else {
      this.items.push(item);
    }
  }

  /** Everything buffered so far, removed from the buffer. */
  drain(): T[] {
    return this.items.splice(0);
  }

  /** The next item, or null once closed. */
  next(): Promise<T | null> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  close(): void {
    this.closed = true;
    this.items.length = 0;
    this.waiter?.(null);
    this.waiter = null;
  }
}

function isPayload(value: unknown): value is ProgressPayload {
  const v = value as ProgressPayload;
  return (
    typeof v === 'object' && v !== null && typeof v.conversionId === 'string' && typeof v.status === 'string' && typeof v.at === 'string'
  );
}

/**
 * Opens the progress stream of the caller's conversion `id` (global id or UUID).
 * @throws ProgressNotFoundError when it is missing, malformed or not the caller's; nothing stays subscribed then.
 * @returns an async iterator whose `return()` unsubscribes at once, even while it waits for an event.
 */
export async function openProgressStream(
  deps: ProgressStreamDeps,
  userId: string,
  id: string,
): Promise<AsyncIterableIterator<ProgressPayload>> {
  const uuid = conversionUuidFromId(id);
  if (!uuid) throw new ProgressNotFoundError();
  const inbox = new Inbox<ProgressPayload>();
  // 1. Subscribe, and wait for Redis to confirm, before reading the row.
  const subscriptionId = await deps.pubsub.subscribe(
    topicChannel(deps.redisPrefix, Topic.CONVERSION_PROGRESS, uuid),
    (message: unknown) => {
      // Ownership is checked again on delivery: only this user's events for this conversion pass.
      if (isPayload(message) && message.conversionId === uuid && message.userId === userId) inbox.push(message);
    },
  );
  let unsubscribed = false;
  const dispose = () => {
    inbox.close();
    if (!unsubscribed) {
      unsubscribed = true;
      deps.pubsub.unsubscribe(subscriptionId);
    }
  };
  // 2. Read the row.
  let row: Conversion | null;
  try {
    row = await deps.loadOwned(userId, uuid);
  } catch (error) {
    dispose();
    throw error;
  }
  if (!row) {
    dispose();
    throw new ProgressNotFoundError();
  }
  const snapshot = row;
  // 3. Events that arrived meanwhile, minus those the row already holds.
  const early = inbox.drain().filter((event) => !isReflectedIn(event, snapshot));

  // Progress as shown never goes back within one run: the row's progress (which a cancel's final event
  // carries) is written throttled and may lag the worker's last event. A return to PENDING (a retry,
  // or a worker that went away) starts a new run from its own figure.
  let shown = -1;
  const monotonic = (event: ProgressPayload): ProgressPayload => {
    if (event.status === 'PENDING' && !event.final) {
      shown = event.progress;
      return event;
    }
    shown = Math.max(shown, event.progress);
    return shown === event.progress ? event : { ...event, progress: shown };
  };

  async function* merge(): AsyncGenerator<ProgressPayload, void, undefined> {
    try {
      const initial = monotonic(eventFromRow(snapshot));
      yield initial;
      if (initial.final) return;
      for (const event of early) {
        yield monotonic(event);
        if (event.final) return;
      }
      for (;;) {
        const event = await inbox.next();
        if (!event) return;
        yield monotonic(event);
        if (event.final) return;
      }
    } finally {
      dispose();
    }
  }

  const generator = merge();
  const iterator: AsyncIterableIterator<ProgressPayload> = {
    next: () => generator.next(),
    // An async generator suspended on `await inbox.next()` would only see return() after its next
    // event; closing the inbox first wakes it, so a client that leaves is unsubscribed at once.
    return: async () => {
      dispose();
      return generator.return(undefined);
    },
    throw: async (error: unknown) => {
      dispose();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
