/**
 * `convertMelody` through the real HTTP server, real multipart requests, PostgreSQL, Redis (Bee-Queue)
 * and disk storage: a good upload becomes a PENDING row, a queued job and a stored file; the same
 * idempotency key never makes a second one (also when two requests race); and every kind of bad input
 * is answered with a userError or an HTTP 4xx and leaves no row, no job and no file behind.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from '../../src/audio/decode/wav.js';
import { ffmpegPath } from '../../src/platform/ffmpeg-decoder.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { storageKeys } from '../../src/modules/conversion/conversion-job.js';
import { leftovers, postGraphQL, startApi, uploadConversion, type ApiEnv, type UploadFile } from '../support/api-harness.js';
import { Cleanup } from '../support/service-harness.js';

const MELODY = join(process.cwd(), 'test/fixtures/melodies/hum-mum.flac');
/** hum-mum.truth.json: 11.6 s at 16 kHz, mono. */
const MELODY_SECONDS = 11.6;

const cleanup = new Cleanup();
let api: ApiEnv;
let melody: UploadFile;

beforeAll(async () => {
  api = await startApi(cleanup);
  melody = { bytes: new Uint8Array(await readFile(MELODY)), name: 'hum-mum.flac', type: 'audio/flac' };
});

afterAll(() => cleanup.run());

function tone(seconds: number, amplitude: number, sampleRate = 44100): Uint8Array {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < samples.length; i++) samples[i] = amplitude * Math.sin((2 * Math.PI * 440 * i) / sampleRate);
  return encodeWav([samples], sampleRate);
}

/** Runs `request` and checks it changed nothing anywhere. @returns the request's response. */
async function leavesNothing<T>(request: () => Promise<T>): Promise<T> {
  const before = await leftovers(api);
  const response = await request();
  expect(await leftovers(api)).toEqual(before);
  return response;
}

describe('convertMelody with a good upload', () => {
  it('stores the file, creates a PENDING row with the input metadata and queues one job named by the conversion id', async () => {
    const before = await leftovers(api);
    const { status, body } = await uploadConversion(api, { token: api.token('alice'), file: melody, input: { seed: 7, voice: 'low' } });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const payload = body.data!.convertMelody;
    expect(payload.userErrors).toEqual([]);
    const conversion = payload.conversion!;
    expect(conversion).toMatchObject({
      status: 'PENDING',
      stage: null,
      progress: 0,
      genre: 'ballad',
      mood: 'calm',
      voice: 'low',
      seed: 7,
      userLyrics: null,
      retryCount: 0,
      result: null,
    });
    expect(conversion.input).toMatchObject({
      fileName: 'hum-mum.flac',
      format: 'flac',
      codec: 'flac',
      sampleRate: 16000,
      channels: 1,
      sizeBytes: melody.bytes.length,
    });
    expect(conversion.input.durationSeconds).toBeCloseTo(MELODY_SECONDS, 1);
    // 5 s + 0.1 × 11.6 s, rounded up.
    expect(payload.estimatedSeconds).toBe(7);

    const id = conversionUuidFromId(conversion.id)!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const row = await api.services.orm.em.fork().findOneOrFail(Conversion, id);
    expect(row.status).toBe(ConversionStatus.PENDING);
    expect(row.user.id).toBe('alice');
    expect(row.inputKey).toBe(storageKeys.input(id));
    expect(row.input.format).toBe('flac');

    expect(await api.services.storage.read(storageKeys.input(id))).toEqual(melody.bytes);

    const job = await api.services.queue.getJob(id);
    expect(job.id).toBe(id);
    expect(job.data).toEqual({ conversionId: id });
    expect(job.options.retries).toBe(api.config.jobRetries);
    expect(job.options.backoff).toEqual({ strategy: 'exponential', delay: api.config.jobBackoffMs });
    // The worker enforces JOB_TIMEOUT_SECONDS itself; a Bee-Queue timeout would retry a still-running job.
    expect(job.options.timeout).toBeUndefined();

    const after = await leftovers(api);
    expect(after.conversions).toBe(before.conversions + 1);
    expect(after.jobs).toBe(before.jobs + 1);
    expect(after.waiting).toBe(before.waiting + 1);
    expect(after.files).toEqual([...before.files, `conversions/${id}/input`].sort());
  });

  it('accepts a browser recording: Opus in WebM as MediaRecorder writes it (no duration, clusters of unknown size)', async () => {
    // The melody as Chrome's recorder would send it: 48 kHz Opus, WebM written as a live stream.
    const webm = execFileSync(
      ffmpegPath(),
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        MELODY,
        '-ar',
        '48000',
        '-c:a',
        'libopus',
        '-b:a',
        '64k',
        '-f',
        'webm',
        '-live',
        '1',
        'pipe:1',
      ],
      { maxBuffer: 16 << 20 },
    );
    const file = { bytes: new Uint8Array(webm), name: 'recording.webm', type: 'audio/webm;codecs=opus' };
    const { status, body } = await uploadConversion(api, { token: api.token('alice'), file, input: { seed: 3 } });
    expect(status).toBe(200);
    expect(body.data!.convertMelody.userErrors).toEqual([]);
    const conversion = body.data!.convertMelody.conversion!;
    expect(conversion.status).toBe('PENDING');
    expect(conversion.input).toMatchObject({ fileName: 'recording.webm', format: 'webm', codec: 'opus', sampleRate: 48000, channels: 1 });
    expect(conversion.input.durationSeconds).toBeCloseTo(MELODY_SECONDS, 0);
    expect(body.data!.convertMelody.warnings.map((w: { code: string }) => w.code)).not.toContain('EXTENSION_MISMATCH');
  });

  it('returns the same conversion for a repeated idempotency key and queues nothing more', async () => {
    const token = api.token('bob');
    const first = await uploadConversion(api, { token, file: melody, input: { idempotencyKey: 'bob-key-1' } });
    const firstId = first.body.data!.convertMelody.conversion!.id;
    const before = await leftovers(api);
    const again = await uploadConversion(api, { token, file: melody, input: { idempotencyKey: 'bob-key-1' } });
    expect(again.body.data!.convertMelody.userErrors).toEqual([]);
    expect(again.body.data!.convertMelody.conversion!.id).toBe(firstId);
    expect(await leftovers(api)).toEqual(before);
    // The key is per user: another user's same key is a new conversion.
    const other = await uploadConversion(api, { token: api.token('carol'), file: melody, input: { idempotencyKey: 'bob-key-1' } });
    expect(other.body.data!.convertMelody.conversion!.id).not.toBe(firstId);
  });

  it('makes one conversion, one job and one file when requests with the same key race', async () => {
    const token = api.token('dave');
    const before = await leftovers(api);
    const results = await Promise.all(
      [1, 2, 3].map(() => uploadConversion(api, { token, file: melody, input: { idempotencyKey: 'race' } })),
    );
    const ids = new Set(results.map((r) => r.body.data?.convertMelody.conversion?.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBeTruthy();
    const after = await leftovers(api);
    expect(after.conversions).toBe(before.conversions + 1);
    expect(after.jobs).toBe(before.jobs + 1);
    expect(after.files.length).toBe(before.files.length + 1);
  });

  it('answers a file named like a path with a sanitised name and stores it under the conversion id only', async () => {
    const { body } = await uploadConversion(api, { token: api.token('erin'), file: { ...melody, name: '../../etc/passwd.flac' } });
    const conversion = body.data!.convertMelody.conversion!;
    expect(conversion.input.fileName).toBe('passwd.flac');
    const id = conversionUuidFromId(conversion.id)!;
    expect((await leftovers(api)).files).toContain(`conversions/${id}/input`);
  });

  it('passes on validation warnings, e.g. an extension that names another format', async () => {
    const { body } = await uploadConversion(api, { token: api.token('erin'), file: { ...melody, name: 'melody.mp3' } });
    // hum-mum is 16 kHz, so LOW_SAMPLE_RATE comes too.
    expect(body.data!.convertMelody.warnings.map((w) => [w.code, w.stage])).toEqual([
      ['EXTENSION_MISMATCH', 'VALIDATION'],
      ['LOW_SAMPLE_RATE', 'VALIDATION'],
    ]);
    expect(body.data!.convertMelody.conversion!.warnings.map((w) => w.code)).toEqual(['EXTENSION_MISMATCH', 'LOW_SAMPLE_RATE']);
  });
});

describe('convertMelody with bad input', () => {
  it('answers a request without a token with UNAUTHENTICATED', async () => {
    const { body } = await leavesNothing(() => uploadConversion(api, { file: melody }));
    expect(body.data).toBeNull();
    expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers a forged token with UNAUTHENTICATED', async () => {
    const forged = api.token('mallory').slice(0, -3) + 'abc';
    const { body } = await leavesNothing(() => uploadConversion(api, { token: forged, file: melody }));
    expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a multipart upload without Apollo-Require-Preflight with HTTP 400 (CSRF prevention)', async () => {
    const { status, body } = await leavesNothing(() =>
      uploadConversion(api, { token: api.token('frank'), file: melody, preflight: false }),
    );
    expect(status).toBe(400);
    expect(body.errors?.[0].message).toMatch(/Cross-Site Request Forgery/);
  });

  it('answers a malformed multipart request with HTTP 400', async () => {
    const { status } = await leavesNothing(async () => {
      const boundary = 'xxBOUNDARYxx';
      const body = [`--${boundary}`, 'Content-Disposition: form-data; name="operations"', '', '{not json', `--${boundary}--`, ''].join(
        '\r\n',
      );
      const response = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'apollo-require-preflight': 'true',
          authorization: `Bearer ${api.token('frank')}`,
        },
        body,
      });
      await response.text();
      return response;
    });
    expect(status).toBe(400);
  });

  it('answers a multipart request whose file part is missing with the userError NO_FILE', async () => {
    const { body } = await leavesNothing(() => uploadConversion(api, { token: api.token('frank'), file: null }));
    expect(body.data!.convertMelody).toMatchObject({ conversion: null, userErrors: [{ code: 'NO_FILE', field: 'audio' }] });
  });

  it.each([
    [
      'a PNG named .wav',
      {
        bytes: Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(200).fill(7)]),
        name: 'melody.wav',
        type: 'audio/wav',
      },
      'UNSUPPORTED_FORMAT',
    ],
    [
      'a text file named .mp3',
      { bytes: new TextEncoder().encode('just some words, not audio at all\n'.repeat(20)), name: 'song.mp3', type: 'audio/mpeg' },
      'UNSUPPORTED_FORMAT',
    ],
    ['an empty file', { bytes: new Uint8Array(0), name: 'empty.wav' }, 'EMPTY_FILE'],
    ['half a second of sound', { bytes: tone(0.5, 0.5), name: 'short.wav' }, 'TOO_SHORT'],
    ['two seconds of silence', { bytes: tone(2, 0), name: 'silent.wav' }, 'SILENT'],
    [
      'FLAC magic followed by garbage',
      { bytes: Uint8Array.from([0x66, 0x4c, 0x61, 0x43, ...Array.from({ length: 20000 }, (_, i) => (i * 7919) & 0xff)]), name: 'bad.flac' },
      'CORRUPT_FILE',
    ],
  ])('answers %s with a userError on `audio` and keeps nothing', async (_what, file, codes) => {
    const { body } = await leavesNothing(() => uploadConversion(api, { token: api.token('grace'), file }));
    const payload = body.data!.convertMelody;
    expect(payload.conversion).toBeNull();
    expect(payload.userErrors.length).toBeGreaterThan(0);
    expect(payload.userErrors[0].code).toMatch(new RegExp(`^(${codes})$`));
    expect(payload.userErrors[0].field).toBe('audio');
  });

  it('answers a short prompt with PROMPT_TOO_SHORT on `prompt` without storing the upload', async () => {
    const { body } = await leavesNothing(() =>
      uploadConversion(api, { token: api.token('heidi'), file: melody, input: { prompt: 'too short' } }),
    );
    expect(body.data!.convertMelody).toMatchObject({ conversion: null, userErrors: [{ code: 'PROMPT_TOO_SHORT', field: 'prompt' }] });
  });

  it('lists every text problem at once, each on its field', async () => {
    const { body } = await leavesNothing(() =>
      uploadConversion(api, {
        token: api.token('heidi'),
        file: melody,
        input: { prompt: 'x'.repeat(501), genre: '', voice: 'soprano', seed: -1 },
      }),
    );
    const errors = body.data!.convertMelody.userErrors.map((e) => [e.code, e.field]);
    expect(errors).toEqual([
      ['PROMPT_TOO_LONG', 'prompt'],
      ['INVALID_GENRE', 'genre'],
      ['UNKNOWN_VOICE', 'voice'],
      ['INVALID_SEED', 'seed'],
    ]);
  });

  it('answers an over-long idempotency key with INVALID_IDEMPOTENCY_KEY', async () => {
    const { body } = await leavesNothing(() =>
      uploadConversion(api, { token: api.token('heidi'), file: melody, input: { idempotencyKey: 'k'.repeat(201) } }),
    );
    expect(body.data!.convertMelody.userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID_IDEMPOTENCY_KEY', field: 'idempotencyKey' }),
    ]);
  });

  it('keeps serving after the rejected uploads (no stalled connection or parser)', async () => {
    const { body } = await postGraphQL(api, '{ __typename }');
    expect(body.data).toEqual({ __typename: 'Query' });
  });
});

describe('convertMelody with a small MAX_UPLOAD_BYTES', () => {
  const small = new Cleanup();
  let tiny: ApiEnv;

  beforeAll(async () => {
    tiny = await startApi(small, { MAX_UPLOAD_BYTES: '20000' });
  });

  afterAll(() => small.run());

  it('answers an upload over the limit with FILE_TOO_LARGE and keeps nothing', async () => {
    const before = await leftovers(tiny);
    const { status, body } = await uploadConversion(tiny, { token: tiny.token('ivan'), file: melody });
    expect(status).toBe(200);
    expect(body.data!.convertMelody).toMatchObject({ conversion: null, userErrors: [{ code: 'FILE_TOO_LARGE', field: 'audio' }] });
    expect(await leftovers(tiny)).toEqual(before);
  });

  it('still accepts an upload under the limit on the same server', async () => {
    const { body } = await uploadConversion(tiny, { token: tiny.token('ivan'), file: { bytes: tone(0.2, 0.5, 22050), name: 'x.wav' } });
    // 0.2 s at 22.05 kHz is ~8.8 kB: under the cap, so it reaches validation (and is too short).
    expect(body.data!.convertMelody.userErrors[0].code).toBe('TOO_SHORT');
  });
});

describe('convertMelody when the queue is unavailable', () => {
  const own = new Cleanup();
  let broken: ApiEnv;

  beforeAll(async () => {
    broken = await startApi(own);
    // The producer's Redis connections are gone: saving a job fails as it would with Redis down.
    await broken.services.queue.close();
  });

  afterAll(() => own.run());

  it('answers SERVICE_UNAVAILABLE and removes the row and the file it had made', async () => {
    const before = await leftovers(broken);
    const { body } = await uploadConversion(broken, { token: broken.token('judy'), file: melody });
    expect(body.data?.convertMelody ?? null).toBeNull();
    expect(body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const after = await leftovers(broken);
    expect({ ...after, users: before.users }).toEqual(before);
  });
});
