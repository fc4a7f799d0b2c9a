/**
 * The song's form over the melody: which notes each line is sung on (phrases joined, halved or split)
 * and the sections those lines make (verse, chorus, bridge, outro).
 */
import type { NoteEvent, Phrase } from '../types.js';
import type { SectionKind } from './lyrics-result.js';
import { normalizePhrases, type NoteSpan } from './fit.js';

/** Phrases shorter than this many notes are sung together with a neighbour (no one-word lines). */
const MIN_LINE_NOTES = 4;
/** A short melody's phrases are split into lines of at least this many notes (below that a line says too little). */
const MIN_SPLIT_NOTES = 6;
/** Phrases longer than this are sung as two lines. */
const MAX_LINE_NOTES = 18;
export interface PlannedSection {
  kind: SectionKind;
  count: number;
}

/**
 * Groups `lines` lines into sections: blocks of 4 lines from 12 lines up, of 2 from 4, else of 1.
 * Block kinds: 1 verse; 2 verse chorus; 3 chorus verse chorus; 4 verse chorus verse chorus;
 * 5 verse chorus verse bridge chorus; 6+ alternating verse/chorus, then bridge and a last chorus.
 * Leftover lines form an outro.
 */
export function planSections(lines: number): PlannedSection[] {
  if (lines <= 0) return [];
  const block = lines >= 12 ? 4 : lines >= 4 ? 2 : 1;
  const blocks = Math.floor(lines / block);
  let kinds: SectionKind[];
  if (blocks === 1) kinds = ['verse'];
  else if (blocks === 2) kinds = ['verse', 'chorus'];
  else if (blocks === 3) kinds = ['chorus', 'verse', 'chorus'];
  else if (blocks === 4) kinds = ['verse', 'chorus', 'verse', 'chorus'];
  else if (blocks === 5) kinds = ['verse', 'chorus', 'verse', 'bridge', 'chorus'];
  else {
    kinds = [];
    for (let i = 0; i < blocks - 2; i++) kinds.push(i % 2 === 0 ? 'verse' : 'chorus');
    kinds.push('bridge', 'chorus');
  }
  const plan: PlannedSection[] = kinds.map((kind) => ({ kind, count: block }));
  const rest = lines - blocks * block;
  if (rest > 0) plan.push({ kind: 'outro', count: rest });
  return plan;
}

/** Index of the note after the widest gap in `first+2 .. first+count-2`, near the middle on ties. */
function widestGap(notes: readonly NoteEvent[], first: number, count: number): number {
  let cut = first + Math.floor(count / 2);
  let widest = -Infinity;
  const edge = count >= 2 * MIN_SPLIT_NOTES ? MIN_SPLIT_NOTES : count >= 2 * MIN_LINE_NOTES ? MIN_LINE_NOTES : 2;
  for (let i = first + edge; i <= first + count - edge; i++) {
    const gap = notes[i].start - notes[i - 1].end;
    const centred = -Math.abs(i - (first + count / 2)) * 1e-3;
    const score = (Number.isFinite(gap) ? gap : 0) + centred;
    if (score > widest) {
      widest = score;
      cut = i;
    }
  }
  return cut;
}

/**
 * Lines over the phrases: a lone phrase of 4+ notes is split in two at its widest gap, phrases longer
 * than MAX_LINE_NOTES likewise, and phrases shorter than MIN_LINE_NOTES join the shorter neighbour
 * (a one-note phrase could only carry a one-word line).
 */
/** A span cut in two at its widest gap. */
function halve(notes: readonly NoteEvent[], s: NoteSpan): NoteSpan[] {
  const cut = widestGap(notes, s.firstNote, s.noteCount);
  return [
    { firstNote: s.firstNote, noteCount: cut - s.firstNote, phraseIndex: s.phraseIndex },
    { firstNote: cut, noteCount: s.firstNote + s.noteCount - cut, phraseIndex: s.phraseIndex },
  ];
}

export function lineSpans(notes: readonly NoteEvent[], phrases: readonly Phrase[]): NoteSpan[] {
  let spans = normalizePhrases(notes.length, phrases).map((s) => ({ ...s }));
  for (let i = 0; i < spans.length && spans.length > 1;) {
    if (spans[i].noteCount >= MIN_LINE_NOTES) {
      i++;
      continue;
    }
    const left = i > 0 ? spans[i - 1] : null;
    const right = i + 1 < spans.length ? spans[i + 1] : null;
    const into = !right || (left && left.noteCount <= right.noteCount) ? i - 1 : i + 1;
    const a = Math.min(i, into);
    spans[a] = { firstNote: spans[a].firstNote, noteCount: spans[a].noteCount + spans[a + 1].noteCount, phraseIndex: spans[a].phraseIndex };
    spans.splice(a + 1, 1);
    i = Math.max(0, a);
  }
  if (spans.length === 1 && spans[0].noteCount >= 4) spans = halve(notes, spans[0]);
  // A short melody still gets a verse and a chorus: split its longest phrases until there are four lines.
  while (spans.length < 4) {
    let longest = 0;
    for (let i = 1; i < spans.length; i++) if (spans[i].noteCount > spans[longest].noteCount) longest = i;
    if (spans[longest].noteCount < 2 * MIN_SPLIT_NOTES) break;
    spans.splice(longest, 1, ...halve(notes, spans[longest]));
  }
  const out: NoteSpan[] = [];
  const place = (s: NoteSpan): void => {
    if (s.noteCount <= MAX_LINE_NOTES) out.push(s);
    else for (const part of halve(notes, s)) place(part);
  };
  for (const s of spans) place(s);
  return out;
}
