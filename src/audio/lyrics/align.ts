/**
 * Aligning given lyrics (from the user, or a remote model's reply) to the melody's notes.
 *
 * Rule, in order:
 * 1. The text is sanitized and split into lines; `[Chorus]`, `Verse 2:`… labels set the section kind
 *    of the lines after them, blank lines start a new section.
 * 2. When there are fewer words than phrases, or fewer lines than phrases and fewer syllables than
 *    half the notes, the whole text is repeated (songs repeat) and `LYRICS_REPEATED` is reported.
 * 3. Words are distributed over phrases in order by dynamic programming: a phrase prefers exactly as
 *    many syllables as it has notes (each missing syllable costs 0.35 — held by melisma — each extra
 *    one 1.5 — squeezed onto a shared note); breaking between phrases is free at a line end, costs 1
 *    after punctuation and 3 mid-line; joining two text lines into one phrase costs 1. Words left over
 *    at the end are dropped at 3 per syllable, so lines are dropped only after squeezing fails
 *    (at most 3 syllables per note).
 * 4. Within a phrase, `fitSyllablesToNotes` holds syllables over extra notes (stressed and line-final
 *    syllables first, stressed syllables on the strongest notes) or merges unstressed neighbours.
 * 5. More syllables than notes overall gives `LYRICS_TOO_LONG` with the counts.
 * Unknown words are sung from a letter-to-sound guess (see `guessPhones`).
 */
import type { NoteEvent, Phrase, SungNote, TempoEstimate } from '../types.js';
import { scoreLyrics } from './checks.js';
import {
  fitSyllablesToNotes,
  MAX_SYLLABLES_PER_NOTE,
  normalizePhrases,
  noteStrengths,
  syllabifyLine,
  type LineSyllable,
  type NoteSpan,
} from './fit.js';
import {
  emptyQuality,
  type LyricLine,
  type LyricSection,
  type LyricsResult,
  type LyricsWarning,
  type SectionKind,
} from './lyrics-result.js';
import { sanitizeText } from './sanitize.js';

export type { LyricsResult } from './lyrics-result.js';

export interface AlignOptions {
  /** Makes metrical position count in stress placement and scoring. */
  tempo?: TempoEstimate | null;
  /** Content words of the prompt, for the quality score's coverage measure. */
  promptWords?: readonly string[];
}

interface TextUnit {
  text: string;
  key: string;
  syllables: LineSyllable[];
  /** Last word of its text line. */
  lineEnd: boolean;
  /** Followed by punctuation (a natural break). */
  punctuated: boolean;
  line: number;
  section: number;
  kind: SectionKind;
}

const LABEL = /^\s*[[(]?\s*(verse|chorus|refrain|hook|bridge|intro|outro|pre-?chorus|post-?chorus)\b[^\]\n)]*[\])]?\s*:?\s*$/i;

function kindOfLabel(label: string): SectionKind {
  const l = label.toLowerCase();
  if (l.startsWith('chorus') || l === 'refrain' || l === 'hook' || l.startsWith('post')) return 'chorus';
  if (l === 'bridge' || l === 'intro' || l === 'outro') return l;
  return 'verse';
}

function parseUnits(text: string): { units: TextUnit[]; lines: number } {
  const units: TextUnit[] = [];
  let section = 0;
  let kind: SectionKind = 'verse';
  let lineNo = 0;
  let sectionHasLines = false;
  for (const rawLine of sanitizeText(text).split('\n')) {
    const label = rawLine.match(LABEL);
    if (label) {
      if (sectionHasLines) section++;
      kind = kindOfLabel(label[1]);
      sectionHasLines = false;
      continue;
    }
    if (!rawLine.trim()) {
      if (sectionHasLines) {
        section++;
        sectionHasLines = false;
        kind = 'verse';
      }
      continue;
    }
    const lineUnits: TextUnit[] = [];
    for (const token of rawLine.split(/\s+/)) {
      if (!token) continue;
      const syl = syllabifyLine(token);
      syl.words.forEach((w, wi) => {
        lineUnits.push({
          text: w.text,
          key: w.key,
          syllables: syl.syllables.filter((s) => s.wordIndex === wi),
          lineEnd: false,
          punctuated: wi === syl.words.length - 1 && /[,.;:!?\u2014\u2013-]["')\]]*$/.test(token),
          line: lineNo,
          section,
          kind,
        });
      });
    }
    if (!lineUnits.length) continue;
    lineUnits[lineUnits.length - 1].lineEnd = true;
    units.push(...lineUnits);
    lineNo++;
    sectionHasLines = true;
  }
  return { units, lines: lineNo };
}

/** Cost of giving `syllables` syllables to a phrase of `notes` notes (see the module comment). */
function fitCost(syllables: number, notes: number): number {
  if (syllables <= 0) return Infinity;
  return syllables <= notes ? 0.35 * (notes - syllables) : 1.5 * (syllables - notes);
}

/** Words [start, end) for each span, by the partition DP; words from `kept` on are dropped. */
function distribute(units: TextUnit[], spans: NoteSpan[]): { groups: [number, number][]; kept: number } {
  const W = units.length;
  const P = spans.length;
  const prefix = new Float64Array(W + 1);
  const lineEnds = new Float64Array(W + 1);
  for (let i = 0; i < W; i++) {
    prefix[i + 1] = prefix[i] + units[i].syllables.length;
    lineEnds[i + 1] = lineEnds[i] + (units[i].lineEnd ? 1 : 0);
  }
  const breakCost = (k: number) => (k === W || units[k - 1].lineEnd ? 0 : units[k - 1].punctuated ? 1 : 3);
  const stride = W + 1;
  const dp = new Float64Array((P + 1) * stride).fill(Infinity);
  const from = new Int32Array((P + 1) * stride).fill(-1);
  dp[0] = 0;
  for (let p = 0; p < P; p++) {
    const notes = spans[p].noteCount;
    const cap = MAX_SYLLABLES_PER_NOTE * notes;
    for (let i = p; i < W; i++) {
      const base = dp[p * stride + i];
      if (base === Infinity) continue;
      for (let k = i + 1; k <= W; k++) {
        const syl = prefix[k] - prefix[i];
        if (syl > cap && k > i + 1) break;
        const inner = lineEnds[k - 1] - lineEnds[i];
        const cost = base + fitCost(syl, notes) + breakCost(k) + inner;
        const idx = (p + 1) * stride + k;
        if (cost < dp[idx]) {
          dp[idx] = cost;
          from[idx] = i;
        }
      }
    }
  }
  let bestEnd = -1;
  let best = Infinity;
  for (let k = P; k <= W; k++) {
    const base = dp[P * stride + k];
    if (base === Infinity) continue;
    const dropped = prefix[W] - prefix[k];
    const cost = base + 3 * dropped + (k < W && !units[k - 1].lineEnd ? 3 : 0);
    if (cost < best) {
      best = cost;
      bestEnd = k;
    }
  }
  const groups: [number, number][] = new Array(P);
  let end = bestEnd;
  for (let p = P; p >= 1; p--) {
    const start = from[p * stride + end];
    groups[p - 1] = [start, end];
    end = start;
  }
  return { groups, kept: bestEnd };
}

/**
 * Fits user lyrics to the notes: every note gets exactly one syllable or a continuation, and no
 * phrase starts with a continuation. Never throws; text with no singable words is sung on `ah`
 * (warning `LYRICS_EMPTY`). See the module comment for the fitting rule and warnings.
 * @param text free text, one lyric line per line; section labels are understood.
 */
export function alignLyrics(text: string, notes: NoteEvent[], phrases: Phrase[], options: AlignOptions = {}): LyricsResult {
  const safeNotes = Array.isArray(notes) ? notes : [];
  const spans = normalizePhrases(safeNotes.length, Array.isArray(phrases) ? phrases : []);
  const warnings: LyricsWarning[] = [];
  const result: LyricsResult = {
    sections: [],
    sungNotes: [],
    quality: emptyQuality(),
    warnings,
    scheme: null,
    source: 'user',
  };
  if (spans.length === 0) {
    warnings.push({ code: 'NO_NOTES', message: 'The melody has no notes to sing the lyrics on.', notes: 0 });
    return result;
  }
  const strengths = noteStrengths(safeNotes, spans, options.tempo);
  const parsed = parseUnits(typeof text === 'string' ? text : '');
  let units = parsed.units;
  const textSyllables = units.reduce((a, u) => a + u.syllables.length, 0);
  const totalNotes = safeNotes.length;

  if (units.length === 0) {
    warnings.push({
      code: 'LYRICS_EMPTY',
      message: 'The lyrics have no singable words; the melody is sung on "ah".',
      syllables: 0,
      notes: totalNotes,
    });
    const lines: LyricLine[] = [];
    for (const span of spans) {
      const fit = fitSyllablesToNotes([], safeNotes, span, strengths);
      result.sungNotes.push(...fit.sung);
      lines.push({
        text: 'Ah',
        phraseIndex: span.phraseIndex,
        rhymeWord: 'ah',
        firstNote: span.firstNote,
        noteCount: span.noteCount,
        syllableCount: 1,
      });
    }
    result.sections = [{ kind: 'verse', lines }];
    result.quality = scoreLyrics(result, { promptWords: options.promptWords, tempo: options.tempo, scheme: null });
    return result;
  }

  let copies = 1;
  const needsMore = (c: number) =>
    c * units.length < spans.length || (c * parsed.lines < spans.length && c * textSyllables < 0.5 * totalNotes);
  while (needsMore(copies) && copies <= spans.length) copies++;
  if (copies > 1) {
    const one = units;
    units = [];
    for (let c = 0; c < copies; c++)
      units.push(...one.map((u) => ({ ...u, line: u.line + c * parsed.lines, section: u.section + c * 1000 })));
    warnings.push({
      code: 'LYRICS_REPEATED',
      message: `The lyrics (${parsed.lines} line(s), ${textSyllables} syllables) are short for ${spans.length} phrases and ${totalNotes} notes, so they are sung ${copies} times.`,
      syllables: textSyllables,
      notes: totalNotes,
    });
  }

  const { groups, kept } = distribute(units, spans);
  let merged = 0;
  let droppedSyllables = 0;
  const sungNotes: SungNote[] = [];
  const lineSections: { line: LyricLine; section: number; kind: SectionKind }[] = [];
  groups.forEach(([start, end], p) => {
    const span = spans[p];
    const group = units.slice(start, end);
    const syllables: LineSyllable[] = [];
    group.forEach((u, wi) => {
      for (const s of u.syllables) syllables.push({ ...s, wordIndex: wi });
    });
    const fit = fitSyllablesToNotes(syllables, safeNotes, span, strengths);
    merged += fit.merged;
    droppedSyllables += fit.dropped;
    sungNotes.push(...fit.sung);
    lineSections.push({
      line: {
        text: group.map((u) => u.text).join(' '),
        phraseIndex: span.phraseIndex,
        rhymeWord: group.length ? group[group.length - 1].key : '',
        firstNote: span.firstNote,
        noteCount: span.noteCount,
        syllableCount: syllables.length,
      },
      section: group[0]?.section ?? 0,
      kind: group[0]?.kind ?? 'verse',
    });
  });
  const leftOver = units.slice(kept);
  droppedSyllables += leftOver.reduce((a, u) => a + u.syllables.length, 0);

  const sections: LyricSection[] = [];
  let current = -1;
  for (const ls of lineSections) {
    if (ls.section !== current || sections.length === 0) {
      sections.push({ kind: ls.kind, lines: [] });
      current = ls.section;
    }
    sections[sections.length - 1].lines.push(ls.line);
  }
  result.sections = sections;
  result.sungNotes = sungNotes;

  const sungSyllables = units.reduce((a, u) => a + u.syllables.length, 0);
  if (sungSyllables > totalNotes) {
    warnings.push({
      code: 'LYRICS_TOO_LONG',
      message:
        `The lyrics have ${sungSyllables} syllables for ${totalNotes} notes: ${merged} syllable(s) share a note with a neighbour` +
        (droppedSyllables ? ` and ${droppedSyllables} syllable(s) at the end could not be sung.` : '.'),
      syllables: sungSyllables,
      notes: totalNotes,
      merged,
      dropped: droppedSyllables,
    });
  }
  result.quality = scoreLyrics(result, { promptWords: options.promptWords, tempo: options.tempo, scheme: null });
  return result;
}
