/**
 * A Redis server of the test's own, for Redis faults: the machine's `redis-server` on a free port,
 * nothing kept on disk (`--save "" --appendonly no`), so a restart comes back empty, as after losing
 * a cache-only Redis. The shared Redis other tests use is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { eventually } from './eventually.js';
import { freePort, type Cleanup } from './service-harness.js';

export interface PrivateRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Starts the server (again, empty) and resolves once it answers PING; a no-op while it runs. */
  start(): Promise<void>;
  /** Kills it with SIGKILL (no chance to save or to say goodbye to clients) and waits for its exit. */
  kill(): Promise<void>;
  running(): boolean;
}

/**
 * Starts a private Redis; the cleanup kills it (register it before the services that use it, so it
 * goes after them). A test that leaves it down should `start()` it before the cleanup runs, so
 * closing those services' clients never waits on a server that is gone.
 */
export async function startPrivateRedis(cleanup: Cleanup): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;

  const answers = () =>
    new Promise<boolean>((resolve) => {
      // A bare socket: no client of the test holds a connection to the server.
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end('PING\r\n');
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  const start = async (): Promise<void> => {
    if (child) return;
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually(`redis-server on port ${port} answers`, answers, { timeoutMs: 10_000 });
  };

  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await start();
  cleanup.add(() => kill());
  return { port, url: `redis://127.0.0.1:${port}`, start, kill, running: () => child !== null };
}
