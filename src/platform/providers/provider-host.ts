/**
 * The process-wide home of the remote providers: one resilient client per configured provider, each
 * behind its own circuit breaker, retries and timeout (src/platform/resilience.ts), shared by every
 * job this process runs so the breaker sees all their calls. Pipeline threads reach it through the
 * thread pool's provider calls (src/worker/thread-protocol.ts).
 */
import type { LyricsProvider, VocalEngine } from '../../audio/providers.js';

export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** One breaker as `stats` and `/metrics` show it. */
export interface BreakerStatus {
  /** `lyrics:llm`, `vocals:expert-music-ai`. */
  name: string;
  state: BreakerState;
  /** Consecutive failures counted now. */
  consecutiveFailures: number;
  /** When it last changed state (ISO), or null if never. */
  changedAt: string | null;
}

export interface ProviderHost {
  /** The remote lyrics provider with its resilience, or null when none is configured. */
  readonly lyrics: LyricsProvider | null;
  /** The remote vocal engine with its resilience, or null when none is configured. */
  readonly vocals: VocalEngine | null;
  /** Whether jobs fall back to the embedded engine when a provider fails (`PROVIDER_FALLBACK`). */
  readonly fallback: boolean;
  /** Every configured breaker's state now. */
  breakers(): BreakerStatus[];
  /** Called on every breaker state change; returns an unsubscribe function. */
  onBreakerChange(listener: (status: BreakerStatus) => void): () => void;
  /** Stops timers; calls in flight are aborted. */
  close(): void;
}
