/**
 * A real HTTP server on a free loopback port that plays a remote provider: each request gets the
 * behaviour its handler picks (an answer, a delayed answer, a hang, a reset connection), and every
 * request is recorded with its body and whether the client closed the connection before an answer.
 * Closed (sockets destroyed) by the cleanup list.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { eventually } from '../../support/eventually.js';
import type { Cleanup } from '../../support/service-harness.js';

export interface RecordedRequest {
  /** 1, 2, … in arrival order. */
  n: number;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Set when the client closed the connection before the server answered. */
  closedByClient: boolean;
}

export type Behaviour =
  | { status: number; headers?: Record<string, string>; body?: string | Uint8Array; delayMs?: number }
  /** Never answers (the connection stays open until the client gives up). */
  | 'hang'
  /** Destroys the socket without an answer (the client sees a reset / closed connection). */
  | 'reset';

export type Handler = (request: RecordedRequest) => Behaviour;

export interface ScriptedServer {
  url: string;
  requests: RecordedRequest[];
  /** Replaces the handler (the next request on uses it). */
  setHandler(handler: Handler): void;
  /** Resolves when `predicate` holds (polled every 10 ms; rejects after `timeoutMs`). */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
}

/** JSON answer. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): Behaviour {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** Plays `behaviours` in order, then repeats the last one. */
export function sequence(...behaviours: Behaviour[]): Handler {
  return (request) => behaviours[Math.min(request.n, behaviours.length) - 1];
}

export async function startScriptedServer(cleanup: Cleanup, handler: Handler): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let current = handler;

  const respond = (record: RecordedRequest, res: ServerResponse) => {
    const behaviour = current(record);
    if (behaviour === 'hang') return;
    if (behaviour === 'reset') {
      res.socket?.destroy();
      return;
    }
    const send = () => {
      if (record.closedByClient) return;
      res.writeHead(behaviour.status, behaviour.headers ?? {});
      res.end(behaviour.body ?? '');
    };
    if (behaviour.delayMs) setTimeout(send, behaviour.delayMs);
    else send();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const record: RecordedRequest = {
      n: requests.length + 1,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.alloc(0),
      closedByClient: false,
    };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.closedByClient = true;
    });
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      record.body = Buffer.concat(chunks);
      respond(record, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    setHandler(next) {
      current = next;
    },
    async waitFor(predicate, timeoutMs = 10_000) {
      await eventually('the awaited condition holds', predicate, { timeoutMs, intervalMs: 10 });
    },
  };
}
