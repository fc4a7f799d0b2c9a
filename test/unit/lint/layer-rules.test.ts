/**
 * The purity rule of eslint.config.js, run for real: source text is linted as if it sat at a path
 * inside the repository (test/support/lint-as.ts), so the rule's file globs apply exactly as
 * they do to committed files. Proves that an import from src/audio into an outer layer fails lint, and
 * that the same import is allowed where the layer direction permits it.
 */
import { lintAs } from '../../support/lint-as.js';

const importing = (specifier: string) => `import { thing } from '${specifier}';\nexport const used = thing;\n`;

describe('src/audio may not import the layers outside it', () => {
  it.each([
    ['src/audio/voice/voice-fixture.ts', '../../platform/errors.js'],
    ['src/audio/pipeline-fixture.ts', '../platform/config.js'],
    ['src/audio/voice/flite/flite-fixture.ts', '../../../modules/conversion/conversion.entity.js'],
    ['src/audio/analyze-fixture.ts', '../worker/conversion-job.js'],
    ['src/audio/score/score-fixture.ts', '../../graphql/context.js'],
    ['src/audio/decode/decode-fixture.ts', '../../services.js'],
  ])('%s importing %s fails lint', async (filePath, specifier) => {
    const messages = await lintAs(filePath, importing(specifier));
    expect(messages.map((m) => m.ruleId)).toEqual(['no-restricted-imports']);
    expect(messages[0].message).toContain('src/audio is the innermost layer');
  });

  it('an import inside src/audio (its own errors) passes', async () => {
    expect(await lintAs('src/audio/voice/voice-fixture.ts', importing('../errors.js'))).toEqual([]);
  });

  it('the same platform import from src/worker passes: the rule binds only the core', async () => {
    expect(await lintAs('src/worker/worker-fixture.ts', importing('../platform/config.js'))).toEqual([]);
  });
});
