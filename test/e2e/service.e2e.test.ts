/**
 * The service as it runs in production: two API processes and a worker process
 * (`node dist/src/main.js api|worker`) on a PostgreSQL database, Redis prefix and storage directory of
 * this test's own, driven only through HTTP (GraphQL multipart uploads, queries, signed file links)
 * and graphql-ws. Proves: an uploaded melody is converted and its progress streamed over every stage
 * to subscribers on either API (Redis fan-out, no shared memory); the vocals come back as audio of
 * the melody's length; a repeated idempotency key makes one conversion and one job; cancel stops a
 * running conversion and removes its files; other users see nothing of a conversion; bad uploads get
 * their userError or HTTP 4xx and leave no row, job or file; every process stops on SIGTERM.
 *
 * The processes are shared by the cases below, which run in order (later cases use the
 * conversions of earlier ones). dist/ is rebuilt first when stale (test/support/dist-build.global-setup.ts).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { decodeWav } from '../../src/audio/decode/wav.js';
import { ffmpegPath } from '../../src/platform/ffmpeg-decoder.js';
import { initOrm, type Orm } from '../../src/platform/database.js';
import { ENTITIES } from '../../src/modules/entities.js';
import { createRedis } from '../../src/platform/redis.js';
import { conversionGlobalId, conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { storageKeys } from '../../src/modules/conversion/conversion-job.js';
import { postGraphQL, uploadConversion, type UploadFile } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { MELODY_FIXTURE_DIR } from '../support/melody-fixtures.js';
import { followProgress, progressClient, type ProgressEvent } from '../support/progress-client.js';
import { Cleanup, createTestResources, mintToken, queuedJobs, type TestResources } from '../support/service-harness.js';
import { pidExists, startApiProcess, startServiceProcess, type ServiceProcess } from '../support/service-processes.js';
import { itWithOutputs } from '../support/it-with-outputs.js';

const STAGES = ['VALIDATION', 'PITCH_EXTRACTION', 'LYRICS', 'SYNTHESIS', 'QUALITY_CHECK', 'FINALIZATION'];
/** voice-la.flac: 10.7 s of sung "la" syllables, 16 kHz mono (test/fixtures/melodies/voice-la.truth.json). */
const MELODY_SECONDS = 10.7;
/** How many times the long input repeats voice-la (64.2 s). */
const LONG_REPEATS = 6;
/** API #2 takes uploads up to this many bytes: voice-la (185 kB) fits, the long input (~1.1 MB) does not. */
const API2_MAX_UPLOAD_BYTES = 512 * 1024;

const cleanup = new Cleanup();
let resources: TestResources;
/** A direct connection to the test database (created here with initOrm; the processes find it made). */
let orm: Orm;
let redis: Redis;
let api1: ServiceProcess;
let api2: ServiceProcess;
let worker: ServiceProcess | null = null;
let melody: UploadFile;
let longMelody: UploadFile;

const alice = () => mintToken(resources.jwtSecret, 'alice');
const bob = () => mintToken(resources.jwtSecret, 'bob');
const mallory = () => mintToken(resources.jwtSecret, 'mallory');
/** `stats` shows every user's queue: an operator (ADMIN) reads it. */
const operator = () => mintToken(resources.jwtSecret, 'operator', Role.ADMIN);
const endpoint = (api: ServiceProcess) => ({ url: api.url! });

/** `times` copies of the FLAC file at `path`, one after another, as one FLAC (the repo's ffmpeg). */
async function repeatFlac(path: string, times: number): Promise<Uint8Array> {
  const ffmpeg = spawn(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-stream_loop', String(times - 1), '-i', path, '-c:a', 'flac', '-f', 'flac', 'pipe:1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const chunks: Buffer[] = [];
  let stderr = '';
  ffmpeg.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  ffmpeg.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => ffmpeg.once('close', resolve));
  if (code !== 0) throw new Error(`ffmpeg failed (${code}): ${stderr}`);
  return new Uint8Array(Buffer.concat(chunks));
}

beforeAll(async () => {
  resources = await createTestResources(cleanup, { storageLabel: 'mv-e2e-' });
  orm = await initOrm(resources.databaseUrl, ENTITIES);
  cleanup.add(() => orm.close(true));
  redis = createRedis(resources.env.REDIS_URL);
  cleanup.add(() => redis.disconnect());

  const fixture = join(MELODY_FIXTURE_DIR, 'voice-la.flac');
  melody = { bytes: new Uint8Array(await readFile(fixture)), name: 'voice-la.flac', type: 'audio/flac' };
  longMelody = { bytes: await repeatFlac(fixture, LONG_REPEATS), name: 'voice-la-long.flac', type: 'audio/flac' };

  // No worker yet: the first case queues its conversions before one starts.
  [api1, api2] = await Promise.all([
    startApiProcess(cleanup, { name: 'api-1', env: resources.env }),
    startApiProcess(cleanup, { name: 'api-2', env: { ...resources.env, MAX_UPLOAD_BYTES: String(API2_MAX_UPLOAD_BYTES) } }),
  ]);
}, 90_000);

afterAll(() => cleanup.run(), 60_000);

/** `it`, with what the service processes printed added to a failure's message. */
function e2e(name: string, body: () => Promise<void>, timeoutMs?: number): void {
  itWithOutputs(name, () => [api1, api2, worker], body, timeoutMs);
}

async function startWorker(): Promise<ServiceProcess> {
  worker = await startServiceProcess(cleanup, { name: 'worker-1', mode: 'worker', env: { ...resources.env, WORKER_CONCURRENCY: '2' } });
  return worker;
}

async function countRows(table: 'conversions' | 'users'): Promise<number> {
  const [{ count }] = await orm.em.getConnection().execute<{ count: string }[]>(`select count(*)::text as count from "${table}"`);
  return Number(count);
}

/** Rows, Bee-Queue jobs and stored files: what a rejected request must leave as it found them. */
async function leftovers() {
  return {
    users: await countRows('users'),
    conversions: await countRows('conversions'),
    ...(await queuedJobs(redis, resources.prefix)),
    files: await resources.storedFiles(),
  };
}

const CONVERSION_QUERY = `query Conversion($id: ID!) {
  conversion(id: $id) {
    id status stage progress retryCount processingMs
    input { fileName format durationSeconds sampleRate channels sizeBytes }
    result { vocalsUrl compressedAudioUrl compressedFormat midiUrl musicXmlUrl reportUrl lyrics melody { noteCount } }
    quality { pitchAccuracy integratedLufs truePeakDbtp }
    stageTimestamps {
      validation { startedAt finishedAt } pitchExtraction { startedAt finishedAt } lyrics { startedAt finishedAt }
      synthesis { startedAt finishedAt } qualityCheck { startedAt finishedAt } finalization { startedAt finishedAt }
    }
    error { code }
    feedback { rating comment favorite }
  }
}`;

interface ConversionView {
  id: string;
  status: string;
  stage: string | null;
  progress: number;
  retryCount: number;
  processingMs: number | null;
  input: { fileName: string; format: string; durationSeconds: number; sampleRate: number; channels: number; sizeBytes: number };
  result: {
    vocalsUrl: string;
    compressedAudioUrl: string;
    compressedFormat: string;
    midiUrl: string;
    musicXmlUrl: string;
    reportUrl: string;
    lyrics: string;
    melody: { noteCount: number };
  } | null;
  quality: { pitchAccuracy: number | null; integratedLufs: number | null; truePeakDbtp: number | null } | null;
  stageTimestamps: Record<string, { startedAt: string; finishedAt: string | null } | null>;
  error: { code: string } | null;
  feedback: { rating: number; comment: string | null; favorite: boolean } | null;
}

async function conversionOn(api: ServiceProcess, id: string, token: string): Promise<ConversionView | null> {
  const { status, body } = await postGraphQL<{ conversion: ConversionView | null }>(endpoint(api), CONVERSION_QUERY, { id }, token);
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  return body.data!.conversion;
}

async function stats(api: ServiceProcess, token = operator()) {
  const { body } = await postGraphQL<{
    stats: { verdict: string; queue: Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed', number> };
  }>(endpoint(api), '{ stats { verdict queue { waiting active completed failed delayed } } }', {}, token);
  expect(body.errors).toBeUndefined();
  return body.data!.stats;
}

/** The checks every finished run's events must pass. */
function expectWellFormedRun(events: ProgressEvent[], id: string, finalStatus: string): void {
  expect(events.length).toBeGreaterThan(0);
  for (const event of events) {
    expect(event.conversionId).toBe(id);
    expect(Number.isNaN(Date.parse(event.at))).toBe(false);
  }
  const percents = events.map((event) => event.progress);
  expect(percents).toEqual([...percents].sort((a, b) => a - b));
  expect(events.filter((event) => event.final)).toHaveLength(1);
  expect(events.at(-1)).toMatchObject({ final: true, status: finalStatus });
  // Stage changes follow the pipeline's order.
  const stageOrder = events
    .map((event) => event.stage)
    .filter((stage): stage is string => stage !== null)
    .map((stage) => STAGES.indexOf(stage));
  expect(stageOrder).toEqual([...stageOrder].sort((a, b) => a - b));
}

// Shared by the cases below.
let firstId: string;
let secondId: string;
let firstEvents: ProgressEvent[];
let secondEvents: ProgressEvent[];

/** A GraphQL answer without its `extensions` (they carry the operation's cost, which is not under test here). */
function answer(response: { body: { data?: unknown; errors?: unknown } }): { data?: unknown; errors?: unknown } {
  return { data: response.body.data, errors: response.body.errors };
}

describe('two API processes and a worker process', () => {
  e2e(
    'queues uploads while no worker runs; the same idempotency key, also sent to the other API, returns the same conversion and queues no second job',
    async () => {
      const first = await uploadConversion(endpoint(api1), { token: alice(), file: melody, input: { seed: 11 } });
      expect(first.status).toBe(200);
      expect(first.body.errors).toBeUndefined();
      expect(first.body.data!.convertMelody.userErrors).toEqual([]);
      firstId = first.body.data!.convertMelody.conversion!.id;
      expect(first.body.data!.convertMelody.conversion).toMatchObject({
        status: 'PENDING',
        input: { fileName: 'voice-la.flac', format: 'flac', sampleRate: 16000, channels: 1 },
      });

      const key = `retry-${randomUUID()}`;
      const second = await uploadConversion(endpoint(api1), { token: alice(), file: melody, input: { idempotencyKey: key, voice: 'low' } });
      expect(second.body.data!.convertMelody.userErrors).toEqual([]);
      secondId = second.body.data!.convertMelody.conversion!.id;
      expect(secondId).not.toBe(firstId);
      const before = await leftovers();

      // The client retries (say its connection dropped) and its request reaches the other replica.
      const retry = await uploadConversion(endpoint(api2), { token: alice(), file: melody, input: { idempotencyKey: key, voice: 'low' } });
      expect(retry.body.data!.convertMelody).toMatchObject({ userErrors: [], conversion: { id: secondId, status: 'PENDING' } });
      expect(await leftovers()).toEqual(before);

      expect(before).toMatchObject({ users: 1, conversions: 2, jobs: 2, waiting: 2 });
      expect(before.files).toEqual(
        [storageKeys.input(conversionUuidFromId(firstId)!), storageKeys.input(conversionUuidFromId(secondId)!)].sort(),
      );
      expect((await stats(api2)).queue).toEqual({ waiting: 2, active: 0, completed: 0, failed: 0, delayed: 0 });
    },
  );

  e2e(
    'streams every stage of both runs over graphql-ws once a worker starts: to a subscriber on API #1 and, through Redis, to one on API #2',
    async () => {
      const onApi1 = followProgress(progressClient(cleanup, api1.url!, alice()), firstId);
      const onApi2 = followProgress(progressClient(cleanup, api2.url!, alice()), secondId);
      // The first event is the current state, so both are subscribed in Redis before the worker runs.
      expect(await onApi1.waitFor(() => true, 10_000)).toMatchObject({ status: 'PENDING', progress: 0, final: false });
      expect(await onApi2.waitFor(() => true, 10_000)).toMatchObject({ status: 'PENDING', progress: 0, final: false });

      await startWorker();
      [firstEvents, secondEvents] = await Promise.all([onApi1.completion(90_000), onApi2.completion(90_000)]);

      for (const [events, id] of [
        [firstEvents, firstId],
        [secondEvents, secondId],
      ] as const) {
        expectWellFormedRun(events, id, 'COMPLETED');
        expect(new Set(events.map((event) => event.stage))).toEqual(new Set([null, ...STAGES]));
        expect(events.some((event) => event.status === 'PROCESSING')).toBe(true);
        const last = events.at(-1)!;
        expect(last).toMatchObject({
          progress: 100,
          error: null,
          stage: 'FINALIZATION',
          conversion: { id, status: 'COMPLETED', progress: 100 },
        });
        expect(last.conversion!.result!.lyrics.length).toBeGreaterThan(0);
        expect(last.conversion!.result!.vocalsUrl).toMatch(/\/files\/.*vocals\.wav\?expires=\d+&sig=[0-9a-f]{64}$/);
      }
      // Each replica signs links to itself.
      expect(firstEvents.at(-1)!.conversion!.result!.vocalsUrl.startsWith(`${api1.url}/files/`)).toBe(true);
      expect(secondEvents.at(-1)!.conversion!.result!.vocalsUrl.startsWith(`${api2.url}/files/`)).toBe(true);
    },
    120_000,
  );

  e2e(
    'answers conversion(id) with the result, and its signed links serve the vocals as a 44.1 kHz WAV as long as the melody and the MP3 as audio/mpeg',
    async () => {
      for (const [api, id] of [
        [api1, firstId],
        [api2, secondId],
      ] as const) {
        const conversion = (await conversionOn(api, id, alice()))!;
        expect(conversion).toMatchObject({
          id,
          status: 'COMPLETED',
          stage: 'FINALIZATION',
          progress: 100,
          retryCount: 0,
          error: null,
          feedback: null,
        });
        expect(conversion.input.durationSeconds).toBeCloseTo(MELODY_SECONDS, 1);
        expect(conversion.processingMs).toBeGreaterThan(0);
        for (const stage of ['validation', 'pitchExtraction', 'lyrics', 'synthesis', 'qualityCheck', 'finalization']) {
          expect(conversion.stageTimestamps[stage]).toEqual({ startedAt: expect.any(String), finishedAt: expect.any(String) });
        }
        const result = conversion.result!;
        expect(result.melody.noteCount).toBeGreaterThan(0);

        const vocals = await fetch(result.vocalsUrl);
        expect(vocals.status).toBe(200);
        expect(vocals.headers.get('content-type')).toMatch(/^audio\/wav/);
        const wav = new Uint8Array(await vocals.arrayBuffer());
        expect(Buffer.from(wav.subarray(0, 4)).toString('latin1')).toBe('RIFF');
        expect(Buffer.from(wav.subarray(8, 12)).toString('latin1')).toBe('WAVE');
        const decoded = decodeWav(wav);
        expect(decoded.sampleRate).toBe(44100);
        const seconds = decoded.channels[0].length / decoded.sampleRate;
        expect(Math.abs(seconds - conversion.input.durationSeconds)).toBeLessThanOrEqual(1.5);

        const compressed = await fetch(result.compressedAudioUrl);
        expect(compressed.status).toBe(200);
        expect(result.compressedFormat).toBe('mp3');
        expect(compressed.headers.get('content-type')).toMatch(/^audio\/mpeg/);
        const mp3 = new Uint8Array(await compressed.arrayBuffer());
        // An ID3v2 tag or an MPEG audio frame sync (11 set bits) at the start.
        const startsAsMp3 = Buffer.from(mp3.subarray(0, 3)).toString('latin1') === 'ID3' || (mp3[0] === 0xff && (mp3[1] & 0xe0) === 0xe0);
        expect(startsAsMp3).toBe(true);
        expect(mp3.length).toBeGreaterThan(10_000);

        // Byte ranges, as an audio element asks for them.
        const head = await fetch(result.vocalsUrl, { headers: { range: 'bytes=0-43' } });
        expect(head.status).toBe(206);
        expect(new Uint8Array(await head.arrayBuffer())).toEqual(wav.subarray(0, 44));
        // A link with its signature changed is refused.
        const forged = await fetch(result.vocalsUrl.replace(/sig=([0-9a-f])/, (_, c: string) => `sig=${c === '0' ? '1' : '0'}`));
        expect(forged.status).toBe(403);
        await forged.arrayBuffer();
      }
    },
  );

  e2e('ran one job per conversion and completed each once, the idempotent retry included', async () => {
    // Bee-Queue records a job as done (and the worker logs it) just after its final event went out.
    const completions = () =>
      worker!
        .output()
        .split('\n')
        .filter((line) => line.includes('Conversion completed'));
    await eventually(
      'no job is active and the worker logged both completions',
      async () => ({ active: (await stats(api1)).queue.active, completions: completions().length }),
      {
        until: (now) => now.active === 0 && now.completions >= 2,
        timeoutMs: 10_000,
        intervalMs: 100,
      },
    );
    expect(await stats(api1)).toEqual({ verdict: 'OK', queue: { waiting: 0, active: 0, completed: 2, failed: 0, delayed: 0 } });
    expect(await leftovers()).toMatchObject({ conversions: 2, jobs: 2, waiting: 0 });
    expect(completions()).toHaveLength(2);
    for (const id of [firstId, secondId]) expect(completions().filter((line) => line.includes(conversionUuidFromId(id)!))).toHaveLength(1);
  });

  e2e('takes feedback on a completed conversion and lists it, with the feedback, in history newest first', async () => {
    const { body } = await postGraphQL<{
      submitFeedback: { feedback: { rating: number; comment: string; favorite: boolean } | null; userErrors: unknown[] };
    }>(
      endpoint(api2),
      'mutation($input: SubmitFeedbackInput!) { submitFeedback(input: $input) { feedback { rating comment favorite } userErrors { code field message } } }',
      { input: { conversionId: firstId, rating: 4, comment: 'Nice tune, the second line drags.', favorite: true } },
      alice(),
    );
    expect(body.data!.submitFeedback).toEqual({
      feedback: { rating: 4, comment: 'Nice tune, the second line drags.', favorite: true },
      userErrors: [],
    });
    expect((await conversionOn(api1, firstId, alice()))!.feedback).toEqual({
      rating: 4,
      comment: 'Nice tune, the second line drags.',
      favorite: true,
    });

    const history = await postGraphQL<{
      history: { totalCount: number; edges: { node: { id: string; status: string; feedback: { rating: number } | null } }[] };
    }>(endpoint(api1), '{ history(first: 10) { totalCount edges { node { id status feedback { rating } } } } }', {}, alice());
    expect(history.body.data!.history).toEqual({
      totalCount: 2,
      edges: [
        { node: { id: secondId, status: 'COMPLETED', feedback: null } },
        { node: { id: firstId, status: 'COMPLETED', feedback: { rating: 4 } } },
      ],
    });
  });

  e2e(
    "answers another user's id exactly as a missing one: query, node, cancel, feedback and subscription (NOT_FOUND); a bad token closes the socket with 4403",
    async () => {
      const missing = conversionGlobalId(randomUUID());
      for (const [id, expected] of [
        [firstId, 'theirs'],
        [missing, 'missing'],
      ] as const) {
        const read = await postGraphQL(
          endpoint(api1),
          'query($id: ID!) { conversion(id: $id) { id } node(id: $id) { id } }',
          { id },
          mallory(),
        );
        expect([expected, answer(read)]).toEqual([expected, { data: { conversion: null, node: null } }]);
      }
      const cancel = (id: string) =>
        postGraphQL(
          endpoint(api2),
          'mutation($id: ID!) { cancelConversion(id: $id) { conversion { id } userErrors { code field message } } }',
          { id },
          mallory(),
        );
      const theirCancel = await cancel(firstId);
      expect(theirCancel.body).toEqual((await cancel(missing)).body);
      expect(JSON.stringify(theirCancel.body)).toContain('NOT_FOUND');

      const rate = (id: string) =>
        postGraphQL(
          endpoint(api1),
          'mutation($input: SubmitFeedbackInput!) { submitFeedback(input: $input) { feedback { rating } userErrors { code field message } } }',
          { input: { conversionId: id, rating: 1 } },
          mallory(),
        );
      const theirRating = await rate(firstId);
      expect(theirRating.body).toEqual((await rate(missing)).body);
      expect(JSON.stringify(theirRating.body)).toContain('NOT_FOUND');

      const history = await postGraphQL(endpoint(api1), '{ history(first: 10) { totalCount } }', {}, mallory());
      expect(answer(history)).toEqual({ data: { history: { totalCount: 0 } } });

      const intruder = progressClient(cleanup, api2.url!, mallory());
      const theirStream = await followProgress(intruder, firstId).failure();
      const missingStream = await followProgress(intruder, missing).failure();
      expect(theirStream).toEqual(missingStream);
      expect(JSON.stringify(theirStream)).toContain('NOT_FOUND');

      // Nothing about the conversion changed.
      expect(await conversionOn(api1, firstId, alice())).toMatchObject({ status: 'COMPLETED', feedback: { rating: 4 } });

      for (const token of ['not-a-token', mintToken('some-other-secret-0123456789abcdef0123', 'alice'), null]) {
        const closed = (await followProgress(progressClient(cleanup, api1.url!, token), firstId).failure()) as { code?: number };
        expect(closed.code).toBe(4403);
      }
    },
  );

  e2e(
    'cancels a conversion in flight: the subscriber sees it running, then one final CANCELLED; the row stays CANCELLED and none of its files are left',
    async () => {
      const { body } = await uploadConversion(endpoint(api1), { token: bob(), file: longMelody });
      expect(body.data!.convertMelody.userErrors).toEqual([]);
      const conversion = body.data!.convertMelody.conversion!;
      expect(conversion.input.durationSeconds).toBeCloseTo(MELODY_SECONDS * LONG_REPEATS, 0);
      const id = conversion.id;
      const uuid = conversionUuidFromId(id)!;

      const progress = followProgress(progressClient(cleanup, api2.url!, bob()), id);
      const running = await progress.waitFor(
        (event) => event.status === 'PROCESSING' && (event.stage === 'PITCH_EXTRACTION' || event.stage === 'SYNTHESIS'),
        60_000,
      );
      expect(running.final).toBe(false);

      const cancel = await postGraphQL(
        endpoint(api1),
        'mutation($id: ID!) { cancelConversion(id: $id) { conversion { id status } userErrors { code } } }',
        { id },
        bob(),
      );
      expect(answer(cancel)).toEqual({ data: { cancelConversion: { conversion: { id, status: 'CANCELLED' }, userErrors: [] } } });

      const events = await progress.completion(30_000);
      expectWellFormedRun(events, id, 'CANCELLED');
      expect(events.at(-1)).toMatchObject({ conversion: { status: 'CANCELLED' } });

      // The worker aborts the run through its AbortSignal (it says so) and leaves nothing.
      const abortedInWorker = () =>
        worker!
          .output()
          .split('\n')
          .some((line) => line.includes('Conversion cancelled during processing') && line.includes(uuid));
      await eventually(
        'the worker logged the abort and no job is active',
        async () => ({ aborted: abortedInWorker(), active: (await stats(api1)).queue.active }),
        {
          until: (now) => now.aborted && now.active === 0,
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
      expect(abortedInWorker()).toBe(true);
      expect((await stats(api1)).queue).toMatchObject({ active: 0, waiting: 0 });
      const row = (await conversionOn(api2, id, bob()))!;
      expect(row).toMatchObject({ status: 'CANCELLED', result: null, error: { code: 'ABORTED' } });
      expect((await resources.storedFiles()).filter((file) => file.includes(uuid))).toEqual([]);
      // Cancelling it again is a userError, not a second cancel.
      const again = await postGraphQL(
        endpoint(api2),
        'mutation($id: ID!) { cancelConversion(id: $id) { conversion { status } userErrors { code } } }',
        { id },
        bob(),
      );
      expect(answer(again)).toEqual({
        data: { cancelConversion: { conversion: { status: 'CANCELLED' }, userErrors: [{ code: 'NOT_CANCELLABLE' }] } },
      });
    },
    90_000,
  );

  describe('bad uploads get their userError or HTTP 4xx and leave no row, no job and no file', () => {
    /** Runs `request` and checks that the database, the queue and the storage directory are as they were. */
    async function leavesNothing<T>(request: () => Promise<T>): Promise<T> {
      const before = await leftovers();
      const response = await request();
      expect(await leftovers()).toEqual(before);
      return response;
    }

    e2e('a malformed multipart request: HTTP 400', async () => {
      const response = await leavesNothing(async () => {
        const boundary = 'e2eBOUNDARYe2e';
        const body = [
          `--${boundary}`,
          'Content-Disposition: form-data; name="operations"',
          '',
          '{"query": broken',
          `--${boundary}--`,
          '',
        ].join('\r\n');
        const answer = await fetch(`${api1.url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'apollo-require-preflight': 'true',
            authorization: `Bearer ${bob()}`,
          },
          body,
        });
        await answer.text();
        return answer;
      });
      expect(response.status).toBe(400);
    });

    e2e('a request without the file part: userError NO_FILE', async () => {
      const { status, body } = await leavesNothing(() => uploadConversion(endpoint(api1), { token: bob(), file: null }));
      expect(status).toBe(200);
      expect(body.data!.convertMelody).toMatchObject({ conversion: null, userErrors: [{ code: 'NO_FILE', field: 'audio' }] });
    });

    e2e('a file over MAX_UPLOAD_BYTES: userError FILE_TOO_LARGE', async () => {
      expect(longMelody.bytes.length).toBeGreaterThan(API2_MAX_UPLOAD_BYTES);
      const { status, body } = await leavesNothing(() => uploadConversion(endpoint(api2), { token: bob(), file: longMelody }));
      expect(status).toBe(200);
      expect(body.data!.convertMelody).toMatchObject({ conversion: null, userErrors: [{ code: 'FILE_TOO_LARGE', field: 'audio' }] });
    });

    e2e('PNG bytes named .wav: userError UNSUPPORTED_FORMAT', async () => {
      const png = Uint8Array.from([
        0x89,
        0x50,
        0x4e,
        0x47,
        0x0d,
        0x0a,
        0x1a,
        0x0a,
        0,
        0,
        0,
        13,
        0x49,
        0x48,
        0x44,
        0x52,
        ...new Array(4000).fill(0x2a),
      ]);
      const { status, body } = await leavesNothing(() =>
        uploadConversion(endpoint(api1), { token: bob(), file: { bytes: png, name: 'melody.wav', type: 'audio/wav' } }),
      );
      expect(status).toBe(200);
      expect(body.data!.convertMelody).toMatchObject({ conversion: null, userErrors: [{ code: 'UNSUPPORTED_FORMAT', field: 'audio' }] });
    });
  });

  e2e(
    'stops every process on SIGTERM with exit code 0 and leaves none running',
    async () => {
      const processes = [api1, api2, worker!];
      const codes = await Promise.all(processes.map((p) => p.stop(20_000)));
      expect(Object.fromEntries(processes.map((p, i) => [p.name, codes[i]]))).toEqual({ 'api-1': 0, 'api-2': 0, 'worker-1': 0 });
      for (const p of processes) expect(pidExists(p.pid)).toBe(false);
    },
    30_000,
  );
});
