/**
 * Graceful shutdown of the real processes (`node dist/src/main.js`, rebuilt first when stale):
 * - a worker sent SIGTERM in the middle of a conversion finishes it (row COMPLETED, outputs stored,
 *   the final event published, no job left waiting or active) and exits with 0: nothing is lost;
 * - an API sent SIGTERM finishes the request it is receiving, closes its WebSockets with 1001
 *   (going away), stops accepting connections and exits with 0;
 * - an API's decode helper process stops with it: on SIGTERM the API stops it before exiting, and an
 *   API killed outright (SIGKILL) leaves no helper behind either (the helper exits when its IPC
 *   channel closes).
 * (A worker whose running job outlasts the stop bound hands it back to the queue for another
 * worker: tested in-process in worker-failures.test.ts.)
 */
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createServices, type Services } from '../../src/services.js';
import { ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { ensureDistBuilt } from '../support/dist-build.global-setup.js';
import { childPids, processEnded, startApiProcess, startServiceProcess } from '../support/service-processes.js';
import { eventually } from '../support/eventually.js';
import { Cleanup, createTestResources, freePort, mintToken, type TestResources } from '../support/service-harness.js';
import {
  enqueue,
  insertPendingConversion,
  loadConversion,
  recordProgress,
  storedFiles,
  type WorkerEnv,
} from '../support/worker-harness.js';

const cleanup = new Cleanup();
let resources: TestResources;
let config: Config;
let services: Services;
/** What the worker harness helpers need (this process runs no worker: the spawned one does). */
let env: WorkerEnv;

beforeAll(async () => {
  ensureDistBuilt();
  resources = await createTestResources(cleanup, { storageLabel: 'mv-shutdown-' });
  config = loadConfig({ ...resources.env, LOG_LEVEL: 'error' });
  services = await createServices(config, { role: 'api' });
  cleanup.add(() => services.close());
  env = { config, services, worker: null as never, storageDir: resources.storageDir };
}, 180_000);

afterAll(() => cleanup.run());

it('a worker sent SIGTERM during a conversion finishes it, then exits 0', async () => {
  const worker = await startServiceProcess(cleanup, { name: 'worker-1', mode: 'worker', env: resources.env });
  const conversion = await insertPendingConversion(env);
  const progress = await recordProgress(cleanup, env, conversion.id);
  await enqueue(env, conversion.id);
  await progress.waitFor((event) => event.stage === 'PITCH_EXTRACTION', 60_000);

  const code = await worker.stop(60_000);
  expect([code, worker.output().includes('Worker stopped')]).toEqual([0, true]);
  const row = await loadConversion(env, conversion.id);
  expect(row.status).toBe(ConversionStatus.COMPLETED);
  expect(progress.events.at(-1)).toMatchObject({ status: 'COMPLETED', final: true });
  expect(await storedFiles(env, conversion.id)).toEqual(
    expect.arrayContaining(['vocals.wav', 'score.mid', 'score.musicxml', 'report.json']),
  );
  // Completed: the upload is deleted.
  expect(await storedFiles(env, conversion.id)).not.toContain('input');
  const counts = await services.queue.checkHealth();
  expect([counts.waiting, counts.active, counts.succeeded]).toEqual([0, 0, 1]);
}, 120_000);

it('an API sent SIGTERM finishes the request in flight, closes WebSockets with 1001 and exits 0', async () => {
  const port = await freePort();
  const api = await startServiceProcess(cleanup, { name: 'api-1', mode: 'api', env: { ...resources.env, PORT: String(port) } });
  const base = api.url!;

  // A WebSocket, acknowledged.
  const socket = new WebSocket(`${base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  cleanup.add(() => socket.terminate());
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () =>
      socket.send(
        JSON.stringify({
          type: 'connection_init',
          payload: { authorization: `Bearer ${mintToken(resources.jwtSecret, 'user-shutdown')}` },
        }),
      ),
    );
    socket.once('message', (data) =>
      (JSON.parse(String(data)) as { type: string }).type === 'connection_ack' ? resolve() : reject(new Error(String(data))),
    );
    socket.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

  // A request whose body is still arriving when the signal comes. It asks for `100 Continue`, which
  // Node's server sends as it hands the request to the app: from then on the request is in flight.
  const body = JSON.stringify({ query: 'query InFlight { __typename }' });
  const request = httpRequest(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' },
  });
  const continued = new Promise<void>((resolve) => request.once('continue', () => resolve()));
  const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.once('error', reject);
    });
  });
  request.write(body.slice(0, 10));
  await continued;

  const exited = api.stop(30_000);
  // The shutdown is under way once the WebSocket is closed (with 1001, going away); the request is still arriving.
  expect(await closed).toBe(1001);
  request.end(body.slice(10));
  const response = await answered;
  const answer = JSON.parse(response.text) as { data?: unknown; errors?: unknown };
  // extensions (the operation's cost) aside.
  expect([response.status, answer.data, answer.errors]).toEqual([200, { __typename: 'Query' }, undefined]);
  expect(await exited).toBe(0);
  await expect(fetch(`${base}/health/live`)).rejects.toThrow();
}, 120_000);

it('an API stops its decode helper process when it stops, and a killed API leaves no helper behind', async () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const api = await startApiProcess(cleanup, { name: `api-helper-${signal}`, env: resources.env });
    const [helper] = await eventually('the API has started its decode helper', () => childPids(api.pid), {
      until: (pids) => pids.length === 1,
    });
    expect(processEnded(helper)).toBe(false);
    if (signal === 'SIGTERM') {
      // Stopped and reaped by the API before it exits.
      expect([await api.stop(30_000), processEnded(helper)]).toEqual([0, true]);
    } else {
      api.child.kill('SIGKILL');
      await api.exited;
    }
    await eventually(`the decode helper ${helper} has exited after the API's ${signal}`, () => processEnded(helper), { timeoutMs: 10_000 });
  }
}, 120_000);
