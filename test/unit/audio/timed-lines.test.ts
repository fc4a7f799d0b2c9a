/**
 * timedLines (src/audio/quality/report.ts): the karaoke times of each lyric line come from the notes
 * the lyrics were aligned to, a melisma's continuation notes lengthening the syllable they hold.
 */
import { timedLines } from '../../../src/audio/quality/report.js';
import type { LyricsResult } from '../../../src/audio/lyrics/lyrics.js';
import { sungNote } from '../../support/sung-note.js';

function lyricsOf(notes: LyricsResult['sungNotes'], lines: { text: string; firstNote: number; noteCount: number }[]): LyricsResult {
  return {
    sections: [{ kind: 'verse', lines: lines.map((l, i) => ({ ...l, phraseIndex: i, rhymeWord: '', syllableCount: 0 })) }],
    sungNotes: notes,
    quality: {} as LyricsResult['quality'],
    warnings: [],
    scheme: null,
    source: 'user',
  };
}

describe('timedLines', () => {
  it('gives each syllable its note onset and the release of its last note, line by line', () => {
    const notes = [
      sungNote(0.5, 1, 60, ['S', 'AH', 'M'], { syllable: 'sum', syllabic: 'begin' }),
      sungNote(1, 1.5, 62, ['M', 'ER'], { syllable: 'mer', syllabic: 'end' }),
      sungNote(1.5, 2.25, 64, [], { syllable: '', continuation: true }),
      sungNote(3, 3.5, 65, ['N', 'AY', 'T'], { syllable: 'night', phraseIndex: 1 }),
    ];
    const lines = timedLines(
      lyricsOf(notes, [
        { text: 'Summer', firstNote: 0, noteCount: 3 },
        { text: 'Night', firstNote: 3, noteCount: 1 },
      ]),
    );
    expect(lines).toEqual([
      {
        text: 'Summer',
        start: 0.5,
        end: 2.25,
        syllables: [
          { text: 'sum', start: 0.5, end: 1, endsWord: false },
          { text: 'mer', start: 1, end: 2.25, endsWord: true },
        ],
      },
      { text: 'Night', start: 3, end: 3.5, syllables: [{ text: 'night', start: 3, end: 3.5, endsWord: true }] },
    ]);
  });
});
