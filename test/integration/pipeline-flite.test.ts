/**
 * convertMelody with the Flite program port and the real ffmpeg decoder and encoder: the default
 * engine is then `flite`, its vocals meet the loudness, true-peak and pitch targets, the report says
 * which engine and voice sang and how clear the words are; `engine: 'formant'` still sings with the
 * formant synthesizer, and without the port the formant engine is the default. A short song leaves
 * Flite's instance to the next song (no new instance, the same vocals); a long one lets go of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertMelody, type ConvertPorts } from '../../src/audio/pipeline.js';
import { decodeWav } from '../../src/audio/decode/wav.js';
import { measureLoudness } from '../../src/audio/loudness/loudness.js';
import { createFfmpegDecoder } from '../../src/platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../../src/platform/ffmpeg-encoder.js';
import { loadFliteProgram } from '../../src/platform/flite-program.js';
import { releaseFlite } from '../../src/audio/voice/flite/flite-run.js';
import { KEEP_FLITE_UP_TO_SECONDS, keepsFlite } from '../../src/audio/pipeline-vocals.js';
import { MELODY_FIXTURE_DIR } from '../support/melody-fixtures.js';

const MELODY = new Uint8Array(readFileSync(join(MELODY_FIXTURE_DIR, 'voice-la.flac')));
const REQUEST = { audio: MELODY, fileName: 'voice-la.flac', prompt: 'a summer night by the sea', genre: 'pop', mood: 'happy', seed: 3 };
const ports = (flite: boolean): ConvertPorts => ({
  decoder: createFfmpegDecoder(),
  encoder: createFfmpegEncoder(),
  flite: flite ? loadFliteProgram() : undefined,
});

describe('the pipeline with the flite engine', () => {
  it.each(['high', 'low'])('sings with flite by default (%s voice) at -14 LUFS, under -1 dBTP and on pitch', async (voice) => {
    const out = await convertMelody({ ...REQUEST, voice }, ports(true));
    expect(out.report.voice).toMatchObject({ id: voice, engine: 'embedded', synthesizer: 'flite' });
    const wav = decodeWav(out.vocalsWav);
    const loudness = measureLoudness(wav.channels, wav.sampleRate);
    expect(Math.abs(loudness.integratedLufs - -14)).toBeLessThanOrEqual(0.5);
    expect(out.report.quality.truePeakDbtp as number).toBeLessThanOrEqual(-1);
    expect(out.report.quality.pitchAccuracy as number).toBeGreaterThanOrEqual(0.95);
    expect(out.report.quality.clarity?.vowelSeparation).toEqual(expect.any(Number));
    expect(out.report.quality.clarity?.consonantContrastDb).toEqual(expect.any(Number));
  });

  it('falls back to the formant engine with a warning when the Flite program produces no speech', async () => {
    // (module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (memory (export "memory") 1)
    //   (func (export "_start") i32.const 1 call 0)): a program that exits with 1 at once.
    const hex = [
      '0061736d01000000',
      '01080260017f00600000',
      '0224011677617369',
      '5f736e617073686f',
      '745f707265766965',
      '7731',
      '0970726f635f65786974',
      '0000',
      '03020101',
      '0503010001',
      '071302066d656d6f72790200065f737461727400' + '01',
      '0a080106004101' + '10000b',
    ].join('');
    const broken = { module: new WebAssembly.Module(Buffer.from(hex, 'hex')) };
    const out = await convertMelody(REQUEST, { ...ports(false), flite: broken });
    expect(out.report.voice.synthesizer).toBe('formant');
    expect(out.report.warnings.map((w) => w.code)).toContain('VOICE_ENGINE_FALLBACK');
    expect(out.report.quality.pitchAccuracy as number).toBeGreaterThanOrEqual(0.95);
  });

  it('sings with the formant synthesizer when asked, or when no Flite program is given', async () => {
    const asked = await convertMelody(REQUEST, ports(true), { engine: 'formant' });
    expect(asked.report.voice.synthesizer).toBe('formant');
    const without = await convertMelody(REQUEST, ports(false));
    expect(without.report.voice.synthesizer).toBe('formant');
    expect(Buffer.from(asked.vocalsWav).equals(Buffer.from(without.vocalsWav))).toBe(true);
  });

  it("leaves Flite's instance to the next short song, which sings exactly as a fresh instance does", async () => {
    const { module } = loadFliteProgram();
    releaseFlite({ module });
    const first = await convertMelody(REQUEST, ports(true));
    const Original = WebAssembly.Instance;
    let built = 0;
    WebAssembly.Instance = class extends Original {
      constructor(...args: ConstructorParameters<typeof Original>) {
        super(...args);
        built++;
      }
    };
    try {
      const second = await convertMelody(REQUEST, ports(true));
      expect(built).toBe(0);
      expect(Buffer.from(second.vocalsWav).equals(Buffer.from(first.vocalsWav))).toBe(true);
    } finally {
      WebAssembly.Instance = Original;
    }
  });

  it(`lets go of Flite's instance after a song longer than ${KEEP_FLITE_UP_TO_SECONDS} s`, () => {
    expect(keepsFlite(30)).toBe(true);
    expect(keepsFlite(KEEP_FLITE_UP_TO_SECONDS)).toBe(true);
    expect(keepsFlite(KEEP_FLITE_UP_TO_SECONDS + 0.1)).toBe(false);
    expect(keepsFlite(300)).toBe(false);
  });
});
