/**
 * The remote vocal engine client against a real local engine server speaking docs/providers.md:
 * the multipart upload (melody bytes + request JSON, bearer key, idempotency key kept across
 * retries), a synchronous 200 WAV, an asynchronous 202 + polling + audio download, a failed remote
 * job, a non-WAV answer, retries inside the polling, and the whole job's deadline.
 */
import { decodeWav, encodeWav } from '../../../src/audio/decode/wav.js';
import type { VocalRequest } from '../../../src/audio/providers.js';
import { AbortedError } from '../../../src/audio/errors.js';
import { ProviderError, createResilientCaller } from '../../../src/platform/resilience.js';
import { createRemoteVocalEngine } from '../../../src/platform/providers/remote-vocal-engine.js';
import { sine } from '../../support/signals.js';
import { Cleanup } from '../../support/service-harness.js';
import { json, startScriptedServer, type Behaviour, type Handler, type RecordedRequest } from './scripted-server.js';

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

const SUNG = encodeWav([sine(440, 0.25, 22050)], 22050);
const MELODY = encodeWav([sine(262, 0.5, 44100)], 44100);
const WAV = (bytes: Uint8Array = SUNG): Behaviour => ({ status: 200, headers: { 'content-type': 'audio/wav' }, body: bytes });

const REQUEST: VocalRequest = {
  melody: MELODY,
  fileName: 'hum.wav',
  notes: [
    { midi: 60, start: 0, duration: 0.4, syllable: 'la', phonemes: ['L', 'AA'], continuation: false, stressed: true, phrase: 0 },
    { midi: 62, start: 0.4, duration: 0.4, syllable: '', phonemes: [], continuation: true, stressed: false, phrase: 0 },
  ],
  lyrics: 'la',
  voice: 'high',
  seed: 7,
  prompt: 'a song about the sea',
  genre: 'pop',
  mood: 'happy',
  tempoBpm: 100,
  key: 'C major',
  sampleRate: 44100,
};

async function engine(handler: Handler, options: { retries?: number; timeoutMs?: number; pollMs?: number } = {}) {
  const server = await startScriptedServer(cleanup, handler);
  const caller = createResilientCaller('vocals:expert-music-ai', {
    retries: options.retries ?? 2,
    timeoutMs: options.timeoutMs ?? 10_000,
    sleep: async () => undefined,
  });
  cleanup.add(() => caller.close());
  const vocals = createRemoteVocalEngine({
    baseUrl: server.url,
    apiKey: 'emai-key',
    pollMs: options.pollMs ?? 20,
    timeoutMs: options.timeoutMs ?? 10_000,
    caller,
  });
  return { server, vocals };
}

/** The multipart body the engine received. */
async function formOf(request: RecordedRequest): Promise<FormData> {
  return new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
}

/** Routes by method and path; counts polls. */
function engineRoutes(routes: { upload: () => Behaviour; status?: (poll: number) => Behaviour; audio?: () => Behaviour }): Handler {
  let polls = 0;
  return (request) => {
    if (request.method === 'POST' && request.url === '/v1/vocals') return routes.upload();
    if (request.method === 'GET' && request.url === '/v1/vocals/job-1') return routes.status ? routes.status(++polls) : json(404, {});
    if (request.method === 'GET' && request.url === '/v1/vocals/job-1/audio') return routes.audio ? routes.audio() : json(404, {});
    return json(404, { error: 'no route' });
  };
}

test('synchronous: POST /v1/vocals as multipart (melody file + request JSON) answered 200 audio/wav', async () => {
  const { server, vocals } = await engine(engineRoutes({ upload: () => WAV() }));
  const take = await vocals.sing(REQUEST);
  expect(take.source).toBe('expert-music-ai');
  expect(Buffer.from(take.wav).equals(Buffer.from(SUNG))).toBe(true);
  expect(decodeWav(take.wav).sampleRate).toBe(22050);

  expect(server.requests).toHaveLength(1);
  const [upload] = server.requests;
  expect(upload.headers.authorization).toBe('Bearer emai-key');
  expect(upload.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  expect(String(upload.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
  const form = await formOf(upload);
  const melody = form.get('melody') as File;
  expect(melody.name).toBe('hum.wav');
  expect(Buffer.from(await melody.arrayBuffer()).equals(Buffer.from(MELODY))).toBe(true);
  const document = JSON.parse(await (form.get('request') as File).text()) as Record<string, unknown>;
  const { melody: _bytes, ...expected } = REQUEST;
  expect(document).toEqual(expected);
});

test('asynchronous: 202 {id, status}, polled until succeeded, then the audio is fetched', async () => {
  const { server, vocals } = await engine(
    engineRoutes({
      upload: () => json(202, { id: 'job-1', status: 'queued' }),
      status: (poll) =>
        json(
          200,
          poll === 1 ? { status: 'queued' } : poll === 2 ? { status: 'running', progress: 0.5 } : { status: 'succeeded', progress: 1 },
        ),
      audio: () => WAV(),
    }),
  );
  const take = await vocals.sing(REQUEST);
  expect(Buffer.from(take.wav).equals(Buffer.from(SUNG))).toBe(true);
  expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
    'POST /v1/vocals',
    'GET /v1/vocals/job-1',
    'GET /v1/vocals/job-1',
    'GET /v1/vocals/job-1',
    'GET /v1/vocals/job-1/audio',
  ]);
  expect(server.requests.every((r) => r.headers.authorization === 'Bearer emai-key')).toBe(true);
});

test("a failed remote job ends AI_SERVICE_ERROR/REMOTE_JOB_FAILED with the engine's retryable flag and reason", async () => {
  const { vocals } = await engine(
    engineRoutes({
      upload: () => json(202, { id: 'job-1', status: 'queued' }),
      status: () => json(200, { status: 'failed', error: { code: 'GPU_OOM', message: 'out of memory', retryable: true } }),
    }),
  );
  const error = (await vocals.sing(REQUEST).catch((e: unknown) => e)) as ProviderError;
  expect(error).toBeInstanceOf(ProviderError);
  expect(error).toMatchObject({ code: 'AI_SERVICE_ERROR', reason: 'REMOTE_JOB_FAILED', retryable: true });
  expect(error.message).toContain('GPU_OOM: out of memory');
});

test('a 200 that is not a WAV file is a BAD_RESPONSE (retried, then final)', async () => {
  const { server, vocals } = await engine(
    engineRoutes({ upload: () => ({ status: 200, headers: { 'content-type': 'audio/wav' }, body: 'this is not audio' }) }),
    { retries: 1 },
  );
  await expect(vocals.sing(REQUEST)).rejects.toMatchObject({ code: 'AI_SERVICE_ERROR', reason: 'BAD_RESPONSE', retryable: true });
  expect(server.requests).toHaveLength(2);
});

test('a succeeded job whose audio is not a WAV file is a BAD_RESPONSE', async () => {
  const { vocals } = await engine(
    engineRoutes({
      upload: () => json(202, { id: 'job-1', status: 'running' }),
      status: () => json(200, { status: 'succeeded' }),
      audio: () => ({ status: 200, body: 'ID3\u0003 an mp3' }),
    }),
    { retries: 0 },
  );
  await expect(vocals.sing(REQUEST)).rejects.toMatchObject({ reason: 'BAD_RESPONSE' });
});

test('an unknown status or a 202 without an id is a BAD_RESPONSE', async () => {
  const first = await engine(engineRoutes({ upload: () => json(202, { status: 'queued' }) }), { retries: 0 });
  await expect(first.vocals.sing(REQUEST)).rejects.toMatchObject({ reason: 'BAD_RESPONSE' });
  const second = await engine(
    engineRoutes({ upload: () => json(202, { id: 'job-1', status: 'queued' }), status: () => json(200, { status: 'thinking' }) }),
    { retries: 0 },
  );
  await expect(second.vocals.sing(REQUEST)).rejects.toMatchObject({ reason: 'BAD_RESPONSE' });
});

test('a 503 on the upload and a reset during polling are retried; the upload keeps its idempotency key', async () => {
  let uploads = 0;
  let polls = 0;
  const { server, vocals } = await engine((request) => {
    if (request.method === 'POST') return ++uploads === 1 ? json(503, {}) : json(202, { id: 'job-1', status: 'queued' });
    if (request.url === '/v1/vocals/job-1') return ++polls === 1 ? 'reset' : json(200, { status: 'succeeded' });
    return WAV();
  });
  await expect(vocals.sing(REQUEST)).resolves.toMatchObject({ source: 'expert-music-ai' });
  const posts = server.requests.filter((r) => r.method === 'POST');
  expect(posts).toHaveLength(2);
  expect(posts[0].headers['idempotency-key']).toBe(posts[1].headers['idempotency-key']);
  expect(polls).toBe(2);
});

test('a job that never finishes is cut off by the timeout: TIMEOUT_ERROR/PROVIDER_TIMEOUT', async () => {
  const { server, vocals } = await engine(
    engineRoutes({ upload: () => json(202, { id: 'job-1', status: 'queued' }), status: () => json(200, { status: 'running' }) }),
    { timeoutMs: 400, pollMs: 20 },
  );
  const error = (await vocals.sing(REQUEST).catch((e: unknown) => e)) as ProviderError;
  expect(error).toBeInstanceOf(ProviderError);
  expect(error).toMatchObject({ code: 'TIMEOUT_ERROR', reason: 'PROVIDER_TIMEOUT', retryable: true });
  expect(server.requests.filter((r) => r.url === '/v1/vocals/job-1').length).toBeGreaterThan(1);
});

test('a caller abort while polling ends with AbortedError', async () => {
  const controller = new AbortController();
  const { server, vocals } = await engine(
    engineRoutes({ upload: () => json(202, { id: 'job-1', status: 'queued' }), status: () => json(200, { status: 'running' }) }),
  );
  const pending = vocals.sing(REQUEST, { signal: controller.signal });
  await server.waitFor(() => server.requests.length >= 3);
  controller.abort();
  await expect(pending).rejects.toBeInstanceOf(AbortedError);
});
