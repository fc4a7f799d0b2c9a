/**
 * A folder of real sung recordings with note annotations, used by bench/accuracy.bench.ts for its
 * real-singing row. The format is that of the Sight-singing Vocal Dataset v2.0 (SSVD,
 * github.com/xk-wang/SSVD-v2.0, folder `train&valid`): `<id>.flac` next to `<id>.txt`, one note per
 * line as `onset<TAB>offset<TAB>pitch` (seconds, seconds, float MIDI). The audio is never committed:
 * the benchmark takes the folder as an argument.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeAudio, toMonoAudio } from '../../src/audio/decode/decode.js';
import type { NoteLike } from '../../src/audio/eval/note-metrics.js';
import type { MonoAudio } from '../../src/audio/types.js';
import { createFfmpegDecoder } from '../../src/platform/ffmpeg-decoder.js';

export interface SungClip {
  /** File stem, e.g. `1011`. */
  name: string;
  audioPath: string;
  /** Annotated notes sorted by onset; `midi` is the published float pitch. */
  notes: NoteLike[];
}

/** Parses an SSVD annotation file (blank and malformed lines are skipped). */
export function parseSungAnnotation(text: string): NoteLike[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((row) => row.length >= 3 && row.slice(0, 3).every(Number.isFinite))
    .map(([start, end, midi]) => ({ start, end, midi }))
    .sort((a, b) => a.start - b.start);
}

/** Every `<id>.flac` with an `<id>.txt` in `dir`, sorted by name. */
export function listSungClips(dir: string): SungClip[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.txt') && fs.existsSync(path.join(dir, file.replace(/\.txt$/, '.flac'))))
    .sort()
    .map((file) => ({
      name: file.replace(/\.txt$/, ''),
      audioPath: path.join(dir, file.replace(/\.txt$/, '.flac')),
      notes: parseSungAnnotation(fs.readFileSync(path.join(dir, file), 'utf8')),
    }));
}

/** Decodes a clip with the product's own decoder (ffmpeg) and mixes it to mono. */
export async function loadSungAudio(clip: SungClip): Promise<MonoAudio> {
  return toMonoAudio(await decodeAudio(new Uint8Array(fs.readFileSync(clip.audioPath)), { decoder: createFfmpegDecoder() }));
}
