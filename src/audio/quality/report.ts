/**
 * `report.json`: what one conversion did, assembled from the stages' results (buildReport) in the
 * shape a person or a dashboard reads.
 */
import type { KeyEstimate, TempoEstimate } from '../types.js';
import type { AnalysisJson } from '../analysis-json.js';
import type { LyricsResult } from '../lyrics/lyrics.js';
import type { SingingEngine } from '../voice/voice.js';
import type { ConversionStage, ConvertRequest } from '../pipeline.js';
import type { CleanRequest } from '../validate/request.js';
import type { ClarityEstimate } from './clarity.js';
import type { QualityResult } from './quality.js';

export interface ReportWarning {
  code: string;
  message: string;
  stage: ConversionStage;
}

/** `report.json`: everything a person or a dashboard wants to know about one conversion. */
export interface ConversionReport {
  input: {
    fileName: string | null;
    format: string;
    codec: string;
    sampleRate: number;
    channels: number;
    bitrate: number | null;
    durationSeconds: number;
    sizeBytes: number;
  };
  melody: {
    /** `transcription`: the notes found in the recording; `file`: the notes of the melody file given instead. */
    source: 'transcription' | 'file';
    durationSeconds: number;
    noteCount: number;
    phraseCount: number;
    key: KeyEstimate | null;
    tempo: TempoEstimate | null;
    notes: AnalysisJson['notes'];
    loudness: AnalysisJson['loudness'];
  };
  lyrics: {
    source: 'writer' | 'user' | 'provider';
    /** Who wrote them when `source` is `provider` (the provider's own label, e.g. `llm:gpt-4o-mini`), else null. */
    provider: string | null;
    genre: string;
    mood: string;
    text: string;
    sections: { kind: string; lines: string[] }[];
    lineCount: number;
    syllableCount: number;
    qualityScore: number;
    quality: LyricsResult['quality'];
    /** Each line with the time each of its syllables is sung (karaoke); see {@link timedLines}. */
    timedLines: TimedLine[];
  };
  /** `engine`: who sang, `embedded` (the formant voice) or the remote engine's label, e.g. `expert-music-ai`. */
  voice: { id: string; engine: string; transposeSemitones: number; outOfRangeNotes: number; synthesizer: SingingEngine | null };
  /**
   * `clarity`: intelligibility estimate of the embedded voice from its own phoneme timing (see
   * quality/clarity.ts): `vowelSeparation` 0..1, the share of vowels told apart by their spectra,
   * `consonantContrastDb`, how far fricatives and bursts stand out above their vowels; null for a remote take.
   */
  quality: {
    pitchAccuracy: number | null;
    clarity: { vowelSeparation: number | null; consonantContrastDb: number | null } | null;
    integratedLufs: number | null;
    truePeakDbtp: number | null;
    targetLufs: number;
    gainDb: number;
    limited: boolean;
    silent: boolean;
    clipped: boolean;
  };
  warnings: ReportWarning[];
  /** Milliseconds per stage (0 when no clock was given). */
  timings: Record<ConversionStage, number>;
  seed: number;
}

/** One sung syllable: its text and when it is sung, seconds from the start of the vocals. */
export interface TimedSyllable {
  text: string;
  start: number;
  end: number;
  /** True when a word ends with this syllable (MusicXML `syllabic` single or end): a space follows it. */
  endsWord: boolean;
}

/** One lyric line as sung: its text, first onset and last release (seconds) and its syllables in order. */
export interface TimedLine {
  text: string;
  start: number;
  end: number;
  syllables: TimedSyllable[];
}

/**
 * Each lyric line with its syllables' times, from the notes the lyrics were aligned to: a syllable
 * starts at its note's onset and ends at the release of its last note (a melisma's continuation
 * notes extend it). The singer keeps the notes' timing, so these are times in the vocals too.
 */
export function timedLines(lyrics: LyricsResult): TimedLine[] {
  const round = (seconds: number) => Number(seconds.toFixed(3));
  return lyrics.sections
    .flatMap((s) => s.lines)
    .map((line) => {
      const syllables: TimedSyllable[] = [];
      for (const note of lyrics.sungNotes.slice(line.firstNote, line.firstNote + line.noteCount)) {
        const last = syllables[syllables.length - 1];
        if (note.continuation && last) last.end = round(note.end);
        else
          syllables.push({
            text: note.syllable,
            start: round(note.start),
            end: round(note.end),
            endsWord: note.syllabic === 'single' || note.syllabic === 'end',
          });
      }
      return {
        text: line.text,
        start: syllables[0]?.start ?? 0,
        end: syllables[syllables.length - 1]?.end ?? 0,
        syllables,
      };
    });
}

/** The lyrics as one text, lines separated by newlines, sections by blank lines. */
export function lyricsText(lyrics: LyricsResult): string {
  return lyrics.sections.map((s) => s.lines.map((l) => l.text).join('\n')).join('\n\n');
}

/** What stages 4 and 5 hand on: the delivered WAV and the measurements, not the raw voice. */
export interface CheckedVocals {
  /** 16-bit mono WAV at the output rate, normalised. */
  wav: Uint8Array;
  voice: string;
  /** `embedded`, or the remote engine's label. */
  engine: string;
  /** The embedded engine that sang, null for a remote take. */
  synthesizer: SingingEngine | null;
  /** Intelligibility estimate of the embedded voice, null for a remote take. */
  clarity: ClarityEstimate | null;
  transposeSemitones: number;
  outOfRange: number;
  quality: Omit<QualityResult, 'samples'>;
}

const finiteOrNull = (value: number, digits = 2): number | null => (Number.isFinite(value) ? Number(value.toFixed(digits)) : null);

export function buildReport(parts: {
  request: ConvertRequest;
  clean: CleanRequest;
  analysisJson: AnalysisJson;
  lyrics: LyricsResult;
  lyricsProvider: string | null;
  vocals: CheckedVocals;
  targetLufs: number;
  warnings: ReportWarning[];
  timings: Record<ConversionStage, number>;
}): ConversionReport {
  const { analysisJson: a, lyrics } = parts;
  const { quality } = parts.vocals;
  const lines = lyrics.sections.flatMap((s) => s.lines);
  return {
    input: {
      fileName: parts.request.fileName ?? null,
      format: a.format,
      codec: a.codec,
      sampleRate: a.sampleRate,
      channels: a.channels,
      bitrate: a.bitrate,
      durationSeconds: a.durationSeconds,
      sizeBytes: parts.request.audio.length,
    },
    melody: {
      source: parts.request.melody?.notes.length ? 'file' : 'transcription',
      durationSeconds: a.durationSeconds,
      noteCount: a.notes.length,
      phraseCount: a.phrases.length,
      key: a.key,
      tempo: a.tempo,
      notes: a.notes,
      loudness: a.loudness,
    },
    lyrics: {
      source: lyrics.source,
      provider: parts.lyricsProvider,
      genre: parts.clean.genre,
      mood: parts.clean.mood,
      text: lyricsText(lyrics),
      sections: lyrics.sections.map((s) => ({ kind: s.kind, lines: s.lines.map((l) => l.text) })),
      lineCount: lines.length,
      syllableCount: lyrics.sungNotes.filter((n) => !n.continuation).length,
      qualityScore: Number(lyrics.quality.score.toFixed(3)),
      quality: lyrics.quality,
      timedLines: timedLines(lyrics),
    },
    voice: {
      id: parts.vocals.voice,
      engine: parts.vocals.engine,
      synthesizer: parts.vocals.synthesizer,
      transposeSemitones: parts.vocals.transposeSemitones,
      outOfRangeNotes: parts.vocals.outOfRange,
    },
    quality: {
      pitchAccuracy: finiteOrNull(quality.pitchAccuracy, 4),
      clarity: parts.vocals.clarity && {
        vowelSeparation: finiteOrNull(parts.vocals.clarity.vowelSeparation, 3),
        consonantContrastDb: finiteOrNull(parts.vocals.clarity.consonantContrastDb, 1),
      },
      integratedLufs: finiteOrNull(quality.integratedLufs),
      truePeakDbtp: finiteOrNull(quality.truePeakDbtp),
      targetLufs: parts.targetLufs,
      gainDb: Number(quality.gainDb.toFixed(2)),
      limited: quality.limited,
      silent: quality.silent,
      clipped: quality.clipped,
    },
    warnings: parts.warnings,
    timings: Object.fromEntries(Object.entries(parts.timings).map(([k, v]) => [k, Math.round(v)])) as Record<ConversionStage, number>,
    seed: parts.clean.seed,
  };
}
