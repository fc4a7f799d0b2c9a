import { eventually } from '../../support/eventually.js';

describe('eventually', () => {
  it('resolves with the first value that holds, probing again until then', async () => {
    let calls = 0;
    const value = await eventually('the third call', () => ++calls, { until: (n) => n >= 3, intervalMs: 1 });
    expect(value).toBe(3);
    expect(calls).toBe(3);
  });

  it('treats a throwing probe as "not yet"', async () => {
    let calls = 0;
    const value = await eventually(
      'the probe stops throwing',
      async () => {
        if (++calls < 3) throw new Error('not ready');
        return 'ready';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready');
  });

  it('fails after the deadline naming the condition and the last value seen', async () => {
    let calls = 0;
    await expect(
      eventually('the count reaches 100', () => ++calls, { until: (n) => n >= 100, timeoutMs: 30, intervalMs: 5 }),
    ).rejects.toThrow(/^Timed out after 30 ms waiting until the count reaches 100; last value \d+$/);
  });

  it('fails after the deadline with the last error the probe threw', async () => {
    await expect(
      eventually(
        () => 'the server answers',
        () => {
          throw new Error('ECONNREFUSED');
        },
        { timeoutMs: 20, intervalMs: 5 },
      ),
    ).rejects.toThrow('Timed out after 20 ms waiting until the server answers; last error Error: ECONNREFUSED');
  });

  it('by default waits for a truthy value', async () => {
    const values = [0, '', null, 'row'];
    expect(await eventually('a row exists', () => values.shift(), { intervalMs: 1 })).toBe('row');
  });
});
