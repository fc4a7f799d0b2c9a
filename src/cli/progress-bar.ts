/**
 * Progress display for `convert`: on a terminal, one bar per stage redrawn in place and closed with the
 * stage's time; elsewhere (pipes, CI logs) one plain line per stage.
 */
import type { ConversionStage, ProgressEvent } from '../audio/pipeline.js';

const LABELS: Record<ConversionStage, string> = {
  validation: 'Validation',
  pitch_extraction: 'Pitch extraction',
  lyrics: 'Lyrics',
  synthesis: 'Synthesis',
  quality_check: 'Quality checks',
  finalization: 'Finalisation',
};
const WIDTH = 24;

export interface ProgressDisplay {
  update(event: ProgressEvent): void;
  /** Closes the current line (after success or failure). */
  finish(): void;
}

export function createProgressDisplay(stream: NodeJS.WritableStream & { isTTY?: boolean }, now: () => number): ProgressDisplay {
  let stage: ConversionStage | null = null;
  let stageStart = 0;
  let lastLine = '';

  const line = (event: ProgressEvent): string => {
    const filled = Math.round((event.percent / 100) * WIDTH);
    const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
    return `${LABELS[event.stage].padEnd(17)} ${bar} ${String(event.percent).padStart(3)}%  ${event.message}`;
  };
  const close = (): void => {
    if (stage === null) return;
    const ms = Math.round(now() - stageStart);
    if (stream.isTTY) stream.write(`\r${lastLine.padEnd(90)} ${ms} ms\n`);
    else stream.write(`${LABELS[stage]} done in ${ms} ms\n`);
  };

  return {
    update(event) {
      if (event.stage !== stage) {
        close();
        stage = event.stage;
        stageStart = now();
      }
      lastLine = line(event);
      if (stream.isTTY) stream.write(`\r${lastLine.padEnd(90)}`);
    },
    finish() {
      close();
      stage = null;
    },
  };
}
