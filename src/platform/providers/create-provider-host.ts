/**
 * Builds this process's {@link ProviderHost} from the configuration: a ResilientCaller (breaker,
 * retries, timeout) per configured provider, the clients on top, and the breakers' states fed to the
 * `melody_circuit_breaker_state{breaker}` gauge (0 closed, 1 half-open, 2 open) and the log.
 */
import type { LyricsProvider, ProviderCallOptions, VocalEngine } from '../../audio/providers.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { BREAKER_STATE, type Metrics } from '../metrics.js';
import { createResilientCaller, ProviderError, type ResilienceOptions, type ResilientCaller } from '../resilience.js';
import { createLlmLyricsProvider } from './llm-lyrics.provider.js';
import type { BreakerState, BreakerStatus, ProviderHost } from './provider-host.js';
import { createRemoteVocalEngine } from './remote-vocal-engine.js';

/** Breaker names, as they appear in `stats`, `/metrics` and logs. */
export const LYRICS_BREAKER = 'lyrics:llm';
export const VOCALS_BREAKER = 'vocals:expert-music-ai';

export type ProviderHostConfig = Pick<
  Config,
  | 'llmApiUrl'
  | 'llmModel'
  | 'llmApiKey'
  | 'expertMusicAiUrl'
  | 'expertMusicAiKey'
  | 'expertMusicAiPollMs'
  | 'providerTimeoutMs'
  | 'providerRetries'
  | 'providerRetryBaseMs'
  | 'breakerFailureThreshold'
  | 'breakerHalfOpenAfterMs'
  | 'providerFallback'
>;

export interface ProviderHostDeps {
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Where breaker states are exported; none in hand-built test setups. */
  metrics?: Pick<Metrics, 'circuitBreakerState' | 'providerFailures'>;
  /** Injected into every caller (tests): sleep, random, now, onRetry. */
  resilience?: Pick<ResilienceOptions, 'sleep' | 'random' | 'now' | 'onRetry'>;
}

/**
 * A signal that aborts when any of `signals` does, whose listeners `dispose()` removes. Not
 * `AbortSignal.any`: the host's own signal lives as long as the process, and Node keeps every signal
 * combined from a live one (nodejs/node#55351), one per provider call.
 */
function linkSignals(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const links: [AbortSignal, () => void][] = [];
  for (const source of signals) {
    if (!source) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = () => controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    links.push([source, onAbort]);
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [source, onAbort] of links) source.removeEventListener('abort', onAbort);
    },
  };
}

const GAUGE: Record<BreakerState, number> = { CLOSED: BREAKER_STATE.closed, HALF_OPEN: BREAKER_STATE.halfOpen, OPEN: BREAKER_STATE.open };

/**
 * The process's provider host. A provider whose URL is unset is null (the embedded engine only).
 * `close()` stops the breakers' timers; calls still in flight end with their own signals.
 */
export function createProviderHost(config: ProviderHostConfig, deps: ProviderHostDeps): ProviderHost {
  const { logger, metrics } = deps;
  const listeners = new Set<(status: BreakerStatus) => void>();
  const callers: ResilientCaller[] = [];

  const callerFor = (name: string): ResilientCaller => {
    const caller = createResilientCaller(name, {
      timeoutMs: config.providerTimeoutMs,
      retries: config.providerRetries,
      retryBaseMs: config.providerRetryBaseMs,
      failureThreshold: config.breakerFailureThreshold,
      halfOpenAfterMs: config.breakerHalfOpenAfterMs,
      ...deps.resilience,
    });
    metrics?.circuitBreakerState.set({ breaker: name }, GAUGE.CLOSED);
    caller.onStateChange((status) => {
      metrics?.circuitBreakerState.set({ breaker: name }, GAUGE[status.state]);
      const fields = { breaker: name, state: status.state, consecutiveFailures: status.consecutiveFailures };
      if (status.state === 'CLOSED') logger.info('Circuit breaker closed', fields);
      else logger.warn(status.state === 'OPEN' ? 'Circuit breaker opened' : 'Circuit breaker half-open', fields);
      for (const listener of [...listeners]) listener(status);
    });
    callers.push(caller);
    // Calls that failed for good, by reason (a ProviderError's: CIRCUIT_OPEN, RETRIES_EXHAUSTED…); an abort is no failure.
    const run: ResilientCaller['run'] = async (attempt, options) => {
      try {
        return await caller.run(attempt, options);
      } catch (error) {
        if (error instanceof ProviderError) metrics?.providerFailures.inc({ breaker: name, reason: error.reason });
        throw error;
      }
    };
    return {
      name: caller.name,
      run,
      status: () => caller.status(),
      onStateChange: (listener) => caller.onStateChange(listener),
      close: () => caller.close(),
    };
  };

  // close() aborts the calls in flight: every call also listens to this signal.
  const closing = new AbortController();
  const withClosing = async <T>(
    options: ProviderCallOptions | undefined,
    call: (options: ProviderCallOptions) => Promise<T>,
  ): Promise<T> => {
    const linked = linkSignals(closing.signal, options?.signal);
    try {
      return await call({ ...options, signal: linked.signal });
    } finally {
      linked.dispose();
    }
  };

  const lyricsClient = config.llmApiUrl
    ? createLlmLyricsProvider({
        url: config.llmApiUrl,
        model: config.llmModel,
        apiKey: config.llmApiKey,
        caller: callerFor(LYRICS_BREAKER),
      })
    : null;
  const vocalsClient = config.expertMusicAiUrl
    ? createRemoteVocalEngine({
        baseUrl: config.expertMusicAiUrl,
        apiKey: config.expertMusicAiKey,
        pollMs: config.expertMusicAiPollMs,
        timeoutMs: config.providerTimeoutMs,
        caller: callerFor(VOCALS_BREAKER),
        sleep: deps.resilience?.sleep,
      })
    : null;

  const lyrics: LyricsProvider | null = lyricsClient && {
    name: lyricsClient.name,
    writeLyrics: (request, options) => withClosing(options, (o) => lyricsClient.writeLyrics(request, o)),
  };
  const vocals: VocalEngine | null = vocalsClient && {
    name: vocalsClient.name,
    sing: (request, options) => withClosing(options, (o) => vocalsClient.sing(request, o)),
  };

  return {
    lyrics,
    vocals,
    fallback: config.providerFallback,
    breakers: () => callers.map((caller) => caller.status()),
    onBreakerChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      closing.abort();
      listeners.clear();
      for (const caller of callers) caller.close();
    },
  };
}
