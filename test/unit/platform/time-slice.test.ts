/**
 * timeSlicedPause: no turn of the event loop while the slice lasts, one after it; and, driving the
 * validation's sliced decode and measurement, it lets other work run in the middle of a long WAV.
 */
import { timeSlicedPause } from '../../../src/platform/time-slice.js';
import { validateAndDecode } from '../../../src/audio/validate/validate.js';
import { toneWav } from '../../support/hostile-inputs.js';

/** True when a setImmediate queued before `step` ran before `step` resolved. */
async function yieldedDuring(step: () => Promise<void>): Promise<boolean> {
  let ran = false;
  setImmediate(() => {
    ran = true;
  });
  await step();
  return ran;
}

/** How many times a zero-delay interval timer fired while `work` ran. */
async function timerTurnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  const counter = setInterval(() => {
    turns += 1;
  }, 0);
  try {
    await work();
  } finally {
    clearInterval(counter);
  }
  return turns;
}

describe('timeSlicedPause', () => {
  it('resolves without a turn of the event loop while the slice lasts, and with one after it', async () => {
    let now = 0;
    const pause = timeSlicedPause(10, () => now);

    now = 9;
    expect(await yieldedDuring(pause)).toBe(false);
    now = 10;
    expect(await yieldedDuring(pause)).toBe(true);
    // A new slice starts after the yield.
    now = 15;
    expect(await yieldedDuring(pause)).toBe(false);
    now = 20;
    expect(await yieldedDuring(pause)).toBe(true);
  });

  it('lets the event loop run in the middle of a long WAV validation', async () => {
    const wav = toneWav(60, 48_000, 0.3);
    const turns = await timerTurnsDuring(async () => {
      const { audio } = await validateAndDecode(wav, { pause: timeSlicedPause(0) });
      expect(audio.channels[0]!.length).toBe(60 * 48_000);
    });
    expect(turns).toBeGreaterThan(10);
  });

  it('without a pause the same validation runs in one go (what the test above guards)', async () => {
    const wav = toneWav(60, 48_000, 0.3);
    expect(await timerTurnsDuring(() => validateAndDecode(wav))).toBe(0);
  });
});
