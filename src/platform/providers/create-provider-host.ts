/**
 * Builds this process's {@link ProviderHost} from the configuration: a ResilientCaller (breaker,
 * retries, timeout) per configured provider, the clients on top, and the breakers' states fed to the
 * `melody_circuit_breaker_state{breaker}` gauge (0 closed, 1 half-open, 2 open) and the log.
 */
import type { LyricsProvider, ProviderCallOptions, VocalEngine } from '../../audio/providers.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { BREAKER_STATE, type Metrics } from '../metrics.js';
import { createResilientCaller, type ResilienceOptions, type ResilientCaller } from '../resilience.js';
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
  metrics?: Pick<Metrics, 'circuitBreakerState'>;
  /** Injected into every caller (tests): sleep, random, now, onRetry. */
  resilience?: Pick<ResilienceOptions, 'sleep' | 'random' | 'now' | 'onRetry'>;
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
    return caller;
  };

  // close() aborts the calls in flight: every call also listens to this signal.
  const closing = new AbortController();
  const withClosing = (options: ProviderCallOptions = {}): ProviderCallOptions => ({ ...options, signal: options.signal ? AbortSignal.any([options.signal, closing.signal]) : closing.signal });

  const lyricsClient = config.llmApiUrl
    ? createLlmLyricsProvider({ url: config.llmApiUrl, model: config.llmModel, apiKey: config.llmApiKey, caller: callerFor(LYRICS_BREAKER) })
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

  const lyrics: LyricsProvider | null = lyricsClient && { name: lyricsClient.name, writeLyrics: (request, options) => lyricsClient.writeLyrics(request, withClosing(options)) };
  const vocals: VocalEngine | null = vocalsClient && { name: vocalsClient.name, sing: (request, options) => vocalsClient.sing(request, withClosing(options)) };

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
