import { Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/main.js';

/** A CliIo whose stdout and stderr are collected into strings. */
export function captureIo(isTTY = false): CliIo & { out: () => string; err: () => string } {
  const chunks = { out: [] as string[], err: [] as string[] };
  const sink = (into: string[]) =>
    Object.assign(
      new Writable({
        write(chunk, _encoding, done) {
          into.push(String(chunk));
          done();
        },
      }),
      { isTTY },
    );
  return { stdout: sink(chunks.out), stderr: sink(chunks.err), out: () => chunks.out.join(''), err: () => chunks.err.join('') };
}
