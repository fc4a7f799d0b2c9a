#!/usr/bin/env bash
# Renders the recorded melody fixtures under test/fixtures/melodies/ with their known truth.
#
#   scripts/make-melody-fixtures.sh            # (re)render every fixture, then check the truth with aubio
#   scripts/make-melody-fixtures.sh --check    # only re-run the truth check on the committed files
#
# What it does (dev-time only; CI and the tests never run it, they read the committed outputs):
#   1. node scripts/plan-melody-fixtures.js writes, per melody, the renderer input (MIDI file, Festival
#      SINGING XML or raw whistle tone) into a scratch directory and <name>.truth.json next to the fixtures.
#   2. Renders each one:
#        fluidsynth  FluidR3_GM.sf2, 44.1 kHz stereo, reverb and chorus off  -> sox: mono, 22.05 kHz
#        festival    singing mode (kal_diphone, 16 kHz), also dumping the     -> sox: (low-pass for the hum)
#                    syllables and f0 targets it rendered (the sung truth is rewritten from them)
#        tone        the planner's sine whistle + sox pink-noise breath      -> sox: mix
#      and writes <name>.flac (16-bit mono FLAC, peak-normalised to -3 dBFS, no dither, trimmed to the
#      truth's duration so the two always line up).
#   3. Checks the truth against aubio's pitch (yinfft) and prints per fixture how much of the voiced reference
#      aubio places within 50 cents and the median deviation in the middle of each note.
#
# Idempotent: the same tools give the same bytes (no dither, sox -R, seeded whistle), files are overwritten.
# Needs (Debian): sox flac fluidsynth fluid-soundfont-gm festival festvox-kallpc16k aubio-tools; Node 20.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/test/fixtures/melodies"
SF2="${SF2:-/usr/share/sounds/sf2/FluidR3_GM.sf2}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/melody-fixtures.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing tool: $1 (apt-get install $2)" >&2; exit 1; }; }

check_truth() {
  need aubio aubio-tools
  node "$ROOT/scripts/check-melody-truth.js" "$OUT"
}

if [[ "${1:-}" == "--check" ]]; then
  check_truth
  exit 0
fi

need node nodejs
need sox sox
need fluidsynth fluidsynth
need festival festival
[[ -f "$SF2" ]] || { echo "missing soundfont $SF2 (apt-get install fluid-soundfont-gm)" >&2; exit 1; }

mkdir -p "$OUT"
node "$ROOT/scripts/plan-melody-fixtures.js" "$WORK" "$OUT"

while IFS=$'\t' read -r name renderer program rate duration lowpass; do
  raw="$WORK/$name.raw.wav"
  case "$renderer" in
    fluidsynth)
      # -R 0 -C 0: reverb and chorus off, so the reference's release marking stays meaningful.
      fluidsynth -q -n -i -R 0 -C 0 -g 0.7 -r 44100 -F "$raw" "$SF2" "$WORK/$name.mid" >/dev/null
      effects=(remix - rate -v "$rate")
      ;;
    festival)
      # Like text2wave -mode singing, but also dumps the syllables and f0 targets Festival rendered: the truth.
      cat > "$WORK/$name.scm" <<SCHEME
(voice_kal_diphone)
(set! sung-utts nil)
(set! tts_hooks (list utt.synth (lambda (utt) (set! sung-utts (cons utt sung-utts)) utt)))
(tts_file "$WORK/$name.xml" 'singing)
(if (not (equal? (length sung-utts) 1)) (error "expected exactly one utterance"))
(set! utt (car sung-utts))
(set! fd (fopen "$WORK/$name.timing.txt" "w"))
(mapcar (lambda (s) (format fd "syllable %f %f\n" (item.feat s 'syllable_start) (item.feat s 'syllable_end))) (utt.relation.items utt 'Syllable))
(mapcar (lambda (s) (if (> (item.feat s 'f0) 0) (format fd "target %f %f\n" (item.feat s 'pos) (item.feat s 'f0)))) (utt.relation.items utt 'Target))
(fclose fd)
(utt.save.wave utt "$raw" 'riff)
SCHEME
      festival -b "$WORK/$name.scm"
      effects=()
      [[ "$lowpass" != "-" ]] && effects=(lowpass "$lowpass" lowpass "$lowpass")
      ;;
    tone)
      # Breath noise: pink noise band-passed around 2.5 kHz, 30 dB under the tone, repeatable (-R).
      sox -R -n -r "$rate" -c 1 -b 16 "$WORK/$name.breath.wav" synth "$duration" pinknoise sinc 1000-5000 vol -30dB
      sox -R -m "$WORK/$name.tone.wav" "$WORK/$name.breath.wav" "$raw"
      effects=()
      ;;
    *) echo "unknown renderer $renderer" >&2; exit 1 ;;
  esac
  # pad then trim: the file is exactly the truth's duration whatever the renderer's tail.
  sox -V1 -D -R "$raw" -b 16 -c 1 "$OUT/$name.flac" ${effects[@]+"${effects[@]}"} norm -3 pad 0 2 trim 0 "$duration"
  printf '%-24s %-10s %6s Hz %6.2f s %7d bytes\n' "$name" "$renderer" "$rate" "$duration" "$(stat -c %s "$OUT/$name.flac")"
done < "$WORK/manifest.tsv"
node "$ROOT/scripts/plan-melody-fixtures.js" "$WORK" "$OUT" --festival-timing

du -ch "$OUT"/*.flac | tail -1
check_truth
