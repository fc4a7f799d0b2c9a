/**
 * Jest global setup: compiles `src/worker/pipeline-thread.ts` and `src/platform/decode-helper-process.ts`
 * (a child process entry: the same holds for a forked `.ts`) and every module they import into
 * {@link THREAD_BUILD_DIR} (`node_modules/.cache/melody-vocals-thread`, same layout as `dist`) before
 * any test runs.
 *
 * Why: tests run the worker from TypeScript source, but a `worker_threads` Worker cannot load `.ts`
 * (Node 20 has no type stripping, and jest's transform does not reach inside a thread), so
 * `runInThread`, when it runs from source, loads the compiled thread from that directory. Rebuilding
 * it here means a test never runs a stale thread, and tests never write into `dist`, which other
 * processes (an e2e test's API and worker) may be running from.
 *
 * How: each file is transpiled on its own (`ts.transpileModule`, as ts-jest does with
 * isolatedModules), following relative imports from the entry. Type checking is `npm run
 * typecheck`'s job. A module whose output is newer than its source is not transpiled again (its
 * imports are still followed), so an unchanged tree costs about the half second it takes to load the
 * compiler; a cold build of the ~55 modules takes a few seconds (a checked `tsc` build ~20 s). Files
 * are replaced through a temp file and a rename, so a thread starting meanwhile never reads half a file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const THREAD_ENTRY = join(ROOT, 'src', 'worker', 'pipeline-thread.ts');
/** The API's decode helper process (src/platform/decode-helper.ts forks it), built into the same directory. */
const DECODE_HELPER_ENTRY = join(ROOT, 'src', 'platform', 'decode-helper-process.ts');
/** Must match the directory `src/worker/run-in-thread.ts` loads the thread from when run from source. */
export const THREAD_BUILD_DIR = join(ROOT, 'node_modules', '.cache', 'melody-vocals-thread');

function writeIfChanged(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) {
    // Same output: mark it fresh so the next run can skip transpiling its source.
    const now = new Date();
    utimesSync(path, now, now);
    return;
  }
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/** Transpiles `entry` and its relative imports into `outDir`; @returns the number of modules. */
export function buildThreadGraph(entry = THREAD_ENTRY, outDir = THREAD_BUILD_DIR, root = ROOT): number {
  const config = ts.readConfigFile(join(root, 'tsconfig.build.json'), ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  // transpileModule cannot see package.json, so under NodeNext it would emit CommonJS: ask for ESM
  // outright (what NodeNext emits for this `"type": "module"` package).
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    sourceMap: false,
    declaration: false,
    noEmit: false,
  };
  // Outputs made with other options (or another compiler) are not reused.
  const stamp = JSON.stringify({ typescript: ts.version, compilerOptions });
  const stampPath = join(outDir, 'build-options.json');
  const reuse = existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp;
  // Outside the package's own tree Node would not see `"type": "module"`: say it here too.
  writeIfChanged(join(outDir, 'package.json'), '{ "type": "module" }\n');
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    if (!reuse || !existsSync(target) || statSync(target).mtimeMs < statSync(file).mtimeMs) {
      writeIfChanged(target, ts.transpileModule(source, { compilerOptions, fileName: file, reportDiagnostics: false }).outputText);
    }
    for (const imported of ts.preProcessFile(source, true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue;
      if (!imported.fileName.endsWith('.js')) {
        // A data file (e.g. JSON) next to the sources: copied as it is.
        const data = resolve(dirname(file), imported.fileName);
        writeIfChanged(join(outDir, relative(root, data)), readFileSync(data, 'utf8'));
        continue;
      }
      const dependency = resolve(dirname(file), imported.fileName).replace(/\.js$/, '.ts');
      if (!existsSync(dependency)) throw new Error(`${relative(root, file)} imports ${imported.fileName}, which has no TypeScript source.`);
      pending.push(dependency);
    }
  }
  writeIfChanged(stampPath, stamp);
  return seen.size;
}

export default function globalSetup(): void {
  buildThreadGraph();
  buildThreadGraph(DECODE_HELPER_ENTRY);
}
