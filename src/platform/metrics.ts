/**
 * Prometheus metrics (prom-client): one {@link Metrics} per process, made by `createServices` and
 * reached through `services.metrics`; tests make their own (each with its own registry, so nothing
 * is global and two services in one test process never share counters).
 *
 * Names follow the Prometheus conventions (base units: seconds and bytes; counters end in `_total`),
 * all prefixed `melody_`. Scraped at `GET /metrics` in the text exposition format 0.0.4.
 *
 * Gauges that describe shared state (queue depth) are read when scraped (`collect`), so every replica
 * reports the same figure and nothing has to keep them up to date.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Pipeline stage durations span ~10 ms (validation) to minutes (synthesis of a 5-minute melody), s. */
const STAGE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** GraphQL/HTTP operations: ~1 ms to a 5 s upload, s. */
const OPERATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Circuit-breaker states as the gauge's value (issue 6 adds the breakers; the gauge is ready). */
export const BREAKER_STATE = { closed: 0, halfOpen: 1, open: 2 } as const;

export interface Metrics {
  registry: Registry;
  jobsEnqueued: Counter;
  /** Label `outcome`: COMPLETED | CANCELLED | SKIPPED. */
  jobsCompleted: Counter<'outcome'>;
  /** Label `code`: the error model's code (final failures only). */
  jobsFailed: Counter<'code'>;
  /** Jobs handed back for a retry (retryable failure with retries left, or a worker shutdown). Label `reason`. */
  jobsRetried: Counter<'reason'>;
  /** Label `stage`: VALIDATION … FINALIZATION, and `job` for the whole run. */
  jobDuration: Histogram<'stage'>;
  /** Label `state`: waiting | active | delayed. Set by {@link Metrics.setQueueDepthSource}. */
  queueDepth: Gauge<'state'>;
  /** Label `cache`. */
  cacheHits: Counter<'cache'>;
  cacheMisses: Counter<'cache'>;
  /** Label `breaker`; value from {@link BREAKER_STATE}. */
  circuitBreakerState: Gauge<'breaker'>;
  /** Labels `method`, `route`, `status`. */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  /** Labels `operation` (operation name or `anonymous`), `type` (query | mutation | subscription), `outcome` (ok | error). */
  graphqlOperations: Counter<'operation' | 'type' | 'outcome'>;
  graphqlDuration: Histogram<'operation' | 'type'>;
  activeSubscriptions: Gauge;
  /** Repairs made by the reconciler, by `kind` (requeued_missing, requeued_succeeded, failed_from_queue, storage_removed). */
  reconcilerRepairs: Counter<'kind'>;
  /** Jobs added to the dead-letter list. */
  deadLetters: Counter;
  /** Where the queue depth gauge reads from when scraped (Bee-Queue's `checkHealth`). */
  setQueueDepthSource(source: () => Promise<Partial<Record<'waiting' | 'active' | 'delayed', number>>>): void;
}

export interface MetricsOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
  /** Constant labels on every series (e.g. `{ role: 'api' }`). */
  defaultLabels?: Record<string, string>;
}

/** Creates the metrics of one process on a registry of their own. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'melody_' });
  const registers = [registry];
  let depthSource: Parameters<Metrics['setQueueDepthSource']>[0] | null = null;

  const metrics: Metrics = {
    registry,
    jobsEnqueued: new Counter({ name: 'melody_jobs_enqueued_total', help: 'Conversion jobs enqueued by this process.', registers }),
    jobsCompleted: new Counter({
      name: 'melody_jobs_completed_total',
      help: 'Conversion jobs that ended without an error, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    jobsFailed: new Counter({
      name: 'melody_jobs_failed_total',
      help: 'Conversion jobs that failed for good, by error code.',
      labelNames: ['code'],
      registers,
    }),
    jobsRetried: new Counter({
      name: 'melody_jobs_retried_total',
      help: 'Conversion jobs handed back to the queue to run again, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'melody_job_duration_seconds',
      help: 'Time of conversion runs (stage="job") and of each pipeline stage, seconds.',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'melody_queue_depth',
      help: 'Conversion jobs in the queue by state, read from Redis when scraped.',
      labelNames: ['state'],
      registers,
      async collect() {
        if (!depthSource) return;
        try {
          const counts = await depthSource();
          for (const state of ['waiting', 'active', 'delayed'] as const) this.set({ state }, counts[state] ?? 0);
        } catch {
          // Redis unavailable: keep the last figures (readiness reports the outage).
        }
      },
    }),
    cacheHits: new Counter({ name: 'melody_cache_hits_total', help: 'Cache hits, by cache.', labelNames: ['cache'], registers }),
    cacheMisses: new Counter({ name: 'melody_cache_misses_total', help: 'Cache misses, by cache.', labelNames: ['cache'], registers }),
    circuitBreakerState: new Gauge({
      name: 'melody_circuit_breaker_state',
      help: 'Circuit-breaker state by breaker: 0 closed, 1 half-open, 2 open.',
      labelNames: ['breaker'],
      registers,
    }),
    httpRequests: new Counter({
      name: 'melody_http_requests_total',
      help: 'HTTP requests by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'melody_http_request_duration_seconds',
      help: 'HTTP request time, seconds.',
      labelNames: ['method', 'route'],
      buckets: OPERATION_BUCKETS,
      registers,
    }),
    graphqlOperations: new Counter({
      name: 'melody_graphql_operations_total',
      help: 'GraphQL operations by operation name, type and outcome.',
      labelNames: ['operation', 'type', 'outcome'],
      registers,
    }),
    graphqlDuration: new Histogram({
      name: 'melody_graphql_operation_duration_seconds',
      help: 'GraphQL operation time (queries and mutations), seconds.',
      labelNames: ['operation', 'type'],
      buckets: OPERATION_BUCKETS,
      registers,
    }),
    activeSubscriptions: new Gauge({ name: 'melody_active_subscriptions', help: 'GraphQL subscriptions open on this process.', registers }),
    reconcilerRepairs: new Counter({
      name: 'melody_reconciler_repairs_total',
      help: 'Rows, jobs and files repaired by the reconciler, by kind.',
      labelNames: ['kind'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'melody_dead_letters_total',
      help: 'Conversion jobs that failed for good and were added to the dead-letter list.',
      registers,
    }),
    setQueueDepthSource(source) {
      depthSource = source;
    },
  };
  return metrics;
}

/** Operation names for logs and spans: bounded length and charset (`invalid` otherwise), `anonymous` when absent. */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  return /^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(name) ? name : 'invalid';
}

/**
 * Operation names as *metric label values*: only names in `known` (a fixed set: the documented
 * operations) are kept, any other name is `other`, no name is `anonymous`. Clients choose operation
 * names freely: 20,000 names `Op1`…`Op20000` once grew /metrics to 31 MB and the heap by ~14 KB a name.
 */
export function metricOperationLabel(name: string | null | undefined, known: ReadonlySet<string>): string {
  if (!name) return 'anonymous';
  return known.has(name) ? name : 'other';
}
