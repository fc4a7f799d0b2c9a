/** Fair decode slots (src/modules/conversion/decode-slots.ts): a per-user share and turns between users. */
import { DecodeSlots } from '../../../src/modules/conversion/decode-slots.js';

/** Work that runs until released, recording when it started. */
function gatedWork(log: string[], name: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { release, work: async () => (log.push(name), await gate, name) };
}

describe('DecodeSlots', () => {
  it("gives another user's single upload a slot at once while one user has six waiting", async () => {
    const slots = new DecodeSlots(2, 1);
    const log: string[] = [];
    const abusive = Array.from({ length: 6 }, (_, index) => gatedWork(log, `a${index}`));
    const runs = abusive.map((item) => slots.run('a', item.work));
    const normal = gatedWork(log, 'b0');
    const normalRun = slots.run('b', normal.work);
    await new Promise(setImmediate);
    expect(log).toEqual(['a0', 'b0']);
    expect(slots.load).toEqual({ active: 2, waitingUsers: 1 });
    normal.release();
    await expect(normalRun).resolves.toBe('b0');
    // The free slot does not go to a second decode of user a while a0 still runs.
    await new Promise(setImmediate);
    expect(log).toEqual(['a0', 'b0']);
    for (const item of abusive) {
      item.release();
      await new Promise(setImmediate);
    }
    await expect(Promise.all(runs)).resolves.toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect(log).toEqual(['a0', 'b0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect(slots.load).toEqual({ active: 0, waitingUsers: 0 });
  });

  it('takes turns between waiting users, first come first served within a user, and frees a slot when work throws', async () => {
    const slots = new DecodeSlots(1, 1);
    const log: string[] = [];
    const items = ['a0', 'a1', 'b0', 'c0', 'b1'].map((name) => ({ name, ...gatedWork(log, name) }));
    const runs = items.map((item) => slots.run(item.name[0], item.work));
    const failing = slots
      .run('d', async () => {
        log.push('d0');
        throw new Error('refused');
      })
      .catch((error: Error) => error.message);
    for (const item of items) {
      await new Promise(setImmediate);
      item.release();
    }
    await Promise.all(runs);
    await expect(failing).resolves.toBe('refused');
    // Turn order: a, b, c, d, then a and b again.
    expect(log).toEqual(['a0', 'b0', 'c0', 'd0', 'a1', 'b1']);
    expect(slots.load).toEqual({ active: 0, waitingUsers: 0 });
  });
});
