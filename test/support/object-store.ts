/**
 * A real S3-compatible server for tests: s3rver (npm) on 127.0.0.1, a free port and a temporary
 * directory of its own, with one bucket per test. It speaks the S3 REST API over HTTP with SigV4, so
 * the s3 backend talks to it exactly as to MinIO or AWS (docs/decisions.md says what it does not
 * cover: multipart abort, paged listings, conditional requests…).
 *
 * `stop()` closes the listening socket and every open connection (the store "goes away" mid-job);
 * `start()` brings it back on the same port with the same contents.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../../src/platform/config.js';
import { createS3Client } from '../../src/platform/storage-s3.js';
import type { Cleanup } from './service-harness.js';

/** s3rver accepts any credentials it is configured with; these are its defaults. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export interface TestObjectStore {
  endpoint: string;
  bucket: string;
  config: S3Config;
  /** STORAGE_BACKEND, S3_* and the AWS_* credentials, for `loadConfig` or a child process. */
  env: Record<string, string>;
  /** A client of the bucket (the credentials above), for checks from the test. */
  client: S3Client;
  /** Every object key in the bucket, sorted. */
  keys(): Promise<string[]>;
  /** The store stops answering: the listener closes and every open connection is cut. */
  stop(): Promise<void>;
  /** The store answers again, on the same port, with what it held. */
  start(): Promise<void>;
}

/**
 * Starts s3rver with a fresh bucket `mv-test-<random>`; the cleanup stops it and removes its files.
 * The AWS_* credentials are also put in this process's environment (the SDK's default chain reads
 * them; test processes only ever talk to this loopback server).
 */
export async function startObjectStore(cleanup: Cleanup): Promise<TestObjectStore> {
  const directory = await mkdtemp(join(tmpdir(), 'mv-s3-'));
  cleanup.add(() => rm(directory, { recursive: true, force: true }));
  let port = 0;
  let server: S3rver | null = null;
  const sockets = new Set<Socket>();
  const run = async () => {
    server = new S3rver({ address: '127.0.0.1', port, silent: true, directory });
    const address = await server.run();
    port = address.port;
    const http = (server as unknown as { httpServer: Server }).httpServer;
    http.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  };
  const stop = async () => {
    if (!server) return;
    const closing = server.close();
    for (const socket of sockets) socket.destroy();
    await closing;
    server = null;
  };
  await run();
  cleanup.add(stop);

  process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = SECRET_KEY;
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = `mv-test-${randomBytes(6).toString('hex')}`;
  const config: S3Config = { endpoint, region: 'us-east-1', bucket, forcePathStyle: true, downloads: 'proxy', publicEndpoint: endpoint };
  const client = createS3Client(config);
  cleanup.add(() => client.destroy());
  await client.send(new CreateBucketCommand({ Bucket: bucket }));

  return {
    endpoint,
    bucket,
    config,
    client,
    env: {
      STORAGE_BACKEND: 's3',
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_BUCKET: bucket,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    },
    async keys() {
      const reply = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (reply.Contents ?? []).map((object) => object.Key!).sort();
    },
    stop,
    start: run,
  };
}
