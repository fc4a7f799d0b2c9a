/**
 * The decode helper process (src/platform/decode-helper.ts) on its own, with real files on a real
 * disk storage and the real ffmpeg: it answers what the in-process check answers (same metadata, same
 * stable error codes), a helper killed in the middle of a job gives that job a retryable error and a
 * fresh helper serves the next one, a job past its time limit fails with DECODE_TIMEOUT, and closing
 * it leaves no process behind. (The API's use of it: api-decode-helper.test.ts.)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError, ValidationError } from '../../src/audio/errors.js';
import { DecodeHelper } from '../../src/platform/decode-helper.js';
import { createFfmpegDecoder } from '../../src/platform/ffmpeg-decoder.js';
import { DiskStorage } from '../../src/platform/storage.js';
import { inlineUploadChecker, type UploadCheckJob } from '../../src/platform/upload-check.js';
import { eventually } from '../support/eventually.js';
import { toneWav } from '../support/hostile-inputs.js';
import { pidExists } from '../support/service-processes.js';
import { Cleanup } from '../support/service-harness.js';

const cleanup = new Cleanup();
let storage: DiskStorage;
let storageDir: string;

function helper(options: { timeoutMs?: number } = {}): DecodeHelper {
  const started = new DecodeHelper({
    settings: { storageBackend: 'fs', storageDir, s3: null, ffmpegTimeoutMs: 60_000 },
    ...options,
  }).start();
  cleanup.add(() => started.close());
  return started;
}

async function stored(key: string, bytes: Uint8Array, fileName: string): Promise<UploadCheckJob> {
  await storage.write(key, bytes);
  return { key, fileName, maxFileBytes: 50 * 1024 * 1024 };
}

/** What a failed check threw, as the fields a client sees. */
async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ValidationError)
      return { class: 'ValidationError', reason: error.reason, issues: error.issues.map((i) => i.code) };
    if (error instanceof AppError)
      return { class: error.constructor.name, code: error.code, reason: error.reason, retryable: error.retryable };
    return { class: 'Error', message: (error as Error).message };
  }
  return { class: 'none' };
}

beforeAll(async () => {
  storageDir = await mkdtemp(join(tmpdir(), 'mv-decode-helper-'));
  cleanup.add(() => rm(storageDir, { recursive: true, force: true }));
  storage = new DiskStorage(storageDir);
});

afterAll(() => cleanup.run());

it('checks a real MP3 and a real WAV and answers exactly what the in-process check answers', async () => {
  const decodeHelper = helper();
  const inline = inlineUploadChecker(storage, createFfmpegDecoder());
  const mp3 = await stored('a/mp3', new Uint8Array(await readFile('test/fixtures/formats/tone-440hz-mono.mp3')), 'tone.wav');
  const wav = await stored('a/wav', toneWav(3, 22_050, 0.5, 2), 'tone.wav');

  const [fromHelperMp3, fromHelperWav] = await Promise.all([decodeHelper.check(mp3), decodeHelper.check(wav)]);
  expect(fromHelperMp3).toEqual(await inline.check(mp3));
  expect(fromHelperWav).toEqual(await inline.check(wav));
  expect(fromHelperMp3).toMatchObject({
    format: 'mp3',
    codec: 'mp3',
    channels: 1,
    warnings: [expect.objectContaining({ code: 'EXTENSION_MISMATCH' })],
  });
  expect(fromHelperWav).toMatchObject({ format: 'wav', sampleRate: 22_050, channels: 2, seconds: 3 });
}, 60_000);

it('refuses bad files with the same stable codes as the in-process check, and goes on serving', async () => {
  const decodeHelper = helper();
  const inline = inlineUploadChecker(storage, createFfmpegDecoder());
  const jobs = [
    await stored('b/text', new TextEncoder().encode('just some text, not audio at all'), 'a.mp3'),
    await stored('b/cut-mp3', new Uint8Array(await readFile('test/fixtures/hostile/truncated-head.mp3')), 'a.mp3'),
    await stored('b/silent', toneWav(2, 44_100, 0), 'a.wav'),
    { key: 'b/missing', fileName: 'a.wav', maxFileBytes: 1024 },
  ];
  for (const job of jobs) {
    const expected = await failure(inline.check(job));
    expect(expected.class).not.toBe('none');
    expect(await failure(decodeHelper.check(job))).toEqual(expected);
  }
  const pid = decodeHelper.pid;
  expect(await decodeHelper.check(await stored('b/good', toneWav(2, 44_100, 0.5), 'a.wav'))).toMatchObject({ format: 'wav' });
  expect(decodeHelper.pid).toBe(pid);
}, 60_000);

it('a helper killed in the middle of a job answers it with a retryable error, and a fresh helper serves the next job', async () => {
  const decodeHelper = helper();
  await decodeHelper.ready();
  const firstPid = decodeHelper.pid!;
  // 300 s of 48 kHz stereo: a decode and level scan long enough to be killed in the middle of.
  const big = await stored('c/big', toneWav(300, 48_000, 0.5, 2), 'big.wav');
  const dispatched = new Promise<void>((resolve) => decodeHelper.once('dispatch', () => resolve()));
  const answer = failure(decodeHelper.check(big));
  await dispatched;
  process.kill(firstPid, 'SIGKILL');

  expect(await answer).toEqual({
    class: 'AudioProcessingError',
    code: 'AUDIO_PROCESSING_ERROR',
    reason: 'DECODE_HELPER_CRASHED',
    retryable: true,
  });
  await eventually('the killed helper is gone', () => !pidExists(firstPid));
  const small = await stored('c/small', toneWav(2, 44_100, 0.5), 'small.wav');
  expect(await decodeHelper.check(small)).toMatchObject({ format: 'wav', seconds: 2 });
  expect(decodeHelper.pid).not.toBe(firstPid);
}, 60_000);

it('a job past its time limit fails with DECODE_TIMEOUT, and the helper stays usable', async () => {
  const decodeHelper = helper({ timeoutMs: 30 });
  await decodeHelper.ready();
  const big = await stored('d/big', toneWav(300, 48_000, 0.5, 2), 'big.wav');
  expect(await failure(decodeHelper.check(big))).toEqual({
    class: 'AppError',
    code: 'TIMEOUT_ERROR',
    reason: 'DECODE_TIMEOUT',
    retryable: false,
  });
  // The helper stopped the job (or was killed and restarted after the grace): either way it is there for the next.
  await eventually('a helper is running again', () => decodeHelper.pid !== null && pidExists(decodeHelper.pid));
  await decodeHelper.ready();
}, 60_000);

it('close stops the helper process and waits for it: no process is left, and later jobs are refused as retryable', async () => {
  const decodeHelper = helper();
  await decodeHelper.ready();
  const pid = decodeHelper.pid!;
  expect(pidExists(pid)).toBe(true);
  await decodeHelper.close();
  expect(pidExists(pid)).toBe(false);
  expect(await failure(decodeHelper.check({ key: 'e/x', fileName: 'x.wav', maxFileBytes: 1024 }))).toMatchObject({
    reason: 'DECODE_HELPER_STOPPED',
    retryable: true,
  });
}, 60_000);
