#!/usr/bin/env bash
# Regenerates the small compressed-format fixtures under test/fixtures/formats/ with the ffmpeg
# binary that `npm ci` installs (@ffmpeg-installer/linux-x64, ffmpeg 4.1 static). The outputs are
# committed; CI never runs this script. WAV variants are not committed: the tests build them with
# encodeWav (src/audio/decode/wav.ts).
#
# Every tone is a 440 Hz sine at 0.5 peak (-6 dBFS), 2 s long unless the name says otherwise, so the
# decoder tests can check duration, rate, channel count and frequency against known truth.
# Usage: scripts/make-decode-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FFMPEG="${FFMPEG:-node_modules/@ffmpeg-installer/linux-x64/ffmpeg}"
OUT=test/fixtures/formats
mkdir -p "$OUT"

# -bitexact and -map_metadata -1 keep the bytes reproducible (no encoder version strings).
ff() { "$FFMPEG" -hide_banner -loglevel error -y "$@"; }
tone() { # tone <rate> <channels> <seconds>
  local layout=mono
  case "$2" in 2) layout=stereo ;; 6) layout=5.1 ;; esac
  echo "aevalsrc=0.5*sin(2*PI*440*t):s=$1:c=$layout:d=$3"
}

# MP3 (MPEG-1 Layer III) with an ID3v2 tag and a Xing/Info header, 44.1 kHz mono, 96 kb/s CBR.
ff -f lavfi -i "$(tone 44100 1 2)" -c:a libmp3lame -b:a 96k -map_metadata -1 "$OUT/tone-440hz-mono.mp3"
# MP3 with no ID3 tag and no Xing frame: the sniffer must find the bare frame sync.
ff -f lavfi -i "$(tone 44100 2 2)" -c:a libmp3lame -b:a 96k -map_metadata -1 -id3v2_version 0 -write_xing 0 "$OUT/tone-440hz-stereo-bare.mp3"
# MP3 at 8 kHz (MPEG-2.5 Layer III), 24 kb/s: low sample rate and low bitrate in one file.
ff -f lavfi -i "$(tone 8000 1 2)" -c:a libmp3lame -b:a 24k -map_metadata -1 "$OUT/tone-440hz-8khz.mp3"
# M4A (AAC-LC in MP4). ffmpeg writes the moov atom after mdat by default: that file needs seeking.
ff -f lavfi -i "$(tone 44100 2 2)" -c:a aac -b:a 96k -map_metadata -1 -bitexact "$OUT/tone-440hz-stereo.m4a"
# The same with moov before mdat (-movflags +faststart): streamable through a pipe.
ff -f lavfi -i "$(tone 44100 2 2)" -c:a aac -b:a 96k -map_metadata -1 -bitexact -movflags +faststart "$OUT/tone-440hz-stereo-faststart.m4a"
# AAC in ADTS frames, 44.1 kHz mono.
ff -f lavfi -i "$(tone 44100 1 2)" -c:a aac -b:a 96k -map_metadata -1 -bitexact -f adts "$OUT/tone-440hz-mono.aac"
# Ogg Vorbis, 44.1 kHz mono.
ff -f lavfi -i "$(tone 44100 1 2)" -c:a libvorbis -q:a 2 -map_metadata -1 -bitexact "$OUT/tone-440hz-mono-vorbis.ogg"
# Ogg Opus (always 48 kHz inside), mono.
ff -f lavfi -i "$(tone 48000 1 2)" -c:a libopus -b:a 48k -map_metadata -1 -bitexact "$OUT/tone-440hz-mono-opus.ogg"
# WebM with Opus, as browsers' MediaRecorder writes it (Chrome, Edge): 48 kHz mono. The first has the
# Duration and Cues a file muxer writes; the second is written as a live stream (-live 1: no Duration,
# no Cues, clusters of unknown size), as a recorder writes it while recording.
ff -f lavfi -i "$(tone 48000 1 2)" -c:a libopus -b:a 48k -map_metadata -1 -bitexact "$OUT/tone-440hz-mono-opus.webm"
ff -f lavfi -i "$(tone 48000 1 2)" -c:a libopus -b:a 48k -map_metadata -1 -bitexact -f webm -live 1 "$OUT/tone-440hz-mono-opus-live.webm"
# FLAC 16-bit, 22.05 kHz mono (lossless: kept small by the lower rate).
ff -f lavfi -i "$(tone 22050 1 2)" -c:a flac -sample_fmt s16 -map_metadata -1 -bitexact "$OUT/tone-440hz-22khz.flac"
# Six channels (5.1) in Ogg Vorbis: validation must reject it (max 2 channels by default).
ff -f lavfi -i "$(tone 44100 6 2)" -c:a libvorbis -q:a 0 -map_metadata -1 -bitexact "$OUT/tone-440hz-6ch-vorbis.ogg"
# Decompression bomb: one hour of stereo 48 kHz digital silence in very long FLAC frames
# (a few tens of kB on disk, 1.4 GB as float PCM). The decoder must stop at its time cap.
ff -f lavfi -i "anullsrc=r=48000:cl=stereo" -t 3600 -c:a flac -compression_level 8 -frame_size 65535 -map_metadata -1 -bitexact "$OUT/silence-1h-bomb.flac"

ls -l "$OUT"
du -ch "$OUT"/* | tail -1
