/**
 * The bad-input corpus (test/support/hostile-inputs.ts, listed in test/fixtures/hostile/README.md)
 * through the pure `convertMelody` with the real ffmpeg decoder and encoder: every hostile item is a
 * ValidationError with its stable reason code, or, for the items accepted by design, a full
 * conversion whose report carries the stated warning. The same table drives the service-level test
 * (hostile-corpus-service.test.ts).
 */
import { performance } from 'node:perf_hooks';
import { convertMelody, type ConvertRequest } from '../../src/audio/pipeline.js';
import { createFfmpegDecoder } from '../../src/platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../../src/platform/ffmpeg-encoder.js';
import { ValidationError } from '../../src/audio/errors.js';
import { GOOD_PROMPT, HOSTILE_AUDIO, HOSTILE_TEXT, melodyWav, type HostileVerdict } from '../support/hostile-inputs.js';

const ports = { decoder: createFfmpegDecoder(), encoder: createFfmpegEncoder(), clock: () => performance.now() };

function request(audio: Uint8Array, extra: Partial<ConvertRequest> = {}): ConvertRequest {
  return { audio, prompt: GOOD_PROMPT, genre: 'ballad', mood: 'calm', seed: 3, ...extra };
}

/** What convertMelody answered, in the table's terms, plus the outputs of an accepted run. */
async function verdictOf(req: ConvertRequest): Promise<{
  verdict: HostileVerdict;
  warnings: string[];
  issues: string[];
  report?: Awaited<ReturnType<typeof convertMelody>>['report'];
}> {
  try {
    const out = await convertMelody(req, ports);
    const warnings = out.report.warnings.map((w) => w.code);
    return { verdict: { accepted: true, warning: null }, warnings, issues: [], report: out.report };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { verdict: { accepted: false, code: error.reason }, warnings: [], issues: error.issues.map((i) => i.code) };
  }
}

function expectVerdict(actual: Awaited<ReturnType<typeof verdictOf>>, expected: HostileVerdict): void {
  if (expected.accepted) {
    expect({ accepted: actual.verdict.accepted, issues: actual.issues }).toEqual({ accepted: true, issues: [] });
    if (expected.warning) expect(actual.warnings).toContain(expected.warning);
  } else {
    expect(actual.verdict).toEqual(expected);
  }
}

describe('the hostile audio corpus through convertMelody', () => {
  const items = HOSTILE_AUDIO.filter((item) => !item.serviceOnly);

  it.each(items.map((item) => [item.id, item.what, item] as const))(
    '%s (%s) gets its stated answer',
    async (_id, _what, item) => {
      const result = await verdictOf(request(await item.bytes(), { fileName: item.fileName }));
      expectVerdict(result, item.expected);
      if (item.expected.accepted) {
        // A real conversion came out: notes were found and the vocals have a measured loudness.
        expect(result.report!.melody.noteCount).toBeGreaterThan(0);
        expect(result.report!.quality.integratedLufs).not.toBeNull();
      }
    },
    120_000,
  );
});

describe('the hostile text corpus through convertMelody', () => {
  it.each(HOSTILE_TEXT.map((item) => [item.id, item.what, item] as const))(
    '%s (%s) gets its stated answer',
    async (_id, _what, item) => {
      const result = await verdictOf(request(melodyWav(), { fileName: 'melody.wav', ...item.input }));
      expectVerdict(result, item.expected);
      if (item.clean?.lyrics !== undefined) {
        // The sung text is the cleaned lyrics: no markup or control characters reach the score.
        expect(result.report!.lyrics.text.replace(/\s+/g, ' ').trim()).toBe(item.clean.lyrics);
      }
    },
    120_000,
  );
});
