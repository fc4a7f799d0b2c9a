/**
 * The two ways an attempt puts its conversion back to PENDING (src/worker/attempt-endings.ts): the
 * worker shutting down hands the job back, a retryable failure with retries left waits for the retry.
 * Each resets the row and publishes one PENDING event saying why; the storage, the row and the
 * publisher are fakes that record what they were asked.
 */
import { AppError } from '../../../src/audio/errors.js';
import { createAttemptEndings } from '../../../src/worker/attempt-endings.js';
import { SHUTDOWN, type Attempt } from '../../../src/worker/conversion-attempt.js';
import { createProgressPublisher, type ProgressReporter } from '../../../src/worker/progress-reporter.js';
import type { ProgressPayload } from '../../../src/platform/pubsub.js';
import type { Conversion } from '../../../src/modules/conversion/conversion.entity.js';

function fakes(retries: number) {
  const published: { channel: string; payload: ProgressPayload }[] = [];
  const resets: unknown[][] = [];
  const deleted: string[] = [];
  const publisher = createProgressPublisher(
    { publish: async (channel, payload) => void published.push({ channel, payload: payload as ProgressPayload }) },
    'mv',
  );
  const storage = { deletePrefix: async (prefix: string) => void deleted.push(prefix) } as unknown as Parameters<
    typeof createAttemptEndings
  >[0]['storage'];
  const quiet = () => undefined;
  const attempt = {
    job: { id: 'c1', data: {}, options: { retries, backoff: { delay: 1500 } } },
    conversionId: 'c1',
    attemptId: 'a1',
    userId: 'u1',
    startedMs: 0,
    em: {},
    repository: {
      resetToPending: async (...args: unknown[]) => {
        resets.push(args);
        return 1;
      },
    },
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  } as unknown as Attempt;
  const endings = createAttemptEndings({ storage, publisher });
  return { published, resets, deleted, attempt, endings };
}

const conversion = { retryCount: 0 } as Conversion;
const progress = {} as ProgressReporter;

/** The PENDING event of conversion c1 (owner u1) with `message` and `error`, published at any time. */
function pendingEvent(message: string, error: ProgressPayload['error']): ProgressPayload {
  return {
    conversionId: 'c1',
    userId: 'u1',
    status: 'PENDING',
    stage: null,
    progress: 0,
    message,
    at: expect.any(String),
    final: false,
    error,
  };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a rejection');
}

test('a worker shutting down hands the job back: the row reset without a retry counted, one PENDING event without an error', async () => {
  const { published, resets, deleted, attempt, endings } = fakes(3);
  const signal = AbortSignal.abort(SHUTDOWN);

  const error = await rejection(endings.fail(attempt, conversion, new Error('aborted'), signal, progress));

  expect(error).toMatchObject({ code: 'ABORTED', retryable: true });
  expect(resets).toEqual([['c1', 'a1']]);
  expect(deleted).toEqual(['conversions/c1/a1']);
  expect(published).toHaveLength(1);
  expect(published[0].channel).toBe('mv:conversion-progress:c1');
  expect(published[0].payload).toEqual(pendingEvent('The worker stopped; the conversion will resume on another worker', null));
  expect(Number.isNaN(Date.parse(published[0].payload.at))).toBe(false);
});

test('a retryable failure with retries left counts a retry and publishes one PENDING event naming the error and the wait', async () => {
  const { published, resets, attempt, endings } = fakes(2);
  const failure = new AppError('STORAGE_ERROR', 'The disk is full.', { retryable: true });

  const error = await rejection(endings.fail(attempt, conversion, failure, new AbortController().signal, progress));

  expect(error).toBe(failure);
  const storedError = { code: 'STORAGE_ERROR', message: 'The disk is full.', retryable: true };
  expect(resets).toEqual([['c1', 'a1', { retryCount: 1, error: storedError }]]);
  expect(published).toHaveLength(1);
  expect(published[0].payload).toEqual(pendingEvent('Retrying in 1.5 s after STORAGE_ERROR: The disk is full.', storedError));
});
