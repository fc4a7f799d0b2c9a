/**
 * The one stage list and the spellings derived from it: the service's names and the StageTimestamps
 * fields are contracts (database rows, events, the GraphQL schema), so they are pinned here as text.
 */
import { isStageName, STAGE_ORDER, stageField, StageName, stageName } from '../../../src/audio/stages.js';

describe('stages', () => {
  it('run in the pipeline order, each upper-cased for the service and camel-cased for StageTimestamps', () => {
    expect(STAGE_ORDER).toEqual(['validation', 'pitch_extraction', 'lyrics', 'synthesis', 'quality_check', 'finalization']);
    expect(STAGE_ORDER.map(stageName)).toEqual(['VALIDATION', 'PITCH_EXTRACTION', 'LYRICS', 'SYNTHESIS', 'QUALITY_CHECK', 'FINALIZATION']);
    expect(Object.values(StageName).map(stageField)).toEqual([
      'validation',
      'pitchExtraction',
      'lyrics',
      'synthesis',
      'qualityCheck',
      'finalization',
    ]);
  });

  it('form an enum-shaped object of service names, each keyed by itself (what GraphQL registers)', () => {
    expect(Object.entries(StageName)).toEqual(STAGE_ORDER.map((stage) => [stageName(stage), stageName(stage)]));
  });

  it('tell a service stage name from anything else', () => {
    expect(isStageName('QUALITY_CHECK')).toBe(true);
    expect(isStageName('quality_check')).toBe(false);
    expect(isStageName('toString')).toBe(false);
    expect(isStageName('')).toBe(false);
    expect(isStageName(null)).toBe(false);
    expect(isStageName(undefined)).toBe(false);
  });
});
