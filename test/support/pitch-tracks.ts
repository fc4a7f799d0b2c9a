/**
 * PitchTracks made from rendered truth (test/support/signals.ts renderMelody's 10 ms f0 grid) with
 * the faults a real tracker shows: pitch jitter, octave blips, voicing dropouts and a voicing edge
 * that starts/ends a frame late/early. Deterministic (seeded).
 */
import { createRandom, gaussian } from '../../src/audio/random.js';
import type { PitchTrack } from '../../src/audio/types.js';
import type { RenderedMelody } from './signals.js';

export interface TrackFaults {
  /** Standard deviation of per-frame pitch noise in cents; default 0. */
  jitterCents?: number;
  /** Number of octave errors (1–3 frames at ×2 or ×0.5) placed in voiced frames; default 0. */
  octaveBlips?: number;
  /** Number of voicing dropouts (1–4 frames set unvoiced) placed in voiced frames; default 0. */
  dropouts?: number;
  /** Voicing probability given to voiced frames; default 0.9 (unvoiced frames get 0.05). */
  voicedProbability?: number;
  seed?: number;
}

/** Builds a PitchTrack (hop 0.01 s, frame k at k·0.01 s) from a rendering's truth contour. */
export function trackFromTruth(rendered: Pick<RenderedMelody, 'truthHz'>, faults: TrackFaults = {}): PitchTrack {
  const random = createRandom(faults.seed ?? 7);
  const n = rendered.truthHz.length;
  const hz = new Float32Array(n);
  const prob = new Float32Array(n);
  const times = new Float64Array(n);
  const jitter = faults.jitterCents ?? 0;
  const voiced: number[] = [];
  for (let k = 0; k < n; k++) {
    times[k] = k * 0.01;
    const truth = rendered.truthHz[k];
    if (truth > 0) {
      hz[k] = truth * Math.pow(2, (jitter * gaussian(random)) / 1200);
      prob[k] = faults.voicedProbability ?? 0.9;
      voiced.push(k);
    } else {
      prob[k] = 0.05;
    }
  }
  for (let b = 0; b < (faults.octaveBlips ?? 0) && voiced.length; b++) {
    const k = voiced[Math.floor(random() * voiced.length)];
    const length = 1 + Math.floor(random() * 3);
    const factor = random() < 0.5 ? 2 : 0.5;
    for (let j = k; j < Math.min(n, k + length); j++) if (hz[j] > 0) hz[j] *= factor;
  }
  for (let d = 0; d < (faults.dropouts ?? 0) && voiced.length; d++) {
    const k = voiced[Math.floor(random() * voiced.length)];
    const length = 1 + Math.floor(random() * 4);
    for (let j = k; j < Math.min(n, k + length); j++) {
      hz[j] = 0;
      prob[j] = 0.2;
    }
  }
  return { hopSeconds: 0.01, times, hz, voicedProbability: prob };
}
