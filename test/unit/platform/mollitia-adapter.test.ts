/**
 * Pins what src/platform/mollitia.adapter.ts relies on in mollitia 0.1.1 (see its module comment): the
 * breaker's arithmetic that makes it count consecutive failures, outcomes kept out of its books, the
 * private half-open trial counter, `Retry`'s `onRejection`, the step module, state names and events,
 * and the module-level arrays a disposed circuit must leave. A mollitia upgrade that changes any of
 * these fails here rather than in the providers.
 */
import { circuits as mollitiaCircuits, modules as mollitiaModules } from 'mollitia';
import { createBreakerCircuit, type BreakerCircuit } from '../../../src/platform/mollitia.adapter.js';

/** What one call of the test circuit does. */
type Outcome = 'ok' | 'fail' | 'neutral' | 'answer';

class Failure extends Error {}
class Neutral extends Error {}
class Answer extends Error {}

const HALF_OPEN_AFTER_MS = 50;
const opened: BreakerCircuit<Outcome>[] = [];

function circuit(options: { retries?: number; onRejection?: (error: unknown, index: number) => false | number; steps?: Outcome[] } = {}) {
  const calls: Outcome[] = [];
  const made = createBreakerCircuit<Outcome>({
    name: 'pinned',
    attempt: async (outcome) => {
      calls.push(outcome);
      if (outcome === 'fail') throw new Failure('down');
      if (outcome === 'neutral') throw new Neutral('aborted');
      if (outcome === 'answer') throw new Answer('400');
      return 'done';
    },
    retries: options.retries ?? 0,
    onRejection: options.onRejection ?? (() => false),
    beforeAttempt: async (outcome) => {
      options.steps?.push(outcome);
    },
    failureThreshold: 3,
    halfOpenAfterMs: HALF_OPEN_AFTER_MS,
    isFailure: (error) => error instanceof Failure,
    isVerdict: (error) => error instanceof Failure || error instanceof Answer,
  });
  opened.push(made);
  return { breaker: made, calls, run: (outcome: Outcome) => made.execute<string>(outcome).catch((error: unknown) => error) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  for (const made of opened.splice(0)) made.dispose();
});

describe('mollitia behind its adapter', () => {
  it('opens after exactly three consecutive failures: a success or an answer in between starts the count again', async () => {
    const { breaker, run } = circuit();
    for (const outcome of ['fail', 'fail', 'ok', 'fail', 'fail', 'answer', 'fail', 'fail'] as const) await run(outcome);
    expect(breaker.state()).toBe('CLOSED');
    await run('fail');
    expect(breaker.state()).toBe('OPEN');
    expect(breaker.isClosed()).toBe(false);
  });

  it('keeps neutral outcomes out of the count', async () => {
    const { breaker, run } = circuit();
    expect(await run('fail')).toBeInstanceOf(Failure);
    await run('fail');
    expect(await run('neutral')).toBeInstanceOf(Neutral);
    await run('neutral');
    expect(breaker.state()).toBe('CLOSED');
    await run('fail');
    expect(breaker.state()).toBe('OPEN');
  });

  it('refuses calls while open, allows one trial after the delay, and a neutral trial gives its slot back', async () => {
    const { breaker, calls, run } = circuit();
    const states: string[] = [];
    breaker.onStateChange(() => states.push(breaker.state()));
    for (let i = 0; i < 3; i++) await run('fail');
    const refused = await run('ok');
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBe('done');
    expect(calls).toHaveLength(3);

    await sleep(HALF_OPEN_AFTER_MS * 3);
    expect(breaker.state()).toBe('HALF_OPEN');
    expect(await run('neutral')).toBeInstanceOf(Neutral);
    expect(breaker.state()).toBe('HALF_OPEN');
    // Without the slot given back (the private counter), this trial would be refused.
    expect(await run('ok')).toBe('done');
    expect(breaker.state()).toBe('CLOSED');
    expect(states).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
  });

  it('retries while onRejection returns a number, running the step before every attempt', async () => {
    const steps: Outcome[] = [];
    const indexes: number[] = [];
    const { calls, run } = circuit({
      retries: 2,
      steps,
      onRejection: (_error, index) => {
        indexes.push(index);
        return 0;
      },
    });
    expect(await run('answer')).toBeInstanceOf(Answer);
    expect(calls).toEqual(['answer', 'answer', 'answer']);
    expect(steps).toHaveLength(3);
    expect(indexes).toEqual([0, 1]);
  });

  it('stops retrying when onRejection returns false', async () => {
    const { calls, run } = circuit({ retries: 5, onRejection: () => false });
    await run('fail');
    expect(calls).toHaveLength(1);
  });

  it('registers every circuit and module in mollitia’s arrays, and dispose removes them', () => {
    const circuitsBefore = mollitiaCircuits.length;
    const modulesBefore = mollitiaModules.length;
    const made = createBreakerCircuit<Outcome>({
      name: 'leak',
      attempt: async () => 'done',
      retries: 1,
      onRejection: () => false,
      beforeAttempt: async () => undefined,
      failureThreshold: 2,
      halfOpenAfterMs: 1000,
      isFailure: () => true,
      isVerdict: () => true,
    });
    expect(mollitiaCircuits.length).toBe(circuitsBefore + 1);
    expect(mollitiaModules.length).toBe(modulesBefore + 3);
    made.dispose();
    expect(mollitiaCircuits.length).toBe(circuitsBefore);
    expect(mollitiaModules.length).toBe(modulesBefore);
  });
});
