/**
 * Helpers for the queue-guarantee tests: a short test melody as a WAV upload, a pipeline runner that
 * holds chosen conversions until the test lets them go (so a worker can be kept busy without timing),
 * and polling helpers on the rows.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { encodeWav } from '../../src/audio/decode/wav.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import type { Orm } from '../../src/platform/database.js';
import { runInThread, type RunPipeline } from '../../src/worker/run-in-thread.js';
import { renderMelody, twinkle } from './signals.js';
import type { UploadFile } from './api-harness.js';
import { eventually } from './eventually.js';

/** A 4.7 s sung-like melody (twinkle at 0.3 s a beat), 22.05 kHz mono WAV. */
export function shortMelody(): UploadFile {
  const { samples, sampleRate } = renderMelody(twinkle(60, 0.3), { sampleRate: 22050, timbre: 'voice' });
  return { bytes: encodeWav([samples], sampleRate), name: 'melody.wav', type: 'audio/wav' };
}

export interface PipelineHold {
  /** The runner to give the worker (`WorkerOptions.processor.runPipeline`). */
  runPipeline: RunPipeline;
  /** Runs whose prompt contains `marker` wait (before the pipeline starts) until {@link PipelineHold.release}. */
  hold(marker: string): void;
  release(marker: string): void;
  /** Resolves once a run with `marker` in its prompt is being held. */
  held(marker: string): Promise<void>;
  /** Pipeline runs that finished, by prompt. */
  finished: Map<string, number>;
}

/** A pipeline runner over {@link runInThread} (the real pipeline in a thread) that can hold runs. */
export function createPipelineHold(): PipelineHold {
  const holds = new Map<string, { released: Promise<void>; release: () => void; heldNow: boolean; onHeld: (() => void)[] }>();
  const finished = new Map<string, number>();
  const entry = (marker: string) => {
    let found = holds.get(marker);
    if (!found) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      found = { released, release, heldNow: false, onHeld: [] };
      holds.set(marker, found);
    }
    return found;
  };
  return {
    async runPipeline(audio, request, pipelineOptions, options) {
      for (const [marker, hold] of holds) {
        if (!request.prompt.includes(marker)) continue;
        hold.heldNow = true;
        for (const notify of hold.onHeld.splice(0)) notify();
        await hold.released;
      }
      const outputs = await runInThread(audio, request, pipelineOptions, options);
      finished.set(request.prompt, (finished.get(request.prompt) ?? 0) + 1);
      return outputs;
    },
    hold: (marker) => void entry(marker),
    release: (marker) => entry(marker).release(),
    held: (marker) => {
      const hold = entry(marker);
      return hold.heldNow ? Promise.resolve() : new Promise((resolve) => hold.onHeld.push(resolve));
    },
    finished,
  };
}

/** The row now. */
export async function row(orm: Orm, id: string): Promise<Conversion> {
  return (orm.em.fork() as EntityManager).findOneOrFail(Conversion, { id });
}

/** Waits until the row has `status` (default COMPLETED). */
export async function waitForStatus(
  orm: Orm,
  id: string,
  status: ConversionStatus = ConversionStatus.COMPLETED,
  timeoutMs = 90_000,
): Promise<Conversion> {
  return eventually(`${id} is ${status}`, () => row(orm, id), { until: (last) => last.status === status, timeoutMs });
}

/**
 * Waits until every row of `ids` has `status` when they finish one after another (one worker slot):
 * the deadline is on progress, another row reaching `status` within `stepTimeoutMs` (default 90 s, one
 * real pipeline run on a busy machine), not on the whole batch, whose length is the machine's speed
 * times the batch. Returns the rows in the order of `ids`.
 */
export async function waitForEach(
  orm: Orm,
  ids: string[],
  status: ConversionStatus = ConversionStatus.COMPLETED,
  stepTimeoutMs = 90_000,
): Promise<Conversion[]> {
  const rows = () => (orm.em.fork() as EntityManager).find(Conversion, { id: { $in: ids } });
  const reached = (list: Conversion[]) => list.filter((row) => row.status === status).length;
  let done = 0;
  let last: Conversion[] = [];
  while (done < ids.length) {
    const before = done;
    last = await eventually(`another of ${ids.length} conversions is ${status} (${before} are)`, rows, {
      until: (found) => reached(found) > before,
      timeoutMs: stepTimeoutMs,
      intervalMs: 100,
    });
    done = reached(last);
  }
  return ids.map((id) => last.find((row) => row.id === id)!);
}
