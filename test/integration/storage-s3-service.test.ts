/**
 * The service on `STORAGE_BACKEND=s3`, against a real S3-compatible server on loopback (s3rver,
 * test/support/object-store.ts) with real PostgreSQL, Redis and the real pipeline: one API and one
 * worker in this process. Proves: an upload streams into the bucket and the worker's outputs land
 * there; the signed links serve them (ranges too) through the files route; the result cache copies a
 * result inside the bucket; an object store that stops answering mid-job makes the attempt fail
 * retryably and the retry completes once it is back, with one set of outputs and no strays;
 * the reconciler's orphan sweep removes folders of conversions that do not exist and the outputs of
 * FAILED ones from the bucket.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { startWorker, type RunningWorker } from '../../src/worker/worker.js';
import { postGraphQL, startApi, uploadConversion, type ApiEnv } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { createPipelineHold, row, shortMelody, waitForStatus, type PipelineHold } from '../support/queue-harness.js';
import { Cleanup, mintToken } from '../support/service-harness.js';
import { insertConversion } from '../support/read-side-harness.js';
import type { TestObjectStore } from '../support/object-store.js';

const cleanup = new Cleanup();
let api: ApiEnv;
let store: TestObjectStore;
let worker: RunningWorker;
let hold: PipelineHold;
const melody = shortMelody();
const user = `user-${randomUUID()}`;

async function convert(prompt: string): Promise<string> {
  const response = await uploadConversion(api, { token: mintToken(api.config.jwtSecret, user), file: melody, input: { prompt, seed: 7 } });
  const payload = response.body.data?.convertMelody;
  if (!payload?.conversion) throw new Error(`convertMelody failed: ${JSON.stringify(response.body)}`);
  return conversionUuidFromId(payload.conversion.id)!;
}

/** The object keys under a conversion's folder, relative to it. */
async function keysOf(id: string): Promise<string[]> {
  const prefix = `conversions/${id}/`;
  return (await store.keys()).filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
}

const VOCALS_URL = `query One($id: ID!) { conversion(id: $id) { id status result { vocalsUrl } } }`;

beforeAll(async () => {
  api = await startApi(
    cleanup,
    {
      WORKER_CONCURRENCY: '1',
      JOB_START_LIMIT: '0',
      JOB_RETRIES: '3',
      JOB_BACKOFF_MS: '1000',
      RECONCILE_INTERVAL_MS: '3600000',
      // S3 keeps whole seconds: with no grace, anything written before the sweep counts as old.
      RECONCILE_GRACE_MS: '0',
      QUEUE_SWEEP_INTERVAL_MS: '3600000',
      DAILY_QUOTA: '100',
    },
    { storageBackend: 's3' },
  );
  store = api.objectStore!;
  expect(api.config.storageBackend).toBe('s3');
  hold = createPipelineHold();
  worker = await startWorker(api.services, { stopTimeoutMs: 10_000, processor: { runPipeline: hold.runPipeline } });
  cleanup.add(() => worker.stop());
}, 60_000);

afterAll(() => cleanup.run(), 60_000);

describe('the service on the s3 backend', () => {
  it('streams the upload into the bucket, stores the outputs there and serves them through signed links, ranges too', async () => {
    const id = await convert('a song kept in a bucket');
    const done = await waitForStatus(api.services.orm, id);
    const keys = await keysOf(id);
    const vocalsKey = done.result!.files.vocalsWav;
    expect(keys).toContain(vocalsKey.slice(`conversions/${id}/`.length));
    const stored = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: vocalsKey }));
    const bytes = await stored.Body!.transformToByteArray();
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('RIFF');

    const token = mintToken(api.config.jwtSecret, user);
    const query = await postGraphQL<{ conversion: { result: { vocalsUrl: string } } }>(api, VOCALS_URL, { id }, token);
    // The link names PUBLIC_URL; this in-process API listens on a port of its own.
    const link = new URL(query.body.data!.conversion.result.vocalsUrl);
    const url = `${api.url}${link.pathname}${link.search}`;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    // Buffer.equals: jest's toEqual on a megabyte array takes seconds under load, long enough for the
    // server to close the idle keep-alive socket the next fetch would reuse.
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(url, { headers: { range: 'bytes=100-1099' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1099/${bytes.byteLength}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 1100))).toBe(true);
    expect((await fetch(`${url.replace(/sig=[0-9a-f]+/, `sig=${'0'.repeat(64)}`)}`)).status).toBe(403);

    // The same bytes and options again: the result cache copies the first result inside the bucket.
    const again = await convert('a song kept in a bucket');
    const copy = await waitForStatus(api.services.orm, again);
    expect(hold.finished.get('a song kept in a bucket')).toBe(1);
    const copied = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: copy.result!.files.vocalsWav }));
    expect(Buffer.from(await copied.Body!.transformToByteArray()).equals(bytes)).toBe(true);
  }, 180_000);

  it('retries a job whose object store stopped answering mid-job and completes it once the store is back, with one set of outputs', async () => {
    hold.hold('store goes away');
    const id = await convert('store goes away mid-job');
    await hold.held('store goes away');
    await store.stop();
    hold.release('store goes away');
    // The attempt cannot write its outputs: a retryable STORAGE_ERROR, so the job is retried.
    await eventually('the first attempt failed and a retry is due', () => row(api.services.orm, id), {
      until: (last) => last.retryCount >= 1,
      timeoutMs: 90_000,
    });
    await store.start();
    const done = await waitForStatus(api.services.orm, id);
    expect(done.status).toBe(ConversionStatus.COMPLETED);
    const keys = await keysOf(id);
    // Only the attempt that completed left files: one attempt folder, with the five outputs.
    const folders = new Set(keys.filter((key) => key.includes('/')).map((key) => key.split('/')[0]));
    expect(folders.size).toBe(1);
    expect(keys.filter((key) => key.includes('/'))).toHaveLength(5);
    expect(keys.every((key) => key.includes('/'))).toBe(true);
  }, 240_000);

  it('sweeps the folders of conversions that do not exist and the outputs of FAILED ones out of the bucket', async () => {
    const orphan = randomUUID();
    await api.services.storage.write(`conversions/${orphan}/input`, new Uint8Array([1, 2, 3]));
    await api.services.storage.write(`conversions/${orphan}/attempt-1/vocals.wav`, new Uint8Array([1]));
    const failed = await insertConversion(api.services.orm.em.fork() as EntityManager, {
      userId: randomUUID(),
      status: ConversionStatus.FAILED,
    });
    for (const key of ['input', 'attempt-1/vocals.wav', 'report.json']) {
      await api.services.storage.write(`conversions/${failed.id}/${key}`, new Uint8Array([1]));
    }
    await worker.reconcileNow();
    expect(await keysOf(orphan)).toEqual([]);
    expect(await keysOf(failed.id)).toEqual(['input']);
  }, 60_000);
});
