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
/** Time a job waits in the queue before a worker starts it: ~10 ms (idle workers) to an hour (a backlog), s. */
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600];
/** GraphQL/HTTP operations: ~1 ms to a 5 s upload, s. */
const OPERATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Circuit-breaker states as the gauge's value (issue 6 adds the breakers; the gauge is ready). */
export const BREAKER_STATE = { closed: 0, halfOpen: 1, open: 2 } as const;

export interface Metrics {
  registry: Registry;
  jobsEnqueued: Counter;
  /** Decode helper processes that stopped without being asked to (each is replaced; decode-helper.ts). */
  decodeHelperCrashes: Counter;
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
  /** Subscription events executed, and results serialised, once for all subscribers sharing them (src/graphql/shared-subscription-results.ts). */
  subscriptionExecutions: Counter;
  subscriptionSerialisations: Counter;
  /** Repairs made by the reconciler, by `kind` (requeued_missing, requeued_succeeded, failed_from_queue, storage_removed). */
  reconcilerRepairs: Counter<'kind'>;
  /** Jobs added to the dead-letter list. */
  deadLetters: Counter;
  /** Time from a job's enqueueing (Bee-Queue's job timestamp) to the start of each run of it, s. */
  queueWait: Histogram;
  /** Jobs whose worker stopped renewing their lock (crash, kill -9) and that this process's stalled check handed back. */
  jobsStalled: Counter;
  /** Remote provider calls that failed for good, by `breaker` (a fixed set) and `reason` (ProviderFailureReason). */
  providerFailures: Counter<'breaker' | 'reason'>;
  /** Bytes written to storage, by `kind`: `input` (uploads) or `output` (a run's result files). */
  storageBytesWritten: Counter<'kind'>;
  /**
   * Shared-state gauges read from PostgreSQL and Redis when scraped, through {@link Metrics.setSharedStateSource}
   * (only API processes set one: every replica would report the same figures).
   */
  databaseSize: Gauge;
  redisMemory: Gauge;
  /** Feedback rows by `rating` 1–5 (all time). */
  ratings: Gauge<'rating'>;
  /** Conversions created in the last 24 h by `genre` / `mood`: the 10 most frequent values only (bounded labels). */
  topGenres: Gauge<'genre'>;
  topMoods: Gauge<'mood'>;
  /** Quota units used in the current `period` (day | month), summed over users. */
  quotaUsed: Gauge<'period'>;
  /** Uploaded input bytes of the conversions still held (their rows exist). */
  storedInputBytes: Gauge;
  /** 1 when this process's readiness checks (PostgreSQL, Redis, migrations) pass, else 0; checked when scraped. */
  ready: Gauge;
  /** Each readiness check by `dependency` (postgres | redis | migrations): 1 ok, 0 down; checked when scraped. */
  dependencyUp: Gauge<'dependency'>;
  /** Where the readiness gauges read from when scraped (health.ts `checkHealth`). */
  setReadinessSource(source: () => Promise<{ checks: Record<string, { ok: boolean }> }>): void;
  /** Where the queue depth gauge reads from when scraped (Bee-Queue's `checkHealth`). */
  setQueueDepthSource(source: () => Promise<Partial<Record<'waiting' | 'active' | 'delayed', number>>>): void;
  /** Where the shared-state gauges read from when scraped; its answer is reused for {@link SHARED_STATE_TTL_MS}. */
  setSharedStateSource(source: () => Promise<SharedState>): void;
}

/** What {@link Metrics.setSharedStateSource}'s source answers. */
export interface SharedState {
  databaseBytes: number;
  redisUsedMemoryBytes: number;
  /** Rating (1–5) → rows. */
  ratings: Record<string, number>;
  /** Value → conversions in the last 24 h; at most {@link TOP_LABELS} entries each. */
  genres: Record<string, number>;
  moods: Record<string, number>;
  quotaUsedToday: number;
  quotaUsedThisMonth: number;
  storedInputBytes: number;
}

/** Most label values the top-genre and top-mood gauges carry. */
export const TOP_LABELS = 10;
/** How long one read of the shared state serves scrapes, ms (a scrape reads all seven gauges). */
export const SHARED_STATE_TTL_MS = 10_000;

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
  let stateSource: (() => Promise<SharedState>) | null = null;
  let readinessSource: Parameters<Metrics['setReadinessSource']>[0] | null = null;
  let readiness: Promise<Record<string, { ok: boolean }> | null> | null = null;
  /** One readiness check per scrape for both gauges (the first collect starts it, the last clears it). */
  const readinessChecks = () =>
    (readiness ??= (
      readinessSource
        ? readinessSource().then(
            (report) => report.checks,
            () => null,
          )
        : Promise.resolve(null)
    ).finally(() => setTimeout(() => (readiness = null), 1000).unref()));
  let stateRead: { at: number; state: Promise<SharedState | null> } | null = null;
  /** The shared state, read at most once per SHARED_STATE_TTL_MS; null when there is no source or the read failed. */
  const sharedState = (): Promise<SharedState | null> => {
    if (!stateSource) return Promise.resolve(null);
    const now = Date.now();
    if (!stateRead || now - stateRead.at > SHARED_STATE_TTL_MS) stateRead = { at: now, state: stateSource().catch(() => null) };
    return stateRead.state;
  };
  /** A gauge filled from the shared state when scraped; a failed read keeps the last figures. */
  const stateGauge = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    fill: (gauge: Gauge<L>, state: SharedState) => void,
  ): Gauge<L> =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const state = await sharedState();
        if (state) fill(this, state);
      },
    });
  /** Replaces a labelled gauge's series by `values` (so a genre that left the top 10 is no longer reported). */
  const setAll = <L extends string>(gauge: Gauge<L>, label: L, values: Record<string, number>) => {
    gauge.reset();
    for (const [value, count] of Object.entries(values)) gauge.set({ [label]: value } as Record<L, string>, count);
  };

  const metrics: Metrics = {
    registry,
    jobsEnqueued: new Counter({ name: 'melody_jobs_enqueued_total', help: 'Conversion jobs enqueued by this process.', registers }),
    decodeHelperCrashes: new Counter({
      name: 'melody_decode_helper_crashes_total',
      help: 'Decode helper processes of this API process that stopped without being asked to (each is replaced).',
      registers,
    }),
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
    subscriptionExecutions: new Counter({
      name: 'melody_subscription_executions_total',
      help: 'Subscription events executed once for every subscriber with the same document, variables and user.',
      registers,
    }),
    subscriptionSerialisations: new Counter({
      name: 'melody_subscription_serialisations_total',
      help: 'Subscription results serialised once for every subscriber sharing them.',
      registers,
    }),
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
    queueWait: new Histogram({
      name: 'melody_job_queue_wait_seconds',
      help: 'Time from enqueueing a conversion job to the start of each run of it, seconds.',
      buckets: WAIT_BUCKETS,
      registers,
    }),
    jobsStalled: new Counter({
      name: 'melody_jobs_stalled_total',
      help: 'Conversion jobs found stalled (their worker stopped renewing the lock) and handed back to the queue.',
      registers,
    }),
    providerFailures: new Counter({
      name: 'melody_provider_failures_total',
      help: 'Remote provider calls that failed for good, by breaker and reason.',
      labelNames: ['breaker', 'reason'],
      registers,
    }),
    storageBytesWritten: new Counter({
      name: 'melody_storage_written_bytes_total',
      help: 'Bytes written to storage, by kind (input: uploads; output: result files).',
      labelNames: ['kind'],
      registers,
    }),
    databaseSize: stateGauge('melody_database_size_bytes', 'Size of the PostgreSQL database, bytes (read when scraped).', [], (g, s) =>
      g.set(s.databaseBytes),
    ),
    redisMemory: stateGauge(
      'melody_redis_used_memory_bytes',
      'Memory Redis uses (INFO used_memory), bytes (read when scraped).',
      [],
      (g, s) => g.set(s.redisUsedMemoryBytes),
    ),
    ratings: stateGauge(
      'melody_feedback_ratings',
      'Feedback ratings given, by rating 1-5 (all time; read when scraped).',
      ['rating'],
      (g, s) => setAll(g, 'rating', s.ratings),
    ),
    topGenres: stateGauge(
      'melody_conversions_by_genre',
      `Conversions created in the last 24 h by genre: the ${TOP_LABELS} most frequent only (read when scraped).`,
      ['genre'],
      (g, s) => setAll(g, 'genre', s.genres),
    ),
    topMoods: stateGauge(
      'melody_conversions_by_mood',
      `Conversions created in the last 24 h by mood: the ${TOP_LABELS} most frequent only (read when scraped).`,
      ['mood'],
      (g, s) => setAll(g, 'mood', s.moods),
    ),
    quotaUsed: stateGauge(
      'melody_quota_used',
      'Quota units used in the current period (day or month, QUOTA_TIME_ZONE), summed over users (read when scraped).',
      ['period'],
      (g, s) => {
        g.set({ period: 'day' }, s.quotaUsedToday);
        g.set({ period: 'month' }, s.quotaUsedThisMonth);
      },
    ),
    storedInputBytes: stateGauge(
      'melody_storage_input_bytes',
      'Uploaded input bytes of the conversions whose rows are still held (read when scraped).',
      [],
      (g, s) => g.set(s.storedInputBytes),
    ),
    ready: new Gauge({
      name: 'melody_ready',
      help: 'Whether this process is ready (PostgreSQL, Redis and migrations ok): 1 or 0, checked when scraped.',
      registers,
      async collect() {
        if (!readinessSource) return;
        const checks = await readinessChecks();
        this.set(checks && Object.values(checks).every((check) => check.ok) ? 1 : 0);
      },
    }),
    dependencyUp: new Gauge({
      name: 'melody_dependency_up',
      help: 'Readiness check of each dependency (postgres, redis, migrations): 1 ok, 0 down; checked when scraped.',
      labelNames: ['dependency'],
      registers,
      async collect() {
        if (!readinessSource) return;
        const checks = await readinessChecks();
        for (const dependency of ['postgres', 'redis', 'migrations']) this.set({ dependency }, checks?.[dependency]?.ok ? 1 : 0);
      },
    }),
    setReadinessSource(source) {
      readinessSource = source;
    },
    setQueueDepthSource(source) {
      depthSource = source;
    },
    setSharedStateSource(source) {
      stateSource = source;
      stateRead = null;
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
