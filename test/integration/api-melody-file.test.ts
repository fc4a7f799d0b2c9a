/**
 * `convertMelody` with a `melody` file part (the user's corrected melody, MIDI or MusicXML) through
 * the real HTTP server, PostgreSQL, Redis, disk storage and a real worker running the pipeline in a
 * thread: the given notes are sung instead of the transcription; the same recording with another
 * melody is not served from the result cache; and a melody file that is not one is a userError that
 * leaves no row, no job, no file and no quota unit taken.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ConversionReport } from '../../src/audio/pipeline.js';
import { readMelodyFile } from '../../src/audio/score/melody-file.js';
import { writeMidi } from '../../src/audio/score/midi.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { storageKeys } from '../../src/modules/conversion/conversion-job.js';
import { startWorker } from '../../src/worker/worker.js';
import { leftovers, startApi, uploadConversion, type ApiEnv, type UploadFile } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { Cleanup } from '../support/service-harness.js';
import { fixtureBytes } from '../support/worker-harness.js';

const cleanup = new Cleanup();
let api: ApiEnv;
let recording: UploadFile;

/** A MIDI file of `pitches` as half-second notes from 0.5 s, at 120 BPM (one beat each). */
function melodyMidi(pitches: number[]): UploadFile {
  const notes = pitches.map((midi, i) => ({
    start: 0.5 + 0.5 * i,
    end: 0.95 + 0.5 * i,
    midi,
    confidence: 1,
    syllable: 'la',
    continuation: false,
    syllabic: 'single' as const,
    phonemes: [],
    stressed: false,
    phraseIndex: 0,
  }));
  return { bytes: writeMidi({ notes, tempo: { bpm: 120, confidence: 1 }, key: null }), name: 'corrected.mid', type: 'audio/midi' };
}

const em = () => api.services.orm.em.fork() as EntityManager;

async function convert(melody: UploadFile, seed = 7): Promise<string> {
  const { status, body } = await uploadConversion(api, { token: api.token('mel'), file: recording, melody, input: { seed } });
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  expect(body.data!.convertMelody.userErrors).toEqual([]);
  return conversionUuidFromId(body.data!.convertMelody.conversion!.id)!;
}

/** Waits until the conversion has finished, COMPLETED or FAILED. */
async function finished(id: string): Promise<Conversion> {
  return eventually(`${id} has finished`, () => em().findOneOrFail(Conversion, { id }), {
    until: (last) => last.status === ConversionStatus.COMPLETED || last.status === ConversionStatus.FAILED,
    timeoutMs: 120_000,
  });
}

async function reportOf(conversion: Conversion): Promise<ConversionReport> {
  return JSON.parse(new TextDecoder().decode(await api.services.storage.read(conversion.result!.files.report))) as ConversionReport;
}

beforeAll(async () => {
  api = await startApi(cleanup, { WORKER_CONCURRENCY: '1', DAILY_QUOTA: '100' });
  const worker = await startWorker(api.services, { stopTimeoutMs: 10_000 });
  cleanup.add(() => worker.stop());
  recording = { bytes: await fixtureBytes(), name: 'voice-la.flac', type: 'audio/flac' };
}, 60_000);

afterAll(() => cleanup.run());

describe('convertMelody with a melody file', () => {
  it('sings the notes of the uploaded MIDI file, and the same recording with another melody is computed again, not reused', async () => {
    const first = melodyMidi([60, 62, 64, 65, 67, 65, 64, 62]);
    const id = await convert(first);
    // Stored beside the input while the conversion waits or runs.
    const queued = await em().findOneOrFail(Conversion, { id });
    expect(queued.input.melody).toEqual({ fileName: 'corrected.mid', sizeBytes: first.bytes.length, noteCount: 8 });

    const done = await finished(id);
    expect(done.error).toBeNull();
    expect(done.status).toBe(ConversionStatus.COMPLETED);
    const report = await reportOf(done);
    expect(report.melody.source).toBe('file');
    expect(report.melody.notes.map((note) => note.midi)).toEqual([60, 62, 64, 65, 67, 65, 64, 62]);
    // The exported score is the given melody.
    expect(readMelodyFile(await api.services.storage.read(done.result!.files.midi)).notes.map((note) => note.midi)).toEqual([
      60, 62, 64, 65, 67, 65, 64, 62,
    ]);
    // Deleted with the input once the conversion completed.
    expect(await api.services.storage.stat(storageKeys.melody(id))).toBeFalsy();
    expect(await api.services.storage.stat(storageKeys.input(id))).toBeFalsy();

    // Same recording, same options, another melody: a new result, not the first one's.
    const second = melodyMidi([67, 65, 64, 62, 60, 62, 64, 65]);
    const otherId = await convert(second);
    const other = await finished(otherId);
    expect(other.status).toBe(ConversionStatus.COMPLETED);
    expect(other.reusedFrom).toBeNull();
    expect((await reportOf(other)).melody.notes.map((note) => note.midi)).toEqual([67, 65, 64, 62, 60, 62, 64, 65]);

    // The same melody again is a cache hit: the key covers the melody, it does not just defeat the cache.
    const againId = await convert(first);
    const again = await finished(againId);
    expect(again.status).toBe(ConversionStatus.COMPLETED);
    expect(again.reusedFrom).toBe(id);
  }, 300_000);

  it('answers a melody file that is neither MIDI nor MusicXML with userError INVALID_MELODY_FILE and leaves nothing behind', async () => {
    const before = await leftovers(api);
    const quotaBefore = await api.services.orm.em.fork().getConnection().execute('select * from "quota_counters" order by 1, 2');
    const garbage: UploadFile = { bytes: new TextEncoder().encode('these are not the notes you are looking for'), name: 'notes.mid' };
    const { status, body } = await uploadConversion(api, { token: api.token('mel'), file: recording, melody: garbage });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data!.convertMelody.conversion).toBeNull();
    expect(body.data!.convertMelody.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_MELODY_FILE', field: 'melody' })]);
    expect(await leftovers(api)).toEqual(before);
    expect(await api.services.orm.em.fork().getConnection().execute('select * from "quota_counters" order by 1, 2')).toEqual(quotaBefore);
  });

  it('answers a MIDI file without notes with userError EMPTY_MELODY and a melody over 1 MB with FILE_TOO_LARGE, leaving nothing behind', async () => {
    const before = await leftovers(api);
    const empty = await uploadConversion(api, { token: api.token('mel'), file: recording, melody: melodyMidi([]) });
    expect(empty.body.data!.convertMelody.userErrors).toEqual([expect.objectContaining({ code: 'EMPTY_MELODY', field: 'melody' })]);
    const huge = new Uint8Array(1024 * 1024 + 1);
    huge.set(melodyMidi([60]).bytes);
    const large = await uploadConversion(api, { token: api.token('mel'), file: recording, melody: { bytes: huge, name: 'huge.mid' } });
    expect(large.body.data!.convertMelody.userErrors).toEqual([expect.objectContaining({ code: 'FILE_TOO_LARGE', field: 'melody' })]);
    expect(await leftovers(api)).toEqual(before);
  });

  it('reads the melody part also when it comes before the audio part of the request', async () => {
    const melody = melodyMidi([64, 64, 65, 67]);
    const { body } = await uploadConversion(api, {
      token: api.token('mel'),
      file: recording,
      melody,
      melodyFirst: true,
      input: { seed: 11 },
    });
    expect(body.data!.convertMelody.userErrors).toEqual([]);
    const id = conversionUuidFromId(body.data!.convertMelody.conversion!.id)!;
    const done = await finished(id);
    expect(done.status).toBe(ConversionStatus.COMPLETED);
    expect((await reportOf(done)).melody.notes.map((note) => note.midi)).toEqual([64, 64, 65, 67]);
  }, 120_000);
});
