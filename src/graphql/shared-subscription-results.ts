/**
 * Subscription fan-out without per-subscriber work: an event that N subscriptions receive is executed
 * once per (event, document, operation name, variables, viewer) and serialised once, not N times.
 *
 * graphql-js's `subscribe` maps every source event through `execute` for every subscription, and
 * graphql-ws stringifies every `next` message whole; with 2,000 `conversionProgress` subscribers both
 * ran 2,000 times per event (p99 publish→client 723 ms, docs/benchmarks.md). Here:
 *
 * 1. {@link SharedSubscriptionResults.subscribe} (graphql-ws's `subscribe` option) builds the source
 *    stream as graphql-js does (`createSourceEventStream`, so the `subscribe` resolver, with its
 *    ownership check, still runs once per subscription) and maps each event through a memo keyed by
 *    the event object itself (a WeakMap: it lives as long as some subscriber still holds the event)
 *    and then by the subscription's shape. graphql-redis-subscriptions parses a Redis message once and
 *    hands the same object to every listener of the channel, so subscribers of one conversion share
 *    it; an event made for one subscriber (the late joiner's first event, a progress figure raised
 *    for one stream) is its own object and so its own execution. The viewer (user id and role) is
 *    part of the shape, so a result is never shared between two users; the stream itself still
 *    checks, per subscription, that the event is the subscriber's (progress.service.ts).
 * 2. graphql-ws's `onNext` swaps a shared, error-free result for a {@link SharedPayload} stand-in,
 *    its `jsonMessageReplacer` ({@link SharedSubscriptionResults.replacer}) writes the stand-in as a
 *    token (`"<process nonce>:<serial>"`), and the socket's `send`
 *    ({@link SharedSubscriptionResults.expand}) splices the result's JSON, made once, in place of the
 *    token. So each socket's message is `{"id":…,"type":"next","payload":<shared JSON>}` with only
 *    the id its own. The nonce is random per process and never leaves it (every token is replaced
 *    before the message is sent), so no client data can forge a token.
 *
 * The shared execution runs in the context of the first subscriber that asked for it: same user and
 * role (part of the key), but that subscriber's request id on any log line a resolver writes.
 */
import { randomBytes } from 'node:crypto';
import { createSourceEventStream, execute, print, subscribe, type ExecutionArgs, type ExecutionResult } from 'graphql';

/** The stand-in graphql-ws sends as the `payload` of a `next` message whose JSON was made once. */
export class SharedPayload {
  constructor(readonly token: string) {}
}

/** Counts since the process started (tests and the subscribers bench read them). */
export interface SharedResultsStats {
  /** Events executed (graphql-js `execute`) on the shared path. */
  executions: number;
  /** Results handed to subscriptions on the shared path (executed or taken from the memo). */
  results: number;
  /** Results serialised once for sharing. */
  serialisations: number;
  /** `next` messages sent with a shared serialisation spliced in. */
  splicedMessages: number;
}

export interface SharedResultsOptions {
  /** Off: graphql-js `subscribe` and per-message serialisation, as before (for comparison). Default on. */
  enabled?: boolean;
  /** What of the operation's context a result depends on besides the document and variables (the viewer). */
  viewerKey: (contextValue: unknown) => string;
  /** Called once per execution and once per serialisation (metrics). */
  onExecution?: () => void;
  onSerialisation?: () => void;
}

type Maybe<T> = T | Promise<T>;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}

/**
 * `stream` with every event mapped through `map`, as graphql-js's own mapping: `return()` reaches the
 * source at once (progress.service.ts unsubscribes from Redis there), and a failing `map` closes it.
 */
function mapEvents(
  stream: AsyncIterable<unknown>,
  map: (event: unknown) => Maybe<ExecutionResult>,
): AsyncIterableIterator<ExecutionResult> {
  const source = stream[Symbol.asyncIterator]();
  const close = async () => {
    if (typeof source.return === 'function') await source.return();
  };
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const step = await source.next();
      if (step.done) return { value: undefined, done: true };
      try {
        return { value: await map(step.value), done: false };
      } catch (error) {
        await close().catch(() => undefined);
        throw error;
      }
    },
    async return() {
      await close();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      if (typeof source.throw === 'function') {
        const step = await source.throw(error);
        return step.done ? { value: undefined, done: true } : { value: await map(step.value), done: false };
      }
      await close();
      throw error;
    },
    [Symbol.asyncIterator]: () => mapped,
  };
  return mapped;
}

export class SharedSubscriptionResults {
  readonly stats: SharedResultsStats = { executions: 0, results: 0, serialisations: 0, splicedMessages: 0 };
  private readonly enabled: boolean;
  private readonly nonce = randomBytes(16).toString('hex');
  /** What a token looks like at the end of a serialised `next` message. */
  private readonly mark = `"payload":"${this.nonce}:`;
  /** event → subscription shape → its result. */
  private readonly byEvent = new WeakMap<object, Map<string, Maybe<ExecutionResult>>>();
  /** Results made on the shared path (only those are ever swapped for a stand-in). */
  private readonly shared = new WeakSet<object>();
  /** A shared result's stand-in, made at its first delivery. */
  private readonly payloads = new WeakMap<object, SharedPayload>();
  /** Token serial → the JSON it stands for; an entry goes when its stand-in is collected. */
  private readonly json = new Map<number, string>();
  private readonly forget = new FinalizationRegistry<number>((serial) => this.json.delete(serial));
  private serial = 0;

  constructor(private readonly options: SharedResultsOptions) {
    this.enabled = options.enabled ?? true;
  }

  /** graphql-ws's `subscribe` option. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    if (!this.enabled) return subscribe(args) as Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const execution = (event: unknown) =>
      execute({
        schema: args.schema,
        document: args.document,
        rootValue: event,
        contextValue: args.contextValue,
        variableValues: args.variableValues,
        operationName: args.operationName,
        fieldResolver: args.fieldResolver,
      });
    const shape = JSON.stringify([
      args.document.loc?.source.body ?? print(args.document),
      args.operationName ?? null,
      args.variableValues ?? null,
      this.options.viewerKey(args.contextValue),
    ]);
    return mapEvents(stream, (event) => this.resultFor(event, shape, () => execution(event)));
  };

  /**
   * graphql-ws's `onNext` for a result without errors: its shared stand-in, or undefined when it was
   * made for this subscription alone (graphql-ws then serialises it as usual).
   */
  payloadFor(result: ExecutionResult): SharedPayload | undefined {
    if (!this.shared.has(result) || result.errors?.length) return undefined;
    let payload = this.payloads.get(result);
    if (!payload) {
      const serial = this.serial++;
      payload = new SharedPayload(`${this.nonce}:${serial}`);
      this.json.set(serial, JSON.stringify(result));
      this.forget.register(payload, serial);
      this.payloads.set(result, payload);
      this.stats.serialisations++;
      this.options.onSerialisation?.();
    }
    return payload;
  }

  /** graphql-ws's `jsonMessageReplacer`: a stand-in is written as its token. */
  readonly replacer = (_key: string, value: unknown): unknown => (value instanceof SharedPayload ? value.token : value);

  /**
   * A message as graphql-ws serialised it → the message to send: a `next` message that ends in a
   * token gets the shared JSON in its place; any other message is returned as it is.
   * @throws Error when a token's JSON is gone (cannot happen while the result is being sent).
   */
  expand(data: string): string {
    if (!data.endsWith('"}')) return data;
    const at = data.lastIndexOf(this.mark);
    if (at < 0) return data;
    const serial = Number(data.slice(at + this.mark.length, -2));
    const json = this.json.get(serial);
    if (json === undefined) throw new Error(`No shared payload ${serial}.`);
    this.stats.splicedMessages++;
    return `${data.slice(0, at)}"payload":${json}}`;
  }

  private resultFor(event: unknown, shape: string, run: () => Maybe<ExecutionResult>): Maybe<ExecutionResult> {
    this.stats.results++;
    if (typeof event !== 'object' || event === null) return run();
    let shapes = this.byEvent.get(event);
    if (!shapes) {
      shapes = new Map();
      this.byEvent.set(event, shapes);
    }
    let result = shapes.get(shape);
    if (result === undefined) {
      this.stats.executions++;
      this.options.onExecution?.();
      const made = run();
      result = made instanceof Promise ? made.then((value) => this.markShared(value)) : this.markShared(made);
      shapes.set(shape, result);
    }
    return result;
  }

  private markShared(result: ExecutionResult): ExecutionResult {
    this.shared.add(result);
    return result;
  }
}
