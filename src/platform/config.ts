/**
 * The service's configuration, read and validated once at start-up from the environment. Nothing
 * else reads `process.env`. Every variable, its default and its meaning is listed here (and in the
 * README); `loadConfig(env)` takes any env-like object so tests can build their own.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Config {
  /** `NODE_ENV`: `production` turns on JSON logs, hides the Sandbox and error details. Default `development`. */
  env: 'development' | 'production' | 'test';
  /** `PORT`: HTTP (and WebSocket) port of the API. Default 4000. */
  port: number;
  /** `HOST`: interface to listen on. Default `0.0.0.0`. */
  host: string;
  /** `PUBLIC_URL`: base URL used in signed file links. Default `http://localhost:PORT`. */
  publicUrl: string;
  /** `DATABASE_URL`: PostgreSQL. Default `postgres://postgres@127.0.0.1:5432/melody_vocals`; the database is created if missing. */
  databaseUrl: string;
  /** `REDIS_URL`: Redis for the queue, pub/sub and caches. Default `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** `REDIS_PREFIX`: prefix of every Redis key and channel (lets tests and deployments share a Redis). Default `mv`. */
  redisPrefix: string;
  /** `JWT_SECRET`: HS256 secret for bearer tokens. Required in production; a random one per process otherwise (tokens then die with it). */
  jwtSecret: string;
  /** `JWT_ISSUER`: when set, bearer JWTs must carry this `iss` (and `npm run token` writes it). Default: not checked. */
  jwtIssuer: string | null;
  /** `METRICS_TOKEN`: when set, `/metrics` and the detailed `/health` answer only requests with `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise); `/health/live` and `/health/ready` stay open for probes. Default: unset (open). */
  metricsToken: string | null;
  /** `JWT_AUDIENCE`: when set, bearer JWTs must carry this `aud` (and `npm run token` writes it). Default: not checked. */
  jwtAudience: string | null;
  /**
   * An OpenID Connect issuer whose access tokens the API accepts beside its own (`OIDC_*`), and
   * which the web app signs in with (authorization code + PKCE). Null when `OIDC_ISSUER` is unset.
   */
  oidc: OidcConfig | null;
  /**
   * `STORAGE_BACKEND`: where uploads and outputs are kept: `fs` (a directory, `STORAGE_DIR`; one
   * machine, or a volume every process mounts) or `s3` (a bucket of an S3-compatible object store,
   * `S3_*`; many machines). Default `fs`.
   */
  storageBackend: 'fs' | 's3';
  /** `STORAGE_DIR`: where uploads and outputs are kept with `STORAGE_BACKEND=fs`. Default `<tmpdir>/melody-vocals-storage`. */
  storageDir: string;
  /**
   * The object store of `STORAGE_BACKEND=s3` (null with `fs`). Credentials are not settings of ours:
   * the AWS SDK's default chain finds them (`AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`, a web
   * identity token in Kubernetes, `AWS_PROFILE`…).
   */
  s3: S3Config | null;
  /** `URL_SIGNING_SECRET`: HMAC secret for file links. Default: derived from JWT_SECRET. */
  urlSigningSecret: string;
  /** `SIGNED_URL_TTL_SECONDS`: lifetime of file links. Default 3600. */
  signedUrlTtlSeconds: number;
  /** `WORKER_CONCURRENCY`: jobs one worker process runs at once. Default 3. */
  workerConcurrency: number;
  /**
   * `PIPELINE_THREAD_HEAP_MB`: the most JavaScript heap one conversion's thread may use; a conversion
   * that needs more fails with AUDIO_PROCESSING_ERROR (`THREAD_OUT_OF_MEMORY`, not retried) and the
   * worker's other jobs go on. A 5-minute melody needs ~60 MB. Default 512 (64–16384).
   */
  pipelineThreadHeapMb: number;
  /** `JOB_TIMEOUT_SECONDS`: a conversion running longer fails with TIMEOUT_ERROR. Default 300. */
  jobTimeoutSeconds: number;
  /**
   * `DECODE_HELPER`: where an API process checks an upload (reads it back, decodes it, measures it)
   * before accepting it. `process` (default): in a small helper process forked once at start
   * (src/platform/decode-helper.ts), so neither ffmpeg's start nor a WAV's decode blocks the API's
   * event loop; restarted if it dies. `inline`: in the API process itself, the decode in 10 ms slices
   * (for comparison and debugging).
   */
  decodeHelper: 'process' | 'inline';
  /**
   * `DECODE_TIMEOUT_SECONDS`: longest check of one upload; ffmpeg is stopped after it and the request
   * fails with TIMEOUT_ERROR `DECODE_TIMEOUT` (the helper gets 5 s more to answer before it is
   * killed and restarted). Default 60.
   */
  decodeTimeoutSeconds: number;
  /** `JOB_RETRIES`: retries of a job that failed with a retryable error (exponential backoff). Default 3. */
  jobRetries: number;
  /** `JOB_BACKOFF_MS`: first retry delay; doubles each time. Default 5000. */
  jobBackoffMs: number;
  /** `MAX_UPLOAD_BYTES`: largest accepted upload, enforced while streaming. Default 50 MB. */
  maxUploadBytes: number;
  /**
   * `REQUEST_TIMEOUT_SECONDS`: longest time to receive one whole HTTP request (headers and body, an
   * upload included); a slower request is answered 408 and its connection closed, so slow uploads
   * cannot hold sockets and quota units. Default 120 (50 MiB at ~3.5 Mbit/s); 10..3600.
   */
  requestTimeoutSeconds: number;
  /** `GRAPHQL_MAX_DEPTH`: deepest field nesting an operation may have (introspection fields not counted). Default 10 (1–100). */
  maxQueryDepth: number;
  /** `GRAPHQL_MAX_COMPLEXITY`: largest operation cost (1 per field, + 50 per database query, × rows under a connection; see graphql/abuse-limits/operation-cost.ts). Default 5000. */
  maxQueryComplexity: number;
  /** `GRAPHQL_MAX_QUERY_BYTES`: longest GraphQL document (query string), UTF-8 bytes; longer ones get 413. Default 16384. */
  maxQueryBytes: number;
  /** `RATE_LIMIT_PER_MINUTE`: GraphQL operations one user may start per minute, counted in Redis across replicas; 0 turns it off. Default 300. */
  rateLimitPerMinute: number;
  /** `ANONYMOUS_RATE_LIMIT_PER_MINUTE`: GraphQL operations without a credential one client IP may start per minute (Redis, across replicas); 0 turns it off. Default 120. */
  anonymousRateLimitPerMinute: number;
  /** `WS_MAX_CONNECTIONS_PER_USER`: open graphql-ws sockets one user may hold per API process; a further one is closed with 4429. 0 = no limit. Default 10. */
  wsMaxConnectionsPerUser: number;
  /** `WS_IDLE_TIMEOUT_SECONDS`: a graphql-ws socket with no running operation that sends nothing this long is closed with 4408. 0 = never. Default 300. */
  wsIdleTimeoutSeconds: number;
  /** `MAX_SUBSCRIPTIONS_PER_USER`: subscriptions one user may hold open at once across replicas; 0 turns it off. Default 10. */
  maxSubscriptionsPerUser: number;
  /** `SUBSCRIPTION_SHARED_RESULTS`: `true`/`false`; execute and serialise a subscription event once for every subscriber with the same document, variables and user, and write a socket's messages of one event in one write (off: once per subscriber and per message, for comparison). Default on. */
  subscriptionSharedResults: boolean;
  /** `GRAPHQL_INTROSPECTION`: `true`/`false`; schema introspection over HTTP and WebSocket. Default on, except off when NODE_ENV=production. */
  introspection: boolean;
  /**
   * `METRICS_PORT`: port on which a worker process (`npm run worker`) serves `/health/live`,
   * `/health/ready`, `/health` and `/metrics` (the API serves them on PORT). Default none: off.
   */
  metricsPort: number | null;
  /** `LOG_LEVEL`: winston level. Default `info` (`warn` under test). */
  logLevel: string;
  /** `DAILY_QUOTA`: conversions one user may start per day in QUOTA_TIME_ZONE, unless the user has their own limit. Default 10. */
  dailyQuota: number;
  /** `MONTHLY_QUOTA`: conversions one user may start per calendar month in QUOTA_TIME_ZONE, unless the user has their own limit. Default 100. */
  monthlyQuota: number;
  /** `QUOTA_TIME_ZONE`: IANA time zone whose midnights and first days of the month reset the quotas. Default `UTC`. */
  quotaTimeZone: string;
  /** `ALERT_ERROR_RATE`: health turns DEGRADED when failed / (completed + failed) of the last hour's conversions exceeds this fraction (0–1). Default 0.2. */
  alertErrorRate: number;
  /** `ALERT_BACKLOG_JOBS`: health turns DEGRADED when waiting + delayed jobs exceed this. Default 50. */
  alertBacklogJobs: number;
  /** `ALERT_LATENCY_SECONDS`: health turns DEGRADED when the last hour's completed conversions took longer than this on average, s. Default 180. */
  alertLatencySeconds: number;
  /** `STATS_PUSH_INTERVAL_MS`: period of the `serviceStatsUpdated` dashboard ticker, ms (at least 1000). Default 1000. */
  statsPushIntervalMs: number;

  // --- Remote providers (docs/providers.md) ---
  /**
   * `LLM_API_URL`: full URL of a chat-completions style endpoint (OpenAI-compatible: POST JSON
   * `{model, messages}` → `{choices:[{message:{content}}]}`) that writes the lyrics. Unset (default):
   * the embedded lyrics writer only.
   */
  llmApiUrl: string | null;
  /** `LLM_MODEL`: model name sent to the LLM endpoint. Default `gpt-4o-mini`. */
  llmModel: string;
  /** `LLM_API_KEY`: bearer key for the LLM endpoint; never logged. Default none. */
  llmApiKey: string | null;
  /**
   * `EXPERT_MUSIC_AI_URL`: base URL of a remote singing-voice engine speaking the contract in
   * docs/providers.md. Unset (default): the embedded formant voice only.
   */
  expertMusicAiUrl: string | null;
  /** `EXPERT_MUSIC_AI_KEY`: bearer key for the remote vocal engine; never logged. Default none. */
  expertMusicAiKey: string | null;
  /** `EXPERT_MUSIC_AI_POLL_MS`: how often a remote vocal job is polled while it runs, ms. Default 2000. */
  expertMusicAiPollMs: number;
  /** `MELODY_VOCALS_TIMEOUT`: timeout of one remote provider request (attempt), ms, enforced with AbortController. Default 180000 (3 min). */
  providerTimeoutMs: number;
  /** `MELODY_VOCALS_RETRIES`: retries of a remote call after a retryable failure (429, 5xx, timeout, network). Default 3. */
  providerRetries: number;
  /** `MELODY_VOCALS_RETRY_BASE_MS`: first retry delay of a remote call, doubled per retry, with full jitter; a `Retry-After` answer overrides it. Default 2000. */
  providerRetryBaseMs: number;
  /** `BREAKER_FAILURE_THRESHOLD`: consecutive failed remote calls that open a provider's circuit breaker. Default 5. */
  breakerFailureThreshold: number;
  /** `BREAKER_HALF_OPEN_AFTER_MS`: how long an open breaker waits before letting a trial call through (half-open), ms. Default 60000. */
  breakerHalfOpenAfterMs: number;
  /** `PROVIDER_FALLBACK`: when a remote provider fails (breaker open or retries spent) use the embedded engine and warn, instead of failing the job. Default true. */
  providerFallback: boolean;

  // --- Queue guarantees ---
  /** `JOB_START_LIMIT`: most conversion jobs started per `JOB_START_WINDOW_MS` across all workers (a Redis-backed limiter); 0 turns it off. Default 10. */
  jobStartLimit: number;
  /** `JOB_START_WINDOW_MS`: the window of `JOB_START_LIMIT`, ms. Default 60000. */
  jobStartWindowMs: number;
  /** `JOB_MAX_STALLS`: times a job may lose its worker (crash, kill -9) and be handed to another before it ends FAILED. Default 2. */
  jobMaxStalls: number;
  /** `JOB_STALL_INTERVAL_MS`: a running job whose worker has not renewed its lock for this long is handed to another worker, ms. Default 5000. */
  jobStallIntervalMs: number;
  /** `JOB_KEEP_COMPLETED_SECONDS`: how long the queue keeps a completed job's record, s. Default 604800 (7 days). */
  jobKeepCompletedSeconds: number;
  /** `JOB_KEEP_FAILED_SECONDS`: how long the queue keeps a failed job's record and its dead-letter entry, s. Default 2592000 (30 days). */
  jobKeepFailedSeconds: number;
  /** `QUEUE_SWEEP_INTERVAL_MS`: period of the retention sweep of old job records, ms. Default 600000. */
  queueSweepIntervalMs: number;
  /** `RECONCILE_INTERVAL_MS`: period of the reconciler that repairs rows whose job vanished, ms. Default 30000. */
  reconcileIntervalMs: number;
  /** `RECONCILE_GRACE_MS`: a PENDING/PROCESSING row untouched this long without a live job is repaired, ms. Default 60000. */
  reconcileGraceMs: number;
  /** `RESULT_CACHE_TTL_SECONDS`: how long a finished result is reused for the same user's same audio bytes and options (Redis; never across users); 0 turns it off. Default 86400. */
  resultCacheTtlSeconds: number;
}

/** Settings of the OpenID Connect issuer (src/platform/oidc.ts). */
export interface OidcConfig {
  /** `OIDC_ISSUER`: the issuer URL; its `/.well-known/openid-configuration` names the JWKS. */
  issuer: string;
  /** `OIDC_AUDIENCE`: the `aud` the issuer puts in access tokens meant for this API (required with an issuer). */
  audience: string;
  /**
   * `OIDC_ROLE_CLAIM`: the claim that carries the role (`USER`, `PARTNER`, `ADMIN`, any case; a string
   * or a list, the highest wins); a dotted path reaches into objects (`realm_access.roles`).
   * Default `role`. A token without it is a USER.
   */
  roleClaim: string;
  /** `OIDC_CLIENT_ID`: the web app's public client at the issuer; null: the app offers no sign-in. */
  clientId: string | null;
  /** `OIDC_SCOPE`: what the web app asks for. Default `openid profile`. */
  scope: string;
}

/** Settings of the s3 storage backend (src/platform/storage-s3.ts). */
export interface S3Config {
  /**
   * `S3_ENDPOINT`: the store's http(s) URL, for anything but AWS itself (MinIO `http://minio:9000`,
   * Ceph RGW, R2 `https://<account>.r2.cloudflarestorage.com`, GCS `https://storage.googleapis.com`).
   * Default: unset (AWS S3 of `S3_REGION`).
   */
  endpoint: string | null;
  /** `S3_REGION`: the bucket's region (SigV4 signs with it; most other stores accept any, R2 wants `auto`). Default `us-east-1`. */
  region: string;
  /** `S3_BUCKET`: the bucket (made beforehand; the service never creates it). Required with `STORAGE_BACKEND=s3`. */
  bucket: string;
  /**
   * `S3_FORCE_PATH_STYLE`: address objects as `<endpoint>/<bucket>/<key>` instead of
   * `<bucket>.<endpoint>/<key>`; MinIO and most self-hosted stores need `true`. Default `false`.
   */
  forcePathStyle: boolean;
  /**
   * `S3_DOWNLOADS`: how a signed `/files/` link hands out the file. `proxy` (default): the API streams
   * it from the bucket, so only the API and workers need to reach the store. `presigned`: the API
   * checks the link as always, then answers `302` to a presigned S3 GET that expires when the link
   * does, so the bytes come straight from the store (which clients must then be able to reach).
   */
  downloads: 'proxy' | 'presigned';
  /**
   * `S3_PUBLIC_ENDPOINT`: the store's URL as clients reach it, for `S3_DOWNLOADS=presigned` when it
   * differs from `S3_ENDPOINT` (an in-cluster name such as `http://minio:9000` behind a public
   * `https://files.example.com`). Presigned URLs are signed for this host. Default: `S3_ENDPOINT`.
   */
  publicEndpoint: string | null;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
  return value;
}

function fraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(`${name} must be a number from 0 to 1, got "${raw}".`);
  return value;
}

/** An IANA time zone name that both Node's Intl and PostgreSQL know (letters, digits, `/_+-`). */
function timeZone(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    if (!/^[A-Za-z0-9/_+-]{1,64}$/.test(raw)) throw new RangeError(raw);
    new Intl.DateTimeFormat('en', { timeZone: raw });
  } catch {
    throw new ConfigError(`${name} must be an IANA time zone such as UTC or Europe/Berlin, got "${raw}".`);
  }
  return raw;
}

/** `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off` (any case); the fallback when unset. */
function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}".`);
}

/** An absolute http(s) URL, or null when unset. */
function httpUrl(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL, got "${raw}".`);
  return raw;
}

/** `OIDC_*`, or null without `OIDC_ISSUER`. */
function oidcSettings(env: Env): OidcConfig | null {
  const issuer = httpUrl(env, 'OIDC_ISSUER');
  if (!issuer) return null;
  const audience = env.OIDC_AUDIENCE?.trim() ?? '';
  if (audience === '') throw new ConfigError('OIDC_AUDIENCE must be set with OIDC_ISSUER (the aud of access tokens meant for this API).');
  const roleClaim = env.OIDC_ROLE_CLAIM?.trim() || 'role';
  if (!/^[^\s]{1,200}$/.test(roleClaim)) throw new ConfigError(`OIDC_ROLE_CLAIM must name a claim, got "${roleClaim}".`);
  const clientId = env.OIDC_CLIENT_ID?.trim() || null;
  if (clientId !== null && !/^[\x21-\x7e]{1,200}$/.test(clientId))
    throw new ConfigError('OIDC_CLIENT_ID must be printable ASCII without spaces.');
  const scope = env.OIDC_SCOPE?.trim().replace(/\s+/g, ' ') || 'openid profile';
  if (!scope.split(' ').includes('openid')) throw new ConfigError(`OIDC_SCOPE must include openid, got "${scope}".`);
  return { issuer, audience, roleClaim, clientId, scope };
}

function decodeHelper(env: Env): Config['decodeHelper'] {
  const raw = env.DECODE_HELPER?.trim() || 'process';
  if (raw !== 'process' && raw !== 'inline') throw new ConfigError(`DECODE_HELPER must be process or inline, got "${raw}".`);
  return raw;
}

/** `S3_*` when `STORAGE_BACKEND=s3`, null for `fs`. */
function storageBackend(env: Env): Pick<Config, 'storageBackend' | 's3'> {
  const backend = env.STORAGE_BACKEND?.trim() || 'fs';
  if (backend === 'fs') return { storageBackend: 'fs', s3: null };
  if (backend !== 's3') throw new ConfigError(`STORAGE_BACKEND must be fs or s3, got "${backend}".`);
  const bucket = env.S3_BUCKET?.trim() ?? '';
  // The S3 naming rules (3–63 lowercase letters, digits, "." and "-"), so a typo fails at start-up.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ConfigError(
      `S3_BUCKET must name a bucket (3-63 lowercase letters, digits, "." or "-") with STORAGE_BACKEND=s3, got "${bucket}".`,
    );
  const region = env.S3_REGION?.trim() || 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new ConfigError(`S3_REGION must be a region name such as eu-west-1, got "${region}".`);
  const downloads = env.S3_DOWNLOADS?.trim() || 'proxy';
  if (downloads !== 'proxy' && downloads !== 'presigned')
    throw new ConfigError(`S3_DOWNLOADS must be proxy or presigned, got "${downloads}".`);
  const endpoint = httpUrl(env, 'S3_ENDPOINT')?.replace(/\/+$/, '') ?? null;
  return {
    storageBackend: 's3',
    s3: {
      endpoint,
      region,
      bucket,
      forcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE', false),
      downloads,
      publicEndpoint: httpUrl(env, 'S3_PUBLIC_ENDPOINT')?.replace(/\/+$/, '') ?? endpoint,
    },
  };
}

/** Reads and validates the configuration; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV === 'production' || env.NODE_ENV === 'test' ? env.NODE_ENV : 'development';
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const jwtSecret = env.JWT_SECRET ?? '';
  if (nodeEnv === 'production' && jwtSecret.length < 32)
    throw new ConfigError('JWT_SECRET must be set to at least 32 characters in production.');
  const secret = jwtSecret || randomBytes(32).toString('hex');
  const redisPrefix = env.REDIS_PREFIX ?? 'mv';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(redisPrefix)) throw new ConfigError('REDIS_PREFIX may hold letters, digits, "_", "." and "-" only.');
  return {
    env: nodeEnv,
    port,
    host: env.HOST ?? '0.0.0.0',
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/melody_vocals',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix,
    jwtSecret: secret,
    jwtIssuer: env.JWT_ISSUER?.trim() || null,
    metricsToken: env.METRICS_TOKEN?.trim() || null,
    jwtAudience: env.JWT_AUDIENCE?.trim() || null,
    oidc: oidcSettings(env),
    ...storageBackend(env),
    storageDir: resolve(env.STORAGE_DIR ?? join(tmpdir(), 'melody-vocals-storage')),
    urlSigningSecret: env.URL_SIGNING_SECRET ?? `${secret}:files`,
    signedUrlTtlSeconds: integer(env, 'SIGNED_URL_TTL_SECONDS', 3600, 10, 7 * 24 * 3600),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 3, 1, 64),
    pipelineThreadHeapMb: integer(env, 'PIPELINE_THREAD_HEAP_MB', 512, 64, 16_384),
    jobTimeoutSeconds: integer(env, 'JOB_TIMEOUT_SECONDS', 300, 5, 24 * 3600),
    jobRetries: integer(env, 'JOB_RETRIES', 3, 0, 20),
    decodeHelper: decodeHelper(env),
    decodeTimeoutSeconds: integer(env, 'DECODE_TIMEOUT_SECONDS', 60, 1, 3600),
    jobBackoffMs: integer(env, 'JOB_BACKOFF_MS', 5000, 10, 3_600_000),
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 50 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    requestTimeoutSeconds: integer(env, 'REQUEST_TIMEOUT_SECONDS', 120, 2, 3600),
    maxQueryDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 10, 1, 100),
    maxQueryComplexity: integer(env, 'GRAPHQL_MAX_COMPLEXITY', 5000, 1, 10_000_000),
    maxQueryBytes: integer(env, 'GRAPHQL_MAX_QUERY_BYTES', 16384, 256, 1024 * 1024),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 300, 0, 1_000_000),
    anonymousRateLimitPerMinute: integer(env, 'ANONYMOUS_RATE_LIMIT_PER_MINUTE', 120, 0, 1_000_000),
    wsMaxConnectionsPerUser: integer(env, 'WS_MAX_CONNECTIONS_PER_USER', 10, 0, 10_000),
    wsIdleTimeoutSeconds: integer(env, 'WS_IDLE_TIMEOUT_SECONDS', 300, 0, 86_400),
    maxSubscriptionsPerUser: integer(env, 'MAX_SUBSCRIPTIONS_PER_USER', 10, 0, 100_000),
    subscriptionSharedResults: flag(env, 'SUBSCRIPTION_SHARED_RESULTS', true),
    introspection: flag(env, 'GRAPHQL_INTROSPECTION', nodeEnv !== 'production'),
    metricsPort: env.METRICS_PORT === undefined || env.METRICS_PORT === '' ? null : integer(env, 'METRICS_PORT', 0, 0, 65535),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'warn' : 'info'),
    dailyQuota: integer(env, 'DAILY_QUOTA', 10, 0, 1_000_000),
    monthlyQuota: integer(env, 'MONTHLY_QUOTA', 100, 0, 10_000_000),
    quotaTimeZone: timeZone(env, 'QUOTA_TIME_ZONE', 'UTC'),
    alertErrorRate: fraction(env, 'ALERT_ERROR_RATE', 0.2),
    alertBacklogJobs: integer(env, 'ALERT_BACKLOG_JOBS', 50, 0, 10_000_000),
    alertLatencySeconds: integer(env, 'ALERT_LATENCY_SECONDS', 180, 1, 24 * 3600),
    statsPushIntervalMs: integer(env, 'STATS_PUSH_INTERVAL_MS', 1000, 1000, 3_600_000),
    llmApiUrl: httpUrl(env, 'LLM_API_URL'),
    llmModel: env.LLM_MODEL || 'gpt-4o-mini',
    llmApiKey: env.LLM_API_KEY || null,
    expertMusicAiUrl: httpUrl(env, 'EXPERT_MUSIC_AI_URL')?.replace(/\/+$/, '') ?? null,
    expertMusicAiKey: env.EXPERT_MUSIC_AI_KEY || null,
    expertMusicAiPollMs: integer(env, 'EXPERT_MUSIC_AI_POLL_MS', 2000, 10, 600_000),
    providerTimeoutMs: integer(env, 'MELODY_VOCALS_TIMEOUT', 180_000, 10, 3_600_000),
    providerRetries: integer(env, 'MELODY_VOCALS_RETRIES', 3, 0, 20),
    providerRetryBaseMs: integer(env, 'MELODY_VOCALS_RETRY_BASE_MS', 2000, 1, 600_000),
    breakerFailureThreshold: integer(env, 'BREAKER_FAILURE_THRESHOLD', 5, 1, 1000),
    breakerHalfOpenAfterMs: integer(env, 'BREAKER_HALF_OPEN_AFTER_MS', 60_000, 10, 3_600_000),
    providerFallback: flag(env, 'PROVIDER_FALLBACK', true),
    jobStartLimit: integer(env, 'JOB_START_LIMIT', 10, 0, 1_000_000),
    jobStartWindowMs: integer(env, 'JOB_START_WINDOW_MS', 60_000, 100, 3_600_000),
    jobMaxStalls: integer(env, 'JOB_MAX_STALLS', 2, 0, 100),
    jobStallIntervalMs: integer(env, 'JOB_STALL_INTERVAL_MS', 5000, 100, 600_000),
    jobKeepCompletedSeconds: integer(env, 'JOB_KEEP_COMPLETED_SECONDS', 7 * 24 * 3600, 1, 365 * 24 * 3600),
    jobKeepFailedSeconds: integer(env, 'JOB_KEEP_FAILED_SECONDS', 30 * 24 * 3600, 1, 365 * 24 * 3600),
    queueSweepIntervalMs: integer(env, 'QUEUE_SWEEP_INTERVAL_MS', 600_000, 100, 24 * 3_600_000),
    reconcileIntervalMs: integer(env, 'RECONCILE_INTERVAL_MS', 30_000, 100, 3_600_000),
    reconcileGraceMs: integer(env, 'RECONCILE_GRACE_MS', 60_000, 0, 24 * 3_600_000),
    resultCacheTtlSeconds: integer(env, 'RESULT_CACHE_TTL_SECONDS', 86_400, 0, 365 * 24 * 3600),
  };
}
