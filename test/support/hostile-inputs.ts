/**
 * The bad-input corpus of issue 6: every hostile upload and request the service must answer with a
 * stable code, in ONE table ({@link HOSTILE_AUDIO}, {@link HOSTILE_TEXT}) shared by the library-level
 * test (`convertMelody` of src/audio/pipeline.ts) and the service-level one (the `convertMelody`
 * mutation). test/fixtures/hostile/README.md lists every item with its expected answer.
 *
 * Small files are committed under test/fixtures/hostile/; everything derived from audio is made here
 * at test time from one deterministic rendered melody (the 60 MB and 301 s files must never be
 * committed), with the ffmpeg binary of `@ffmpeg-installer/ffmpeg` for the compressed formats
 * (`-bitexact`, so the bytes are the same on every run of the same ffmpeg build).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/audio/decode/wav.js';
import { ffmpegPath, runFfmpeg } from '../../src/platform/ffmpeg-decoder.js';
import { renderMelody, twinkle } from './signals.js';

/** Directory of the committed hostile fixtures. */
export const HOSTILE_FIXTURES_DIR = join(process.cwd(), 'test/fixtures/hostile');

/**
 * The answer an item must get. `rejected`: a ValidationError whose `reason` (the first issue, and the
 * first `userErrors[].code` of the mutation) is `code`. `accepted`: a result (a queued conversion for
 * the service) whose warnings include `warning` (null: whatever warnings, none required).
 */
export type HostileVerdict = { accepted: false; code: string } | { accepted: true; warning: string | null };

export const rejected = (code: string): HostileVerdict => ({ accepted: false, code });
export const accepted = (warning: string | null = null): HostileVerdict => ({ accepted: true, warning });

export interface HostileAudioItem {
  id: string;
  /** What the item is, for test names and the README. */
  what: string;
  /** The upload's file name as the client sends it. */
  fileName: string;
  bytes(): Promise<Uint8Array>;
  /** The answer of the library and of the service. */
  expected: HostileVerdict;
  /** Why it is accepted, for items accepted by design (the README repeats it). */
  why?: string;
  /** Only the service sees it (60 MB: the library test would just repeat the byte check). */
  serviceOnly?: boolean;
}

const SOURCE_RATE = 44_100;

/** A 4 s sung-vowel melody (8 notes of the twinkle tune around G4) at `rate`, -6 dBFS peak. */
export function melodySamples(rate = SOURCE_RATE, options: { amplitude?: number; seconds?: number } = {}): Float32Array {
  return renderMelody(twinkle(67, 0.4).slice(0, 8), {
    sampleRate: rate,
    timbre: 'voice',
    amplitude: options.amplitude ?? 0.5,
    duration: options.seconds ?? 4,
  }).samples;
}

let melodyWavCache: Uint8Array | undefined;

/** {@link melodySamples} as a 16-bit mono 44.1 kHz WAV (352 kB). */
export function melodyWav(): Uint8Array {
  melodyWavCache ??= encodeWav([melodySamples()], SOURCE_RATE);
  return melodyWavCache;
}

/** The compressed encodings the corpus truncates: one per format (Ogg twice: Vorbis and Opus). */
export type CorpusEncoding = 'mp3' | 'm4a' | 'aac' | 'ogg-vorbis' | 'ogg-opus' | 'flac';

const ENCODER_ARGS: Record<CorpusEncoding, { args: string[]; extension: string }> = {
  mp3: { args: ['-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3'], extension: 'mp3' },
  // moov written last (ffmpeg's default): the index a cut file loses.
  m4a: { args: ['-c:a', 'aac', '-b:a', '128k', '-f', 'ipod'], extension: 'm4a' },
  aac: { args: ['-c:a', 'aac', '-b:a', '128k', '-f', 'adts'], extension: 'aac' },
  'ogg-vorbis': { args: ['-c:a', 'libvorbis', '-b:a', '128k', '-f', 'ogg'], extension: 'ogg' },
  'ogg-opus': { args: ['-c:a', 'libopus', '-b:a', '96k', '-f', 'ogg'], extension: 'opus' },
  flac: { args: ['-c:a', 'flac', '-f', 'flac'], extension: 'flac' },
};

const encodings = new Map<string, Promise<Uint8Array>>();

/**
 * `wav` encoded by ffmpeg as `encoding` (through a temporary file: the MP4 muxer must seek back to
 * write its index). Cached per process.
 */
export function encodeWith(encoding: CorpusEncoding, wav: Uint8Array = melodyWav(), cacheKey = 'melody'): Promise<Uint8Array> {
  const key = `${cacheKey}:${encoding}`;
  let pending = encodings.get(key);
  if (!pending) {
    pending = (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'mv-hostile-'));
      try {
        const output = join(dir, `out.${ENCODER_ARGS[encoding].extension}`);
        const args = [
          '-hide_banner',
          '-nostdin',
          '-loglevel',
          'error',
          '-f',
          'wav',
          '-i',
          'pipe:0',
          '-map_metadata',
          '-1',
          '-bitexact',
          ...ENCODER_ARGS[encoding].args,
          '-y',
          output,
        ];
        const run = await runFfmpeg(ffmpegPath(), args, wav, { timeoutMs: 60_000, maxOutputBytes: 1024 * 1024 });
        if (run.exitCode !== 0) throw new Error(`ffmpeg could not make ${encoding}: ${run.log}`);
        return new Uint8Array(await readFile(output));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    encodings.set(key, pending);
  }
  return pending;
}

/** The extension a file of `encoding` is named with. */
export function extensionOf(encoding: CorpusEncoding | 'wav'): string {
  return encoding === 'wav' ? 'wav' : ENCODER_ARGS[encoding].extension;
}

/** The first `fraction` of `bytes`, plus 37 bytes so the cut does not fall on a frame boundary. */
export function cut(bytes: Uint8Array, fraction: number): Uint8Array {
  return bytes.slice(0, Math.min(bytes.length - 1, Math.floor(bytes.length * fraction) + 37));
}

/** A committed fixture from test/fixtures/hostile/. */
export async function hostileFixture(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(HOSTILE_FIXTURES_DIR, name)));
}

/** A committed fixture of test/fixtures/formats/. */
async function formatFixture(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(process.cwd(), 'test/fixtures/formats', name)));
}

/**
 * A WAV whose RIFF and data sizes claim `claimedSeconds` of 16-bit mono audio while the file holds
 * only `samples`: a reader that trusted the header would allocate gigabytes.
 */
export function wavClaiming(samples: Float32Array, rate: number, claimedSeconds: number): Uint8Array {
  const wav = encodeWav([samples], rate);
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const claimedBytes = Math.min(0xffffffff - 36, Math.round(claimedSeconds * rate) * 2);
  view.setUint32(4, 36 + claimedBytes, true);
  view.setUint32(40, claimedBytes, true);
  return wav;
}

/**
 * `seconds` of a 440 Hz sine at `amplitude` as a 16-bit WAV, through the oscillator recurrence
 * y[n] = 2cos(w)·y[n-1] - y[n-2]: a Math call per sample is what makes minutes of audio slow under jest.
 */
export function toneWav(seconds: number, rate: number, amplitude: number, channels = 1): Uint8Array {
  const samples = new Float32Array(Math.round(seconds * rate));
  const w = (2 * Math.PI * 440) / rate;
  const k = 2 * Math.cos(w);
  let previous = -amplitude * Math.sin(w);
  let current = 0;
  for (let i = 0; i < samples.length; i++) {
    samples[i] = current;
    const next = k * current - previous;
    previous = current;
    current = next;
  }
  return encodeWav(
    Array.from({ length: channels }, () => samples),
    rate,
  );
}

/** The melody driven 12 dB into full-scale clipping (a third of its samples at ±1). */
function clippedMelodyWav(): Uint8Array {
  const samples = melodySamples(SOURCE_RATE, { amplitude: 2 });
  for (let i = 0; i < samples.length; i++) samples[i] = Math.max(-1, Math.min(1, samples[i]));
  return encodeWav([samples], SOURCE_RATE);
}

/**
 * A 60 MB upload: a valid WAV header and melody followed by padding chunks, so the only thing wrong
 * with it is its size (FILE_TOO_LARGE before anything is decoded).
 */
export function sixtyMegabyteWav(): Uint8Array {
  const seconds = (60 * 1024 * 1024) / (2 * SOURCE_RATE);
  return toneWav(seconds, SOURCE_RATE, 0.3);
}

const TRUNCATED_HEAD: Record<CorpusEncoding | 'wav', string> = {
  wav: 'truncated-head.wav',
  mp3: 'truncated-head.mp3',
  m4a: 'truncated-head.m4a',
  aac: 'truncated-head.aac',
  'ogg-vorbis': 'truncated-head-vorbis.ogg',
  'ogg-opus': 'truncated-head-opus.ogg',
  flac: 'truncated-head.flac',
};

/** How many bytes of each encoding the committed `truncated-head.*` files keep. */
export const HEAD_BYTES = 1500;

/** The bytes of the committed truncated-head fixture of `encoding` (also how it was made). */
export async function makeTruncatedHead(encoding: CorpusEncoding | 'wav'): Promise<Uint8Array> {
  const whole = encoding === 'wav' ? melodyWav() : await encodeWith(encoding);
  return whole.slice(0, HEAD_BYTES);
}

/** The committed fixtures this module can regenerate (name → bytes), for `make-hostile-fixtures`. */
export function committedMakers(): Record<string, () => Promise<Uint8Array>> {
  return Object.fromEntries(
    Object.entries(TRUNCATED_HEAD).map(([encoding, name]) => [name, () => makeTruncatedHead(encoding as CorpusEncoding | 'wav')]),
  );
}

const ALL_ENCODINGS: (CorpusEncoding | 'wav')[] = ['wav', 'mp3', 'm4a', 'aac', 'ogg-vorbis', 'ogg-opus', 'flac'];

/** Every audio item of the corpus. */
export const HOSTILE_AUDIO: HostileAudioItem[] = [
  { id: 'empty', what: 'zero bytes', fileName: 'empty.wav', bytes: async () => new Uint8Array(0), expected: rejected('EMPTY_FILE') },
  ...ALL_ENCODINGS.map((encoding): HostileAudioItem => ({
    id: `truncated-head-${encoding}`,
    what: `a ${encoding} file cut after its first ${HEAD_BYTES} bytes (headers and at most a few frames)`,
    fileName: `melody.${extensionOf(encoding)}`,
    bytes: () => hostileFixture(TRUNCATED_HEAD[encoding]),
    expected: rejected('TRUNCATED_FILE'),
  })),
  ...ALL_ENCODINGS.map((encoding): HostileAudioItem => ({
    id: `truncated-60pc-${encoding}`,
    what: `the 4 s melody as ${encoding}, cut after 60 % of its bytes`,
    fileName: `melody.${extensionOf(encoding)}`,
    // 60 %: Ogg Opus pages hold ~1 s each, so a cut at half leaves 0.99 s of whole pages (TOO_SHORT).
    bytes: async () => cut(encoding === 'wav' ? melodyWav() : await encodeWith(encoding), 0.6),
    // MP4 writes its index (moov) last: without it nothing can be decoded.
    expected: encoding === 'm4a' ? rejected('TRUNCATED_FILE') : accepted('TRUNCATED_FILE'),
    why: encoding === 'm4a' ? undefined : 'the 2 s or more that survive are a usable melody; the warning says the file was cut off',
  })),
  {
    id: 'valid-audio-named-txt',
    what: 'the melody as FLAC, named .txt',
    fileName: 'melody.txt',
    bytes: () => encodeWith('flac'),
    expected: accepted('EXTENSION_MISMATCH'),
    why: 'the format is read from the bytes; the name is only wrong',
  },
  {
    id: 'wav-named-mp3',
    what: 'the melody as WAV, named .mp3',
    fileName: 'melody.mp3',
    bytes: async () => melodyWav(),
    expected: accepted('EXTENSION_MISMATCH'),
    why: 'the format is read from the bytes; the name is only wrong',
  },
  {
    id: 'header-claims-hours',
    what: 'a WAV whose header claims 10 hours but which holds the 4 s melody',
    fileName: 'hours.wav',
    bytes: async () => wavClaiming(melodySamples(), SOURCE_RATE, 10 * 3600),
    expected: accepted('TRUNCATED_FILE'),
    why: 'only the bytes present are read (nothing is sized from the header); the 4 s there are a usable melody, and the warning says the file is shorter than it claims',
  },
  {
    id: 'sixty-megabytes',
    what: 'a 60 MB WAV (6 min of tone)',
    fileName: 'big.wav',
    bytes: async () => sixtyMegabyteWav(),
    expected: rejected('FILE_TOO_LARGE'),
  },
  {
    id: 'zip-named-wav',
    what: 'a ZIP archive named .wav',
    fileName: 'melody.wav',
    bytes: () => hostileFixture('archive-named.wav'),
    expected: rejected('UNSUPPORTED_FORMAT'),
  },
  {
    id: 'png-named-wav',
    what: 'a PNG image named .wav',
    fileName: 'melody.wav',
    bytes: () => hostileFixture('image-named.wav'),
    expected: rejected('UNSUPPORTED_FORMAT'),
  },
  {
    id: 'decompression-bomb',
    what: 'a 53 kB FLAC that decodes to one hour of 44.1 kHz audio (test/fixtures/formats/silence-1h-bomb.flac)',
    fileName: 'bomb.flac',
    bytes: () => formatFixture('silence-1h-bomb.flac'),
    expected: rejected('TOO_LONG'),
  },
  {
    id: 'too-long-301s',
    what: '301 s of tone (16 kHz WAV)',
    fileName: 'long.wav',
    bytes: async () => toneWav(301, 16_000, 0.3),
    expected: rejected('TOO_LONG'),
  },
  {
    id: 'too-short-half-second',
    what: '0.5 s of tone',
    fileName: 'short.wav',
    bytes: async () => toneWav(0.5, SOURCE_RATE, 0.3),
    expected: rejected('TOO_SHORT'),
  },
  {
    id: 'pure-silence',
    what: '4 s of digital silence',
    fileName: 'silence.wav',
    bytes: async () => toneWav(4, SOURCE_RATE, 0),
    expected: rejected('SILENT'),
  },
  {
    id: 'full-scale-clipping',
    what: 'the melody driven into full-scale clipping',
    fileName: 'clipped.wav',
    bytes: async () => clippedMelodyWav(),
    expected: accepted('CLIPPING'),
    why: 'clipped audio still carries the melody; the warning asks for a quieter recording',
  },
  {
    id: 'six-channels',
    what: 'the melody in 6 channels (5.1 WAV)',
    fileName: 'surround.wav',
    bytes: async () => {
      const samples = melodySamples();
      return encodeWav(
        Array.from({ length: 6 }, () => samples),
        SOURCE_RATE,
      );
    },
    expected: rejected('TOO_MANY_CHANNELS'),
  },
  {
    id: 'eight-kilohertz',
    what: 'the melody at 8 kHz',
    fileName: 'phone.wav',
    bytes: async () => encodeWav([melodySamples(8000)], 8000),
    expected: rejected('SAMPLE_RATE_TOO_LOW'),
  },
  {
    id: 'path-traversal-name',
    what: 'the melody as WAV named ../../etc/passwd.wav',
    fileName: '../../etc/passwd.wav',
    bytes: async () => melodyWav(),
    expected: accepted(null),
    why: 'the name is informational: the service keeps its last segment (`passwd.wav`) and stores the bytes under the conversion id',
  },
];

/** A request whose text is hostile; the audio is the good melody. */
export interface HostileTextItem {
  id: string;
  what: string;
  input: { prompt?: string; genre?: string; mood?: string; lyrics?: string };
  expected: HostileVerdict;
  why?: string;
  /** For accepted items: what the stored (sanitised) text must be, field by field. */
  clean?: { prompt?: string; lyrics?: string };
}

/** A prompt every check accepts. */
export const GOOD_PROMPT = 'a song about the sea at night, slow and calm';

/** Every text item of the corpus (sent with the melody as a WAV). */
export const HOSTILE_TEXT: HostileTextItem[] = [
  { id: 'prompt-10kB', what: 'a 10 kB prompt', input: { prompt: 'sea and sky '.repeat(854) }, expected: rejected('PROMPT_TOO_LONG') },
  {
    id: 'prompt-not-utf8',
    what: 'a prompt holding bytes that are not UTF-8 (0xC3 0x28, 0xFF: decoded as U+FFFD by the HTTP layer)',
    input: { prompt: `a song about the sea ${'\uFFFD'}( and the ${'\uFFFD'} night` },
    expected: rejected('INVALID_TEXT_ENCODING'),
  },
  {
    id: 'lyrics-lone-surrogate',
    what: 'lyrics with a lone UTF-16 surrogate (no UTF-8 form)',
    input: { lyrics: 'twinkle twinkle \uD800 little star' },
    expected: rejected('INVALID_TEXT_ENCODING'),
  },
  {
    id: 'prompt-lyrics-control-markup',
    what: 'control characters, a script tag, markup and entities in the prompt and the lyrics',
    input: {
      prompt: `<script>alert(1)</script>a song about the <b>sea</b>\u0000 at\u0007 night &amp; the\u001b[31m moon`,
      lyrics: '<i>twinkle</i> twinkle\u0000 little <img src=x onerror=alert(1)> star\u0008',
    },
    expected: accepted(null),
    why: 'control characters and markup are removed (sanitizeText) before lengths are measured; the stored text is clean',
    clean: { prompt: 'a song about the sea at night & the [31m moon', lyrics: 'twinkle twinkle little star' },
  },
];
