/**
 * The one file that knows mollitia 0.1.1 (pinned exactly in package.json) beyond its documented use:
 * a circuit of `Retry` → a step of ours before each attempt → a `SlidingCountBreaker` made to count
 * consecutive failures and to ignore outcomes that say nothing about the provider. What is relied on,
 * and pinned by test/unit/platform/mollitia-adapter.test.ts:
 *
 * - `SlidingCountBreaker` opens when failures / window × 100 >= `failureRateThreshold` once
 *   `minimumNumberOfCalls` were made, and records an error its `onError` filter rejects as a success;
 * - its protected `executePromise` resolves `{ requestResult, response }` with requestResult 1 for a
 *   failure, and `executeInClosed` / `executeInHalfOpened` can be overridden;
 * - the private counter `nbRequestsInHalfOpenedState` holds the half-open trial slots taken;
 * - state names `closed`, `half-opened`, `opened` and the `state-changed` event;
 * - `Retry`'s `onRejection(error, index)`: false stops, a number is its own wait before the next attempt;
 * - a `Module`'s `execute(circuit, next, ...params)` and `getExecParams`;
 * - the module-level arrays `circuits` and `modules` that keep every instance ever made (a leak
 *   unless removed; `Circuit#dispose` does not).
 */
import {
  Circuit,
  Module,
  Retry,
  SlidingCountBreaker,
  circuits as mollitiaCircuits,
  modules as mollitiaModules,
  type CircuitFunction,
} from 'mollitia';
import type { BreakerState } from './providers/provider-host.js';

export interface BreakerCircuitOptions<P> {
  /** The circuit's name (the breaker's in logs and metrics). */
  name: string;
  /** One attempt with the call's parameter. */
  attempt: (param: P) => Promise<unknown>;
  /** Further attempts after a rejected one, at most. */
  retries: number;
  /** Decides each retry: false stops; a number is mollitia's own wait first, ms (0: none). */
  onRejection: (error: unknown, index: number) => false | number;
  /** Runs before every attempt, inside the retries and outside the breaker (a backoff wait); may throw. */
  beforeAttempt: (param: P) => Promise<void>;
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long the breaker stays open before one trial call, ms. */
  halfOpenAfterMs: number;
  /** True for an error that is a failure of the provider. */
  isFailure: (error: unknown) => boolean;
  /** True for an error that tells about the provider (a failure, or an answer such as a 4xx); any other leaves the breaker as it was. */
  isVerdict: (error: unknown) => boolean;
}

/** A circuit: retries, the step before each attempt, a breaker. */
export interface BreakerCircuit<P> {
  /** Runs the attempts for `param`; rejects with the last attempt's error, or mollitia's own error when the breaker refused. */
  execute<T>(param: P): Promise<T>;
  /** The breaker's state. */
  state(): BreakerState;
  /** True while the breaker is closed (calls go through). */
  isClosed(): boolean;
  /** Called on every state change. */
  onStateChange(listener: () => void): void;
  /** Stops the breaker's timers and lets mollitia forget the circuit and its modules. */
  dispose(): void;
}

const STATES: Record<string, BreakerState> = { closed: 'CLOSED', 'half-opened': 'HALF_OPEN', opened: 'OPEN' };

/** Thrown inside the breaker for outcomes it must not record (caller aborts, our own bugs). */
class NeutralOutcome extends Error {
  constructor(readonly error: unknown) {
    super('neutral outcome');
  }
}

/** mollitia's request result 1 is FAILURE (an error was thrown). */
function isFailureOutcome(outcome: { requestResult: number }): boolean {
  return outcome.requestResult === 1;
}

/**
 * mollitia's count breaker, made to count CONSECUTIVE failures and to leave neutral outcomes out of
 * its books entirely: mollitia records an error its `onError` filter rejects as a success, which
 * would let an aborted half-open trial close the breaker.
 */
class ConsecutiveFailureBreaker extends SlidingCountBreaker {
  constructor(
    threshold: number,
    halfOpenAfterMs: number,
    isFailure: (error: unknown) => boolean,
    private readonly isVerdict: (error: unknown) => boolean,
  ) {
    super({
      name: 'breaker',
      slidingWindowSize: threshold,
      minimumNumberOfCalls: threshold,
      // mollitia opens when failures / window × 100 >= this (and ignores a threshold of 100): just above
      // (threshold − 1) / threshold, so only a window of nothing but failures opens it.
      failureRateThreshold: (100 * (threshold - 0.5)) / threshold,
      slowCallDurationThreshold: 0,
      openStateDelay: halfOpenAfterMs,
      permittedNumberOfCallsInHalfOpenState: 1,
      onError: isFailure,
    });
  }

  protected override executePromise(promise: CircuitFunction, ...params: unknown[]) {
    return super.executePromise(promise, ...params).then((outcome) => {
      const error = outcome.response as unknown;
      if (isFailureOutcome(outcome) && !this.isVerdict(error)) throw new NeutralOutcome(error);
      return outcome;
    });
  }

  override async executeInClosed<T>(promise: CircuitFunction, ...params: unknown[]): Promise<T> {
    try {
      return await super.executeInClosed<T>(promise, ...params);
    } catch (error) {
      if (error instanceof NeutralOutcome) throw error.error;
      throw error;
    }
  }

  protected override async executeInHalfOpened<T>(promise: CircuitFunction, ...params: unknown[]): Promise<T> {
    try {
      return await super.executeInHalfOpened<T>(promise, ...params);
    } catch (error) {
      if (error instanceof NeutralOutcome) {
        // The trial slot was taken but nothing was learnt: give it back for the next call.
        const self = this as unknown as { nbRequestsInHalfOpenedState: number };
        self.nbRequestsInHalfOpenedState = Math.max(0, self.nbRequestsInHalfOpenedState - 1);
        throw error.error;
      }
      throw error;
    }
  }
}

/** Runs a step before the next attempt reaches the breaker. */
class BeforeAttempt<P> extends Module {
  constructor(private readonly step: (param: P) => Promise<void>) {
    super({ name: 'backoff' });
  }

  override async execute<T>(circuit: Circuit, next: CircuitFunction, ...params: unknown[]): Promise<T> {
    const [param] = this.getExecParams(circuit, params) as [P];
    await this.step(param);
    return (await next(...params)) as T;
  }
}

export function createBreakerCircuit<P>(options: BreakerCircuitOptions<P>): BreakerCircuit<P> {
  const breaker = new ConsecutiveFailureBreaker(options.failureThreshold, options.halfOpenAfterMs, options.isFailure, options.isVerdict);
  const retry = new Retry({ name: 'retry', attempts: options.retries, onRejection: options.onRejection });
  const circuit = new Circuit({
    name: options.name,
    func: options.attempt as CircuitFunction,
    options: { modules: [retry, new BeforeAttempt(options.beforeAttempt), breaker] },
  });
  return {
    execute: <T>(param: P) => circuit.execute<T>(param),
    state: () => STATES[breaker.state] ?? 'CLOSED',
    isClosed: () => breaker.state === 'closed',
    onStateChange(listener) {
      breaker.on('state-changed', listener);
    },
    dispose() {
      circuit.dispose();
      // mollitia keeps every circuit and module in module-level arrays: let this one go.
      for (const list of [mollitiaCircuits, mollitiaModules] as unknown[][]) {
        for (const item of [circuit, retry, breaker, ...circuit.modules]) {
          const at = list.indexOf(item);
          if (at >= 0) list.splice(at, 1);
        }
      }
    },
  };
}
