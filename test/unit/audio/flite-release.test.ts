/**
 * The pipeline lets go of the thread's Flite instance once a long song is sung (releaseFlite), so the
 * quality check and the encoding do not carry its 35–60 MB of memory; the next song builds a new instance.
 */
import { releaseFlite, runFlite, type FliteRequest } from '../../../src/audio/voice/flite/flite-run.js';
import { loadFliteProgram } from '../../../src/platform/flite-program.js';

const flite = loadFliteProgram();
const request: FliteRequest = { voice: 'slt', phones: ['pau', 'hh', 'ax', 'l', 'ow', 'pau'], f0Hz: 220 };

describe('releaseFlite', () => {
  it('a new instance after a release speaks exactly as the released one did', () => {
    const before = runFlite(flite, request);
    runFlite(flite, { voice: 'awb', phones: ['pau', 'w', 'er', 'l', 'd', 'pau', 'w', 'er', 'l', 'd', 'pau'], f0Hz: 120 });
    releaseFlite(flite);
    const after = runFlite(flite, request);
    expect(after.segments).toEqual(before.segments);
    expect(after.samples).toEqual(before.samples);
  });

  it('releasing twice, or before any run, is harmless', () => {
    const fresh = loadFliteProgram();
    releaseFlite(fresh);
    releaseFlite(fresh);
    expect(runFlite(fresh, request).samples.length).toBeGreaterThan(0);
  });
});
