/**
 * `S3_DOWNLOADS=presigned`: the files route checks our signed link as always, then answers 302 to a
 * presigned S3 GET on the public endpoint that expires when the link does; the store (a real s3rver on
 * loopback) serves the bytes, ranges and our headers. Bad or expired links and gone files never get a
 * redirect. The presigned URL is signed for `S3_PUBLIC_ENDPOINT` (here `localhost`, while the service
 * itself talks to `127.0.0.1`), so a client that can only reach the public name can use it.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { filesRoute } from '../../src/graphql/files-route.js';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Services } from '../../src/platform/services.js';
import { signedPath } from '../../src/platform/signed-url.js';
import { S3Storage } from '../../src/platform/storage-s3.js';
import { eventually } from '../support/eventually.js';
import { startObjectStore, type TestObjectStore } from '../support/object-store.js';
import { Cleanup, randomSecret } from '../support/service-harness.js';

const cleanup = new Cleanup();
let store: TestObjectStore;
let config: Config;
let storage: S3Storage;
let base: string;
const KEY = 'conversions/presign-test/a1/vocals.wav';
const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));

beforeAll(async () => {
  store = await startObjectStore(cleanup);
  const publicEndpoint = store.endpoint.replace('127.0.0.1', 'localhost');
  config = loadConfig({
    ...store.env,
    S3_DOWNLOADS: 'presigned',
    S3_PUBLIC_ENDPOINT: publicEndpoint,
    URL_SIGNING_SECRET: randomSecret(),
    LOG_LEVEL: 'error',
  });
  storage = new S3Storage(config.s3!);
  cleanup.add(() => storage.close());
  await storage.write(KEY, bytes);
  const app = express();
  app.use('/files', filesRoute({ config, storage, logger: createLogger(config, 'api') } as unknown as Services));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  cleanup.add(() => new Promise((resolve) => server.close(resolve)));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(() => cleanup.run(), 60_000);

/** Our link's answer, not followed. */
const ask = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, redirect: 'manual' });

describe('presigned downloads (S3_DOWNLOADS=presigned)', () => {
  it('redirects a valid link to a presigned GET on the public endpoint that serves the file, ranges and our headers', async () => {
    const now = Date.now();
    const answer = await ask(signedPath(config, KEY, now, 600));
    expect(answer.status).toBe(302);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const location = new URL(answer.headers.get('location')!);
    expect(location.host).toBe(new URL(config.s3!.publicEndpoint!).host);
    expect(location.pathname).toBe(`/${store.bucket}/${KEY}`);
    expect(location.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    // It expires with our link (600 s from `now`; a second may have passed before the redirect).
    const expires = Number(location.searchParams.get('X-Amz-Expires'));
    expect(expires).toBeGreaterThanOrEqual(598);
    expect(expires).toBeLessThanOrEqual(600);

    const whole = await fetch(location);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/wav');
    expect(whole.headers.get('content-disposition')).toBe('inline; filename="vocals.wav"');
    expect(whole.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    const part = await fetch(location, { headers: { range: 'bytes=100-1099' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 1100))).toBe(true);

    // A client that follows redirects (a browser, curl -L) just gets the file.
    const followed = await fetch(`${base}${signedPath(config, KEY, now, 600)}`);
    expect(followed.status).toBe(200);
    expect(Buffer.from(await followed.arrayBuffer()).equals(bytes)).toBe(true);
    // HEAD is redirected the same way.
    expect((await ask(signedPath(config, KEY, now, 600), { method: 'HEAD' })).status).toBe(302);
  });

  it('gives no redirect for a forged, expired or malformed link, nor for a file that is gone', async () => {
    const good = signedPath(config, KEY, Date.now(), 600);
    const forged = await ask(good.replace(/sig=[0-9a-f]+/, `sig=${'0'.repeat(64)}`));
    expect(forged.status).toBe(403);
    expect(forged.headers.get('location')).toBeNull();
    const expired = await ask(signedPath(config, KEY, Date.now() - 3_600_000, 60));
    expect(expired.status).toBe(403);
    expect(await expired.json()).toEqual({ error: 'This link has expired.' });
    expect((await ask(`/files/${KEY}`)).status).toBe(403);
    const gone = await ask(signedPath(config, 'conversions/presign-test/a1/missing.wav', Date.now(), 600));
    expect(gone.status).toBe(404);
    expect(gone.headers.get('location')).toBeNull();
  });

  it('signs the presigned GET for the life the link has left, so it stops working when the link does', async () => {
    // A link with 2 s left: the redirect's URL is valid now and refused by the store once they end.
    const answer = await ask(signedPath(config, KEY, Date.now(), 2));
    expect(answer.status).toBe(302);
    const location = answer.headers.get('location')!;
    expect(Number(new URL(location).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(2);
    const first = await fetch(location);
    // Under heavy load the two seconds may already be over; what must never happen is a 200 after.
    if (first.status === 200) await first.arrayBuffer();
    else expect(first.status).toBe(403);
    await eventually('the store refuses the presigned URL after the link expired', () => fetch(location), {
      until: (reply) => reply.status === 403,
      timeoutMs: 20_000,
    });
  });
});
