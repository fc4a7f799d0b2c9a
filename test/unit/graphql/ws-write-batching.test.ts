/**
 * ws-write-batching.ts against a real `ws` server and client on a loopback port: the messages one turn
 * of the event loop sends leave the TCP socket in one write, each transformed, in order; later turns
 * are not held back; and without the `net.Socket` it relies on, sends still go out, unbatched.
 */
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { batchWrites } from '../../../src/graphql/ws-write-batching.js';

interface Pair {
  server: WebSocketServer;
  serverSide: WebSocket;
  client: WebSocket;
  received: string[];
}

async function openPair(): Promise<Pair> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const serverSideP = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on('message', (data: Buffer) => received.push(data.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  return { server, serverSide: await serverSideP, client, received };
}

async function closePair(pair: Pair): Promise<void> {
  pair.client.terminate();
  pair.serverSide.terminate();
  await new Promise<void>((resolve) => pair.server.close(() => resolve()));
}

/** Counts the calls by which the writable side of `socket` hands data to the kernel. */
function countSocketWrites(socket: Socket): { calls: number } {
  const counter = { calls: 0 };
  const internals = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  for (const name of ['_write', '_writev'] as const) {
    const original = internals[name];
    internals[name] = function (this: unknown, ...args: unknown[]) {
      counter.calls += 1;
      return original.apply(this, args);
    };
  }
  return counter;
}

async function waitForMessages(pair: Pair, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (pair.received.length < count) {
    if (Date.now() > deadline) throw new Error(`received ${pair.received.length} of ${count} messages`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const rawSocketOf = (socket: WebSocket) => (socket as unknown as { _socket: Socket })._socket;

describe('batchWrites', () => {
  let pair: Pair;
  beforeEach(async () => {
    pair = await openPair();
  });
  afterEach(async () => {
    await closePair(pair);
  });

  it('sends the messages of one turn in one write, each transformed, in order', async () => {
    batchWrites(pair.serverSide, (data) => data.toUpperCase());
    const writes = countSocketWrites(rawSocketOf(pair.serverSide));

    for (let i = 0; i < 10; i++) pair.serverSide.send(`message ${i}`);
    await waitForMessages(pair, 10);

    expect(pair.received).toEqual(Array.from({ length: 10 }, (_, i) => `MESSAGE ${i}`));
    expect(writes.calls).toBe(1);
  });

  it('without it, the same ten sends take more than one write (what the test above guards)', async () => {
    const writes = countSocketWrites(rawSocketOf(pair.serverSide));

    for (let i = 0; i < 10; i++) pair.serverSide.send(`message ${i}`);
    await waitForMessages(pair, 10);

    expect(writes.calls).toBeGreaterThan(1);
  });

  it('holds nothing back past the turn: a later turn gets its own write', async () => {
    batchWrites(pair.serverSide, (data) => data);
    const writes = countSocketWrites(rawSocketOf(pair.serverSide));

    pair.serverSide.send('first');
    await waitForMessages(pair, 1);
    pair.serverSide.send('second');
    pair.serverSide.send('third');
    await waitForMessages(pair, 3);

    expect(pair.received).toEqual(['first', 'second', 'third']);
    expect(writes.calls).toBe(2);
  });

  it('leaves binary data untransformed', async () => {
    const transformed: string[] = [];
    batchWrites(pair.serverSide, (data) => {
      transformed.push(data);
      return data;
    });

    pair.serverSide.send(Buffer.from('bytes'));
    await waitForMessages(pair, 1);

    expect(transformed).toEqual([]);
    expect(pair.received).toEqual(['bytes']);
  });

  it('still sends, unbatched, when the socket has no net.Socket under it', async () => {
    const sent: unknown[] = [];
    const fake = { send: (data: unknown) => sent.push(data) } as unknown as WebSocket;
    batchWrites(fake, (data) => `<${data}>`);

    fake.send('a');
    fake.send('b');

    expect(sent).toEqual(['<a>', '<b>']);
  });
});
