/**
 * Test helpers for the API server: the real services (a PostgreSQL database `mv_test_<random>`, a
 * Redis prefix `mvtest-<random>` and a temporary storage directory of the test's own) and the real
 * HTTP/WebSocket server on a free port; GraphQL over HTTP (JSON and multipart) with real requests;
 * and a snapshot of everything a request may leave behind (rows, jobs, files).
 * Everything is disposed of by the {@link Cleanup} list (service-harness.ts), last in first out.
 */
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createServices, type Services } from '../../src/services.js';
import { createApiServer, type ApiServer } from '../../src/graphql/server.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { Cleanup, createTestResources, mintToken, queuedJobs, type TestResources } from './service-harness.js';

export interface ApiEnv {
  config: Config;
  services: Services;
  server: ApiServer;
  /** `http://127.0.0.1:<port>` */
  url: string;
  storageDir: string;
  /** The test's bucket when the API runs on the s3 backend, else null. */
  objectStore: TestResources['objectStore'];
  /** Everything the storage holds (files or object keys), sorted. */
  storedFiles(): Promise<string[]>;
  /** A valid bearer token for `userId`. */
  token(userId: string, role?: Role): string;
}

/**
 * Starts the real API on a free port with its own database, Redis prefix and storage directory.
 * @param env extra environment, e.g. `{ MAX_UPLOAD_BYTES: '4096' }`.
 */
export async function startApi(
  cleanup: Cleanup,
  env: Record<string, string> = {},
  options: { storageBackend?: 'fs' | 's3' } = {},
): Promise<ApiEnv> {
  const resources = await createTestResources(cleanup, { storageLabel: 'mv-api-test-', storageBackend: options.storageBackend });
  const config = loadConfig({ ...resources.env, LOG_LEVEL: 'error', ...env });
  const services = await createServices(config, { role: 'api' });
  cleanup.add(() => services.close());
  const server = await createApiServer(services);
  cleanup.add(() => server.stop());
  const url = await server.start(0, '127.0.0.1');
  return {
    config,
    services,
    server,
    url,
    storageDir: resources.storageDir,
    objectStore: resources.objectStore,
    storedFiles: resources.storedFiles,
    token: (userId, role = Role.USER) => mintToken(config.jwtSecret, userId, role),
  };
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown }[] };
}

async function readResponse<T>(response: Response): Promise<GraphQLResponse<T>> {
  const text = await response.text();
  let body: GraphQLResponse<T>['body'];
  try {
    body = JSON.parse(text) as GraphQLResponse<T>['body'];
  } catch {
    body = { errors: [{ message: `non-JSON response: ${text.slice(0, 200)}` }] };
  }
  return { status: response.status, body };
}

/** A JSON GraphQL POST. */
export async function postGraphQL<T = Record<string, unknown>>(
  api: Pick<ApiEnv, 'url'>,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return readResponse<T>(response);
}

export const CONVERT_MUTATION = `mutation Convert($input: ConvertMelodyInput!) {
  convertMelody(input: $input) {
    conversion { id status stage progress prompt genre mood voice seed userLyrics retryCount result { vocalsUrl }
      input { fileName format codec durationSeconds sampleRate channels sizeBytes bitrate } warnings { code } createdAt }
    warnings { code message stage }
    estimatedSeconds
    userErrors { code field message }
  }
}`;

export interface ConvertPayload {
  convertMelody: {
    conversion: {
      id: string;
      status: string;
      stage: string | null;
      progress: number;
      prompt: string;
      genre: string;
      mood: string;
      voice: string;
      seed: number | null;
      userLyrics: string | null;
      retryCount: number;
      result: unknown;
      input: {
        fileName: string;
        format: string;
        codec: string;
        durationSeconds: number;
        sampleRate: number;
        channels: number;
        sizeBytes: number;
        bitrate: number | null;
      };
      warnings: { code: string }[];
      createdAt: string;
    } | null;
    warnings: { code: string; message: string; stage: string | null }[];
    estimatedSeconds: number | null;
    userErrors: { code: string; field: string | null; message: string }[];
  };
}

export interface UploadFile {
  bytes: Uint8Array;
  name: string;
  type?: string;
}

/**
 * `convertMelody` as a GraphQL multipart request (spec: operations, map, then the file), built with
 * the platform FormData. `file: null` sends the map entry but no file part; `melody` adds a second
 * file part mapped to `input.melody` (sent after the audio part, or before it with `melodyFirst`).
 */
export async function uploadConversion(
  api: Pick<ApiEnv, 'url'>,
  options: {
    token?: string;
    file: UploadFile | null;
    melody?: UploadFile;
    melodyFirst?: boolean;
    input?: Record<string, unknown>;
    preflight?: boolean;
  },
): Promise<GraphQLResponse<ConvertPayload>> {
  const input = {
    prompt: 'a song about the sea at night, slow and calm',
    genre: 'ballad',
    mood: 'calm',
    ...options.input,
    audio: null,
    ...(options.melody ? { melody: null } : {}),
  };
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: CONVERT_MUTATION, variables: { input } }));
  form.append(
    'map',
    JSON.stringify(options.melody ? { 0: ['variables.input.audio'], 1: ['variables.input.melody'] } : { 0: ['variables.input.audio'] }),
  );
  const appendMelody = () => {
    if (options.melody)
      form.append('1', new Blob([options.melody.bytes], { type: options.melody.type ?? 'application/octet-stream' }), options.melody.name);
  };
  if (options.melodyFirst) appendMelody();
  if (options.file)
    form.append('0', new Blob([options.file.bytes], { type: options.file.type ?? 'application/octet-stream' }), options.file.name);
  if (!options.melodyFirst) appendMelody();
  const headers: Record<string, string> = {};
  if (options.preflight ?? true) headers['apollo-require-preflight'] = 'true';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${api.url}/graphql`, { method: 'POST', headers, body: form });
  return readResponse<ConvertPayload>(response);
}

/** Everything in the API's storage (relative paths or object keys, temp files included). */
export async function storedFiles(api: Pick<ApiEnv, 'storedFiles'>): Promise<string[]> {
  return api.storedFiles();
}

/** Rows, queued jobs and stored files: what a rejected request must leave unchanged. */
export interface Leftovers {
  users: number;
  conversions: number;
  jobs: number;
  waiting: number;
  files: string[];
}

export async function leftovers(api: ApiEnv): Promise<Leftovers> {
  const connection = api.services.orm.em.getConnection();
  const [{ count: conversions }] = await connection.execute<{ count: string }[]>('select count(*)::text as count from "conversions"');
  const [{ count: users }] = await connection.execute<{ count: string }[]>('select count(*)::text as count from "users"');
  const { jobs, waiting } = await queuedJobs(api.services.redis, api.config.redisPrefix);
  return { users: Number(users), conversions: Number(conversions), jobs, waiting, files: await storedFiles(api) };
}
