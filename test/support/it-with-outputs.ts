/**
 * `it` for tests that run service processes: a failure's message gets the last lines each process
 * printed, so a red CI run shows what the API or worker said without re-running.
 */
import type { ServiceProcess } from './service-processes.js';

/** The last `lines` lines each process printed, headed by its name. */
export function lastOutputs(processes: (ServiceProcess | null | undefined)[], lines: number): string {
  return processes
    .filter((p): p is ServiceProcess => p !== undefined && p !== null)
    .map((p) => `--- ${p.name} (last ${lines} lines) ---\n${p.output().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}

/** `it(name, body, timeoutMs)`, appending {@link lastOutputs} of `processes()` (read at failure time) to a failure's message. */
export function itWithOutputs(
  name: string,
  processes: () => (ServiceProcess | null | undefined)[],
  body: () => Promise<void>,
  timeoutMs?: number,
  lines = 40,
): void {
  it(
    name,
    async () => {
      try {
        await body();
      } catch (error) {
        if (error instanceof Error) error.message += `\n\n${lastOutputs(processes(), lines)}`;
        throw error;
      }
    },
    timeoutMs,
  );
}
