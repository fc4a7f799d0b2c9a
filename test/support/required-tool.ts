/**
 * Tests that need a program from outside npm (promtool and prometheus from Debian's `prometheus`
 * package, kubectl for `kubectl kustomize`): where the program is missing they are skipped on a
 * developer's machine, and fail in CI (CI set), which must have installed it (.ci/apt-packages).
 */
import { spawnSync } from 'node:child_process';

/** True when `program` runs (`program --version` or `args` exits 0). */
export function hasProgram(program: string, args: string[] = ['--version']): boolean {
  const result = spawnSync(program, args, { stdio: 'ignore', timeout: 30_000 });
  return result.status === 0;
}

/**
 * `describe` when `program` is present; otherwise `describe.skip` outside CI, and in CI a describe
 * whose one test fails saying what is missing.
 */
export function describeWithProgram(program: string, title: string, body: () => void, args?: string[]): void {
  if (hasProgram(program, args)) {
    describe(title, body);
  } else if (process.env.CI) {
    describe(title, () => {
      it(`has ${program} installed (CI must install it)`, () => {
        throw new Error(`${program} is not installed: CI installs it from .ci/apt-packages (or the machine image).`);
      });
    });
  } else {
    describe.skip(`${title} (${program} not installed)`, body);
  }
}
