/**
 * The `convert` command's usage text, apart from the command itself so that `--help` and the other
 * commands do not load the lyric writer, the voice and their language data (compromise alone takes
 * ~0.4 s to import).
 */
export const CONVERT_USAGE = `  melody-vocals convert FILE --prompt TEXT --out DIR [--genre G] [--mood M] [--lyrics FILE]
                        [--voice low|high] [--engine flite|formant] [--seed N] [--format mp3|opus] [--target-lufs L]
                        [--no-vibrato] [--no-portamento] [--no-breath] [--spectrogram] [--quiet]
                        [--melody score.mid|score.musicxml]
      Write lyrics for the melody (or fit yours) and sing them: vocals.wav, vocals.mp3,
      score.mid, score.musicxml, lyrics.txt and report.json in DIR; with --spectrogram also
      spectrogram.png of the vocals with the sung notes outlined. With --melody the notes of
      that MIDI or MusicXML file are sung instead of the transcription (e.g. the score.mid of
      an earlier run, corrected).
`;
