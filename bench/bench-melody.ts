/**
 * The benches' own melody: a sung-like tone (voice timbre, 5.5 Hz vibrato of ±40 cents, noise at
 * −50 dBFS, seed 5) on a repeated twinkle over `bases`, as a 44.1 kHz mono 16-bit WAV. Deterministic, so
 * every bench that uses it times the same input from run to run.
 */
import { renderMelody, repeatedTwinkle } from '../test/support/signals.js';
import { encodeWav } from '../src/audio/decode/wav.js';

export const BENCH_MELODY_RATE = 44100;

/** The WAV bytes of `seconds` of the bench melody on the given base notes (MIDI). */
export function benchMelodyWav(seconds: number, bases: readonly number[] = [60, 62, 57, 64, 59, 55, 65]): Uint8Array {
  const rendered = renderMelody(repeatedTwinkle(seconds, bases), {
    sampleRate: BENCH_MELODY_RATE,
    duration: seconds,
    timbre: 'voice',
    vibrato: { rateHz: 5.5, depthCents: 40 },
    noiseDb: -50,
    seed: 5,
  });
  return encodeWav([rendered.samples], BENCH_MELODY_RATE, { bitDepth: 16 });
}
