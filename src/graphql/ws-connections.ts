/**
 * Bookkeeping of graphql-ws sockets in one API process: at most `maxPerUser` open sockets per user
 * (a further connection_init is refused with 4429), and a socket with no operation running that sends
 * nothing for `idleMs` is closed with 4408 (its client reconnects when it needs one again). Without
 * these, one token could hold any number of idle sockets, each with its buffers and keep-alive pings.
 */
import type { WebSocket } from 'ws';

/** Close code of a refused connection_init (too many sockets for this user). */
export const WS_TOO_MANY_CONNECTIONS = 4429;
/** Close code of an idle socket. */
export const WS_IDLE = 4408;

interface SocketState {
  userId: string | null;
  operations: number;
  timer: NodeJS.Timeout | null;
}

export class WsConnections {
  private readonly sockets = new Map<WebSocket, SocketState>();
  private readonly byUser = new Map<string, number>();

  /**
   * @param maxPerUser open sockets one user may hold in this process (0: no limit).
   * @param idleMs how long a socket with no running operation may stay silent (0: forever).
   */
  constructor(
    private readonly maxPerUser: number,
    private readonly idleMs: number,
  ) {}

  /** A socket opened: its idle clock starts. */
  opened(socket: WebSocket): void {
    this.sockets.set(socket, { userId: null, operations: 0, timer: null });
    this.touch(socket);
    socket.once('close', () => this.closed(socket));
  }

  /** The socket's user authenticated: false (and the socket closed with 4429) when they already hold `maxPerUser`. */
  admit(socket: WebSocket, userId: string): boolean {
    const state = this.sockets.get(socket);
    if (!state) return false;
    if (state.userId !== null) return true;
    const held = this.byUser.get(userId) ?? 0;
    if (this.maxPerUser > 0 && held >= this.maxPerUser) {
      socket.close(WS_TOO_MANY_CONNECTIONS, `At most ${this.maxPerUser} open connections per user.`);
      return false;
    }
    state.userId = userId;
    this.byUser.set(userId, held + 1);
    return true;
  }

  /** The client sent something: the idle clock restarts. */
  touch(socket: WebSocket): void {
    const state = this.sockets.get(socket);
    if (!state || this.idleMs <= 0) return;
    if (state.timer) clearTimeout(state.timer);
    state.timer = state.operations > 0 ? null : setTimeout(() => socket.close(WS_IDLE, 'Idle timeout.'), this.idleMs);
    state.timer?.unref();
  }

  /** An operation started on the socket: it is not idle while one runs. */
  operationStarted(socket: WebSocket): void {
    const state = this.sockets.get(socket);
    if (!state) return;
    state.operations += 1;
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
  }

  /** An operation ended: the idle clock restarts once none runs. */
  operationEnded(socket: WebSocket): void {
    const state = this.sockets.get(socket);
    if (!state) return;
    state.operations = Math.max(0, state.operations - 1);
    this.touch(socket);
  }

  /** Open sockets of `userId` in this process. */
  heldBy(userId: string): number {
    return this.byUser.get(userId) ?? 0;
  }

  private closed(socket: WebSocket): void {
    const state = this.sockets.get(socket);
    if (!state) return;
    if (state.timer) clearTimeout(state.timer);
    this.sockets.delete(socket);
    if (state.userId !== null) {
      const held = (this.byUser.get(state.userId) ?? 1) - 1;
      if (held <= 0) this.byUser.delete(state.userId);
      else this.byUser.set(state.userId, held);
    }
  }
}
