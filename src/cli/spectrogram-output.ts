/** The `spectrogram.png` the CLI writes: one picture size and axis for every command. */
import { computeSpectrogram, renderSpectrogramImage, type OverlayNote } from '../audio/spectrogram/spectrogram.js';
import { decodeWav } from '../audio/decode/wav.js';
import { snapToSemitones } from '../audio/voice/voice.js';
import type { ConversionOutputs } from '../audio/pipeline.js';
import { encodePng } from '../platform/png.js';

/** Picture height, pixels: 7.3 octaves (50 Hz … 8 kHz) at ~35 px each. */
export const SPECTROGRAM_HEIGHT = 256;
/**
 * At most this many columns: up to 12 s that is one column per 10 ms frame; longer files are squeezed
 * (each column shows the loudest of its frames, so clicks stay visible). A 10–15 s song's picture is ~100 kB.
 */
export const SPECTROGRAM_MAX_WIDTH = 1200;

/**
 * A PNG spectrogram of mono `samples` (2048-point Hann STFT, 10 ms hop, 20 ms past 60 s; log frequency
 * 50 Hz … 8 kHz; 64 colours from 80 dB below the loudest bin up to it; indexed-colour PNG) with `notes`
 * outlined at their f0.
 */
export function spectrogramPng(samples: Float32Array, sampleRate: number, notes: readonly OverlayNote[]): Uint8Array {
  // Past a minute the picture is squeezed anyway: a 20 ms hop halves the work (2.5 → 1.3 s for 5 min)
  // and, under half the 46 ms window, still puts every sample in two frames, so no click is missed.
  const hopSeconds = samples.length > 60 * sampleRate ? 0.02 : 0.01;
  const spec = computeSpectrogram(samples, sampleRate, { hopSeconds });
  let ceilingDb = spec.minDb;
  for (let i = 0; i < spec.db.length; i++) if (spec.db[i] > ceilingDb) ceilingDb = spec.db[i];
  const image = renderSpectrogramImage(spec, {
    width: Math.max(1, Math.min(spec.frames, SPECTROGRAM_MAX_WIDTH)),
    height: SPECTROGRAM_HEIGHT,
    notes,
    levels: 64,
    ceilingDb,
    floorDb: ceilingDb - 80,
  });
  return encodePng(image);
}

/**
 * The spectrogram of a conversion's vocals (read back from its WAV, so it shows exactly what was
 * delivered) with the notes the voice was asked to sing: the lyrics' notes snapped to semitones and
 * transposed into the voice's range as the singer does it.
 */
export function vocalsSpectrogramPng(outputs: ConversionOutputs): Uint8Array {
  const { channels, sampleRate } = decodeWav(outputs.vocalsWav);
  const shift = outputs.report.voice.transposeSemitones;
  const valid = outputs.lyrics.sungNotes
    .filter((n) => Number.isFinite(n.start) && Number.isFinite(n.end) && Number.isFinite(n.midi) && n.end > n.start && n.start >= 0)
    .sort((a, b) => a.start - b.start);
  const sung = snapToSemitones(valid).map((n) => ({ start: n.start, end: n.end, midi: n.midi + shift }));
  return spectrogramPng(channels[0], sampleRate, sung);
}
