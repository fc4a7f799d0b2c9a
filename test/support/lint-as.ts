/**
 * Lints source text as if it sat at a path in the repository, with the project's own ESLint
 * configuration, in this process: the rules' file globs apply exactly as they do to committed files.
 * The lint-rule tests (test/unit/lint) use it to prove that a forbidden import fails.
 */
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';

const eslint = new ESLint({ cwd: fileURLToPath(new URL('../../', import.meta.url)) });

/** The lint messages `source` would get at `filePath` (relative to the repository root). */
export async function lintAs(filePath: string, source: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return result?.messages ?? [];
}
