/**
 * The purity rule of eslint.config.js, run for real: source text is linted as if it sat at a path
 * inside the repository (`eslint --stdin --stdin-filename`), so the rule's file globs apply exactly as
 * they do to committed files. Proves that an import from src/audio into an outer layer fails lint, and
 * that the same import is allowed where the layer direction permits it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const eslintBin = fileURLToPath(new URL('../../../node_modules/eslint/bin/eslint.js', import.meta.url));

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** The lint messages `source` would get at `filePath` (relative to the repository root). */
function lintAs(filePath: string, source: string): Promise<LintMessage[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [eslintBin, '--stdin', '--stdin-filename', filePath, '--format', 'json'],
      { cwd: root },
      (error, stdout, stderr) => {
        // eslint exits 1 when it found problems: the JSON on stdout is still the answer.
        if (error && error.code !== 1) {
          reject(new Error(`eslint failed: ${stderr || error.message}`));
          return;
        }
        const [result] = JSON.parse(stdout) as { messages: LintMessage[] }[];
        resolve(result.messages);
      },
    );
    child.stdin!.end(source);
  });
}

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
