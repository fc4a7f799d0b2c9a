/**
 * A synthetic melody for the lyric writer's tests: one phrase per entry of `counts`, every fourth note
 * and the last of a phrase long, a rest of two beats between phrases. Shared by the lyric writer's tests
 * (test/unit/audio/lyrics-*.test.ts).
 */
import type { NoteEvent, Phrase, TempoEstimate } from '../../src/audio/types.js';

/** What `phraseMelody` builds: the writer request's melody fields. */
export interface PhraseMelody {
  notes: NoteEvent[];
  phrases: Phrase[];
  tempo: TempoEstimate;
}

/** Shape of the notes; every default is stated. */
export interface PhraseMelodyOptions {
  /** Tempo, beats per minute. */
  bpm: number;
  /** Length of a long note (every fourth and each phrase's last), in beats; short notes are half a beat. */
  longBeats: number;
  /** MIDI pitch of the i-th note of a phrase. Default `60 + (i % 5)`. */
  pitch?: (i: number) => number;
}

/** Notes sound for 95 % of their step; times in seconds from 0; confidence 0.9 throughout. */
export function phraseMelody(counts: number[], options: PhraseMelodyOptions): PhraseMelody {
  const { bpm, longBeats, pitch = (i: number) => 60 + (i % 5) } = options;
  const beat = 60 / bpm;
  const notes: NoteEvent[] = [];
  const phrases: Phrase[] = [];
  let t = 0;
  for (const count of counts) {
    const first = notes.length;
    for (let i = 0; i < count; i++) {
      const d = i % 4 === 0 || i === count - 1 ? longBeats * beat : beat / 2;
      notes.push({ start: t, end: t + d * 0.95, midi: pitch(i), confidence: 0.9 });
      t += d;
    }
    phrases.push({ start: notes[first].start, end: notes[notes.length - 1].end, firstNote: first, noteCount: count });
    t += 2 * beat;
  }
  return { notes, phrases, tempo: { bpm, confidence: 0.9 } };
}

/** MIDI pitch of the i-th note of a phrase in {@link SIXTEEN_PHRASES}: a stepped line over C4–F♯4. */
export const steppedPitch = (i: number): number => 60 + ((i * 2) % 7);

/**
 * The long song of the writer's sense tests (the shape of bench/lyrics.bench.ts's long song): 16 phrases
 * of 7–9 notes at 96 BPM, long notes of one beat, on {@link steppedPitch}.
 */
export const SIXTEEN_PHRASES: PhraseMelody = phraseMelody([8, 7, 9, 8, 7, 8, 7, 9, 8, 8, 9, 7, 8, 7, 9, 8], {
  bpm: 96,
  longBeats: 1,
  pitch: steppedPitch,
});

/** The four requests the scene and story tests write long songs for (lyrics rounds 11–13). */
export const SCENE_REQUESTS = [
  { prompt: 'my grandfather teaching me to fish on a quiet lake', genre: 'pop', mood: 'sad' },
  { prompt: 'the night Maria left without a word', genre: 'rock', mood: 'confident' },
  { prompt: 'a sad song about rain in the city and a lost love', genre: 'ballad', mood: 'sad' },
  { prompt: 'dancing all night at a summer festival with friends', genre: 'folk', mood: 'happy' },
] as const;
