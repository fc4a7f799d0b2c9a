/**
 * Spectrograms for eyes: a short-time Fourier transform in dB ({@link computeSpectrogram}) and its
 * picture as RGBA pixels ({@link renderSpectrogramImage}) with an optional outline of the notes.
 *
 * Pure: samples in, numbers and pixels out. The PNG encoding lives in `platform/png.ts`.
 */
import { getRealFft } from '../dsp/fft.js';
import { midiToHz } from '../pitch-math.js';

export interface SpectrogramOptions {
  /** FFT and window length in samples, a power of two ≥ 16; default 2048 (46 ms at 44.1 kHz, 21.5 Hz bins). */
  fftSize?: number;
  /** Time between frames, seconds; default 0.01. Rounded to a whole number of samples (≥ 1). */
  hopSeconds?: number;
  /** Highest frequency kept, Hz; default 8000, lowered to the Nyquist frequency if above it. */
  maxHz?: number;
  /** Floor of the dB scale: quieter bins are stored as this value; default −90 dB. */
  minDb?: number;
}

/** A magnitude spectrogram. Frame `f` is centred on t = f × hopSeconds; bin `k` is at k × binHz Hz. */
export interface Spectrogram {
  /** Number of frames (time steps). */
  frames: number;
  /** Number of frequency bins kept per frame: 0 … maxHz. */
  bins: number;
  /** Exact time between frames, seconds (the requested hop rounded to whole samples). */
  hopSeconds: number;
  /** Highest frequency the image axis covers, Hz (≤ sampleRate / 2). */
  maxHz: number;
  /** Bin spacing, Hz: sampleRate / fftSize. */
  binHz: number;
  sampleRate: number;
  fftSize: number;
  /** The floor the values were clamped to, dB. */
  minDb: number;
  /**
   * Level of each (frame, bin) in dB relative to a full-scale sine (a sine of amplitude 1 centred on
   * a bin reads 0 dB), clamped below at `minDb`. Row-major: `db[frame * bins + bin]`.
   */
  db: Float32Array;
}

/**
 * Short-time Fourier transform with a periodic Hann window (Harris 1978, "On the use of windows for
 * harmonic analysis with the DFT"). Frames are centred on multiples of the hop; samples outside the
 * signal count as zeros, so the first and last frames see half a window of signal.
 * @param samples mono samples, nominally in [-1, 1]
 * @param sampleRate Hz
 * @throws RangeError when `fftSize` is not a power of two ≥ 16 or `sampleRate`/`hopSeconds` are not positive.
 */
export function computeSpectrogram(samples: Float32Array, sampleRate: number, options: SpectrogramOptions = {}): Spectrogram {
  const fftSize = options.fftSize ?? 2048;
  const minDb = options.minDb ?? -90;
  if (!(sampleRate > 0)) throw new RangeError(`sampleRate must be positive, got ${sampleRate}`);
  if (!Number.isInteger(fftSize) || fftSize < 16 || (fftSize & (fftSize - 1)) !== 0) {
    throw new RangeError(`fftSize must be a power of two ≥ 16, got ${fftSize}`);
  }
  const requestedHop = options.hopSeconds ?? 0.01;
  if (!(requestedHop > 0)) throw new RangeError(`hopSeconds must be positive, got ${requestedHop}`);
  const hop = Math.max(1, Math.round(requestedHop * sampleRate));
  const binHz = sampleRate / fftSize;
  const maxHz = Math.min(options.maxHz ?? 8000, sampleRate / 2);
  const bins = Math.min(fftSize / 2, Math.floor(maxHz / binHz)) + 1;
  const frames = samples.length > 0 ? Math.floor((samples.length - 1) / hop) + 1 : 0;

  const window = new Float64Array(fftSize);
  let windowSum = 0;
  for (let n = 0; n < fftSize; n++) {
    window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / fftSize);
    windowSum += window[n];
  }
  // A sine of amplitude A centred on bin k gives |X[k]| = A × Σw / 2, so 2|X| / Σw reads A.
  const powerScale = (2 / windowSum) ** 2;
  const floorPower = 10 ** (minDb / 10);
  const ln10 = Math.log(10);

  const fft = getRealFft(fftSize);
  const frame = new Float64Array(fftSize);
  const spectrum = fft.createSpectrum();
  const db = new Float32Array(frames * bins);
  const half = fftSize / 2;
  for (let f = 0; f < frames; f++) {
    const first = f * hop - half;
    for (let n = 0; n < fftSize; n++) {
      const i = first + n;
      frame[n] = i >= 0 && i < samples.length ? samples[i] * window[n] : 0;
    }
    fft.forward(frame, spectrum);
    const row = f * bins;
    for (let k = 0; k < bins; k++) {
      const re = spectrum[2 * k];
      const im = spectrum[2 * k + 1];
      const power = (re * re + im * im) * powerScale;
      db[row + k] = power > floorPower ? (10 * Math.log(power)) / ln10 : minDb;
    }
  }
  return { frames, bins, hopSeconds: hop / sampleRate, maxHz, binHz, sampleRate, fftSize, minDb, db };
}

/** A note to outline on the picture: seconds and a (float) MIDI number, 69 = A4 = 440 Hz. */
export interface OverlayNote {
  start: number;
  end: number;
  midi: number;
}

/** How frequencies map to rows; shared by the renderer and {@link frequencyToY}. */
export interface FrequencyAxisOptions {
  /** Image height in pixels; default 256. */
  height?: number;
  /**
   * Logarithmic frequency axis (equal height per octave, from `minHz` to the spectrogram's maxHz) when
   * true, the default, because notes and their harmonics are easier to follow there; linear from 0 Hz
   * to maxHz when false (formants and consonant noise spread evenly).
   */
  logFrequency?: boolean;
  /** Bottom of the logarithmic axis, Hz; default 50. Ignored by the linear axis. */
  minHz?: number;
}

export interface SpectrogramImageOptions extends FrequencyAxisOptions {
  /** Image width in pixels; default one column per frame. Several frames per column show their maximum. */
  width?: number;
  /** Notes to outline: a thin box one semitone tall (at least 5 px) around each note's f0, from start to end. */
  notes?: readonly OverlayNote[];
  /**
   * Number of colours the level is drawn with, 2–256, evenly spaced along the colour map; default 256.
   * 64 looks the same to the eye and, with the overlay and tick colours, fits an indexed-colour PNG.
   */
  levels?: number;
  /** Level shown as the darkest colour, dB; default the spectrogram's `minDb`. */
  floorDb?: number;
  /** Level shown as the brightest colour, dB; default the loudest bin of the spectrogram. */
  ceilingDb?: number;
  /**
   * Tick marks, default true: on the left edge at 125, 250, 500 Hz … 8 kHz (octaves of 1 kHz) on the
   * log axis, every 1 kHz on the linear one (longer at 1 kHz); on the bottom edge every second (longer
   * every 5 s).
   */
  ticks?: boolean;
}

/** An image as 8-bit RGBA pixels, row-major from the top-left corner. */
export interface RgbaImage {
  width: number;
  height: number;
  /** width × height × 4 bytes: R, G, B, A. */
  rgba: Uint8Array;
}

/** Colour of the note outlines: cyan, which no entry of the colour map comes near. */
export const OVERLAY_COLOUR: readonly [number, number, number] = [0, 255, 255];
/** Colour of the tick marks. */
export const TICK_COLOUR: readonly [number, number, number] = [255, 255, 255];

/**
 * Control points of our colour ramp, dark to bright: black through violet, magenta-red and orange to
 * pale yellow, chosen by eye in the spirit of the "magma" map (van der Walt & Smith, matplotlib 2015)
 * so that brightness rises steadily with level and the picture reads in greyscale too.
 */
const RAMP: readonly (readonly [number, number, number, number])[] = [
  [0.0, 0, 0, 4],
  [0.15, 28, 16, 68],
  [0.35, 100, 26, 128],
  [0.55, 182, 54, 121],
  [0.75, 241, 96, 93],
  [0.9, 254, 175, 119],
  [1.0, 252, 253, 191],
];

/** The 256-entry colour map (R, G, B per entry) from dark (quiet) to bright (loud). */
export const COLOUR_MAP: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let s = 1;
    while (s < RAMP.length - 1 && RAMP[s][0] < t) s++;
    const [t0, r0, g0, b0] = RAMP[s - 1];
    const [t1, r1, g1, b1] = RAMP[s];
    const u = (t - t0) / (t1 - t0);
    lut[3 * i] = Math.round(r0 + (r1 - r0) * u);
    lut[3 * i + 1] = Math.round(g0 + (g1 - g0) * u);
    lut[3 * i + 2] = Math.round(b0 + (b1 - b0) * u);
  }
  return lut;
})();

/**
 * Vertical position of a frequency on the picture, in pixels from the top edge (fractional: the pixel
 * row is its floor). Values outside 0 … height mean the frequency is off the axis.
 */
export function frequencyToY(hz: number, spec: Pick<Spectrogram, 'maxHz'>, options: FrequencyAxisOptions = {}): number {
  const height = options.height ?? 256;
  if (options.logFrequency ?? true) {
    const minHz = options.minHz ?? 50;
    if (!(hz > 0)) return Number.POSITIVE_INFINITY;
    return (1 - Math.log(hz / minHz) / Math.log(spec.maxHz / minHz)) * height;
  }
  return (1 - hz / spec.maxHz) * height;
}

/** Horizontal position of a time on a picture `width` pixels wide, in pixels from the left edge (fractional). */
export function timeToX(seconds: number, spec: Pick<Spectrogram, 'frames' | 'hopSeconds'>, width: number): number {
  return spec.frames > 0 ? (seconds / spec.hopSeconds) * (width / spec.frames) : 0;
}

/**
 * Paints a spectrogram: time runs left to right (column x shows the loudest of the frames it covers, so a
 * click narrower than a column still shows), frequency bottom to top on a log or linear axis (see
 * {@link FrequencyAxisOptions}). A row narrower than a bin is interpolated between bins in dB; a row
 * spanning several bins shows their maximum.
 * @throws RangeError when width or height is not a positive integer, or the log axis has minHz ≥ maxHz.
 */
export function renderSpectrogramImage(spec: Spectrogram, options: SpectrogramImageOptions = {}): RgbaImage {
  const width = options.width ?? Math.max(1, spec.frames);
  const height = options.height ?? 256;
  const log = options.logFrequency ?? true;
  const minHz = options.minHz ?? 50;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}×${height}`);
  }
  if (log && !(minHz > 0 && minHz < spec.maxHz)) throw new RangeError(`minHz must be in (0, ${spec.maxHz}), got ${minHz}`);
  const levels = options.levels ?? 256;
  if (!Number.isInteger(levels) || levels < 2 || levels > 256)
    throw new RangeError(`levels must be an integer from 2 to 256, got ${levels}`);
  // Colour-map entry of each quantised level.
  const entry = new Uint8Array(levels);
  for (let i = 0; i < levels; i++) entry[i] = Math.round((i * 255) / (levels - 1));
  const { frames, bins, db, binHz } = spec;

  // Which bins feed each row: [lo, hi] for a maximum, or (lo, lo + 1, frac) to interpolate.
  const rowLo = new Int32Array(height);
  const rowHi = new Int32Array(height);
  const rowFrac = new Float32Array(height);
  const hzAtEdge = (y: number): number => (log ? minHz * (spec.maxHz / minHz) ** (1 - y / height) : spec.maxHz * (1 - y / height));
  for (let y = 0; y < height; y++) {
    const top = hzAtEdge(y);
    const bottom = hzAtEdge(y + 1);
    const lo = Math.ceil(bottom / binHz);
    const hi = Math.min(bins - 1, Math.floor(top / binHz));
    if (lo <= hi) {
      rowLo[y] = lo;
      rowHi[y] = hi;
      rowFrac[y] = -1;
    } else {
      const position = Math.min(bins - 1, (0.5 * (top + bottom)) / binHz);
      rowLo[y] = Math.min(bins - 2, Math.floor(position));
      rowHi[y] = rowLo[y] + 1;
      rowFrac[y] = position - rowLo[y];
      if (bins < 2) {
        rowLo[y] = 0;
        rowHi[y] = 0;
        rowFrac[y] = -1;
      }
    }
  }

  let ceiling = options.ceilingDb ?? Number.NEGATIVE_INFINITY;
  if (options.ceilingDb === undefined) for (let i = 0; i < db.length; i++) if (db[i] > ceiling) ceiling = db[i];
  const floor = options.floorDb ?? spec.minDb;
  if (!(ceiling > floor)) ceiling = floor + 1;
  const scale = (levels - 1) / (ceiling - floor);

  const rgba = new Uint8Array(width * height * 4);
  const column = new Float32Array(height);
  for (let x = 0; x < width; x++) {
    column.fill(floor);
    if (frames > 0) {
      const f0 = Math.min(frames - 1, Math.floor((x * frames) / width));
      const f1 = Math.max(f0 + 1, Math.min(frames, Math.floor(((x + 1) * frames) / width)));
      for (let f = f0; f < f1; f++) {
        const base = f * bins;
        for (let y = 0; y < height; y++) {
          let value: number;
          if (rowFrac[y] < 0) {
            value = db[base + rowLo[y]];
            for (let k = rowLo[y] + 1; k <= rowHi[y]; k++) if (db[base + k] > value) value = db[base + k];
          } else {
            const a = db[base + rowLo[y]];
            value = a + (db[base + rowHi[y]] - a) * rowFrac[y];
          }
          if (value > column[y]) column[y] = value;
        }
      }
    }
    for (let y = 0; y < height; y++) {
      let level = ((column[y] - floor) * scale + 0.5) | 0;
      if (level < 0) level = 0;
      else if (level > levels - 1) level = levels - 1;
      level = entry[level];
      const p = (y * width + x) * 4;
      rgba[p] = COLOUR_MAP[3 * level];
      rgba[p + 1] = COLOUR_MAP[3 * level + 1];
      rgba[p + 2] = COLOUR_MAP[3 * level + 2];
      rgba[p + 3] = 255;
    }
  }

  const image: RgbaImage = { width, height, rgba };
  if (options.ticks ?? true) drawTicks(image, spec, { height, logFrequency: log, minHz });
  for (const note of options.notes ?? []) outlineNote(image, spec, note, { height, logFrequency: log, minHz });
  return image;
}

function setPixel(image: RgbaImage, x: number, y: number, colour: readonly [number, number, number]): void {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const p = (y * image.width + x) * 4;
  image.rgba[p] = colour[0];
  image.rgba[p + 1] = colour[1];
  image.rgba[p + 2] = colour[2];
  image.rgba[p + 3] = 255;
}

function drawTicks(image: RgbaImage, spec: Spectrogram, axis: Required<FrequencyAxisOptions>): void {
  const marks: { hz: number; long: boolean }[] = [];
  if (axis.logFrequency) {
    for (let hz = 1000; hz <= spec.maxHz; hz *= 2) marks.push({ hz, long: hz === 1000 });
    for (let hz = 500; hz >= axis.minHz; hz /= 2) marks.push({ hz, long: false });
  } else {
    for (let hz = 1000; hz < spec.maxHz; hz += 1000) marks.push({ hz, long: hz === 1000 });
  }
  for (const { hz, long } of marks) {
    const y = Math.floor(frequencyToY(hz, spec, axis));
    for (let x = 0; x < (long ? 10 : 6); x++) setPixel(image, x, y, TICK_COLOUR);
  }
  const seconds = spec.frames * spec.hopSeconds;
  for (let s = 1; s < seconds; s++) {
    const x = Math.floor(timeToX(s, spec, image.width));
    for (let dy = 1; dy <= (s % 5 === 0 ? 8 : 4); dy++) setPixel(image, x, image.height - dy, TICK_COLOUR);
  }
}

function outlineNote(image: RgbaImage, spec: Spectrogram, note: OverlayNote, axis: Required<FrequencyAxisOptions>): void {
  if (!(note.end > note.start) || !Number.isFinite(note.midi)) return;
  const hz = midiToHz(note.midi);
  const centre = Math.floor(frequencyToY(hz, spec, axis));
  // Half a semitone above and below, but at least two clear rows each side so the harmonic inside shows.
  const top = Math.min(centre - 2, Math.floor(frequencyToY(midiToHz(note.midi + 0.5), spec, axis)));
  const bottom = Math.max(centre + 2, Math.floor(frequencyToY(midiToHz(note.midi - 0.5), spec, axis)));
  if (bottom < 0 || top >= image.height) return;
  const x0 = Math.floor(timeToX(note.start, spec, image.width));
  const x1 = Math.max(x0 + 1, Math.floor(timeToX(note.end, spec, image.width)) - 1);
  for (let x = x0; x <= x1; x++) {
    setPixel(image, x, top, OVERLAY_COLOUR);
    setPixel(image, x, bottom, OVERLAY_COLOUR);
  }
  for (let y = top; y <= bottom; y++) {
    setPixel(image, x0, y, OVERLAY_COLOUR);
    setPixel(image, x1, y, OVERLAY_COLOUR);
  }
}
