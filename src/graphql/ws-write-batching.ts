/**
 * One write per socket per fan-out instead of one per message: when an event reaches ten
 * subscriptions on one socket, graphql-ws sends ten `next` messages in the same turn of the event
 * loop, and `ws` writes each frame to the TCP socket at once (a `write` system call each). Corking
 * the socket at the first message of a turn and uncorking it once the turn's promise jobs have run
 * lets Node hand all of them to the kernel in one `writev`. Nothing is held back past the turn.
 *
 * Relies on `ws`'s `WebSocket#_socket` (the `net.Socket` under it, set once the upgrade is done);
 * without one (another adapter, a future `ws`), sends go out unbatched as before.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** Wraps `socket.send` so that the messages sent in one turn of the event loop leave in one write. */
export function batchWrites(socket: WebSocket, transform: (data: string) => string): void {
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  let corked: Socket | null = null;
  const flush = () => {
    corked?.uncork();
    corked = null;
  };
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    const raw = (socket as unknown as { _socket?: Socket | null })._socket;
    if (!corked && raw && typeof raw.cork === 'function' && !raw.destroyed) {
      raw.cork();
      corked = raw;
      // A tick queued while promise jobs run waits for all of them: the whole fan-out of an event.
      process.nextTick(flush);
    }
    send(typeof data === 'string' ? transform(data) : data, ...rest);
  }) as typeof socket.send;
}
