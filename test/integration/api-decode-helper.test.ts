/**
 * The API checks uploads in its decode helper process (DECODE_HELPER=process, the default), on a real
 * API with its own database, Redis prefix and storage, on both storage backends: an MP3 and a WAV are
 * accepted with their metadata, a bad file gets its stable code and leaves nothing behind, a helper
 * killed in the middle of a request's check answers that request with a retryable error (no hang, no
 * row, no file) and a fresh helper serves the next request, and closing the services stops the helper.
 */
import { readFile } from 'node:fs/promises';
import { leftovers, startApi, uploadConversion, type ApiEnv } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { toneWav } from '../support/hostile-inputs.js';
import { pidExists } from '../support/service-processes.js';
import { Cleanup } from '../support/service-harness.js';
import { DecodeHelper } from '../../src/platform/decode-helper.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

function helperOf(api: ApiEnv): DecodeHelper {
  const checker = api.services.uploadChecker;
  if (!(checker instanceof DecodeHelper)) throw new Error('the API runs no decode helper');
  return checker;
}

describe.each(['fs', 's3'] as const)('on the %s backend', (backend) => {
  let api: ApiEnv;
  beforeAll(async () => {
    api = await startApi(cleanup, {}, { storageBackend: backend });
  }, 120_000);

  it('accepts an MP3 and a WAV checked by the helper, and refuses a bad file with its stable code leaving nothing behind', async () => {
    const token = api.token(`user-${backend}-ok`);
    const mp3 = await uploadConversion(api, {
      token,
      file: { bytes: new Uint8Array(await readFile('test/fixtures/formats/tone-440hz-mono.mp3')), name: 'tone.mp3' },
    });
    expect(mp3.body.errors ?? mp3.body.data?.convertMelody.userErrors).toEqual([]);
    expect(mp3.body.data?.convertMelody.conversion?.input).toMatchObject({ format: 'mp3', codec: 'mp3', channels: 1 });
    const wav = await uploadConversion(api, { token, file: { bytes: toneWav(3, 44_100, 0.5, 2), name: 'tone.wav' } });
    expect(wav.body.data?.convertMelody.conversion?.input).toMatchObject({ format: 'wav', channels: 2, durationSeconds: 3 });

    const before = await leftovers(api);
    const silent = await uploadConversion(api, {
      token: api.token(`user-${backend}-bad`),
      file: { bytes: toneWav(2, 44_100, 0), name: 'quiet.wav' },
    });
    expect(silent.body.data?.convertMelody.userErrors.map((e) => e.code)).toEqual(['SILENT']);
    expect(await leftovers(api)).toEqual(before);
  }, 60_000);

  it('a helper killed during a request answers it with a retryable error, and a fresh helper serves the next request', async () => {
    const helper = helperOf(api);
    await helper.ready();
    const firstPid = helper.pid!;
    const before = await leftovers(api);
    helper.once('dispatch', (pid: number) => process.kill(pid, 'SIGKILL'));
    const killed = await uploadConversion(api, {
      token: api.token(`user-${backend}-killed`),
      file: { bytes: toneWav(290, 48_000, 0.5), name: 'long.wav' },
    });
    expect(killed.body.data?.convertMelody ?? null).toBeNull();
    expect(killed.body.errors?.[0]?.extensions).toMatchObject({
      code: 'AUDIO_PROCESSING_ERROR',
      reason: 'DECODE_HELPER_CRASHED',
      retryable: true,
    });
    expect(await leftovers(api)).toEqual(before);
    await eventually('the killed helper is gone', () => !pidExists(firstPid));

    const next = await uploadConversion(api, {
      token: api.token(`user-${backend}-next`),
      file: { bytes: toneWav(2, 44_100, 0.5), name: 'a.wav' },
    });
    expect(next.body.data?.convertMelody.conversion?.input).toMatchObject({ format: 'wav' });
    expect(helper.pid).not.toBe(firstPid);
    const metrics = await fetch(`${api.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/^melody_decode_helper_crashes_total(\{[^}]*\})? 1$/m);
  }, 60_000);
});

it('closing the services stops the decode helper: no process is left', async () => {
  const api = await startApi(cleanup);
  const helper = helperOf(api);
  await helper.ready();
  const pid = helper.pid!;
  await api.server.stop();
  await api.services.close();
  expect(pidExists(pid)).toBe(false);
}, 120_000);
