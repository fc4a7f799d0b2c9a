/**
 * Quotas against real PostgreSQL and Redis: the reservation is one atomic statement (50 concurrent
 * convertMelody calls over HTTP from a user with 3 left start exactly 3), the day and the month reset
 * at their boundaries in the configured time zone (an injected clock crosses them), and a unit comes
 * back when nothing was queued, when a PENDING conversion is cancelled, and when the worker fails for
 * a server-side reason, but not for bad input, and never twice.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { encodeWav } from '../../src/audio/decode/wav.js';
import { ConversionService } from '../../src/modules/conversion/conversion.service.js';
import { useConversionService } from '../../src/modules/conversion/conversion.resolver.js';
import { QuotaService } from '../../src/modules/quota/quota.service.js';
import { QuotaRepository } from '../../src/modules/quota/quota.repository.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { Cleanup } from '../support/service-harness.js';
import { postGraphQL, startApi, type ApiEnv, type GraphQLResponse } from '../support/api-harness.js';
import {
  enqueue,
  insertPendingConversion,
  loadConversion,
  recordProgress,
  startWorkerEnv,
  type WorkerEnv,
} from '../support/worker-harness.js';

/** `seconds` of a 440 Hz tone as a 16-bit WAV: a valid melody upload. */
function tone(seconds: number, sampleRate = 22050): Uint8Array {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < samples.length; i++) samples[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / sampleRate);
  return encodeWav([samples], sampleRate);
}

const WAV = tone(2);

interface QuotaWindow {
  used: number;
  limit: number;
  remaining: number;
  windowStart: string;
  resetsAt: string;
}
interface Payload {
  convertMelody: {
    conversion: { id: string; status: string } | null;
    userErrors: { code: string; field: string | null; message: string }[];
    quota: { daily: QuotaWindow; monthly: QuotaWindow };
  };
}

const CONVERT = `mutation Convert($input: ConvertMelodyInput!) {
  convertMelody(input: $input) {
    conversion { id status }
    userErrors { code field message }
    quota { daily { used limit remaining windowStart resetsAt } monthly { used limit remaining windowStart resetsAt } }
  }
}`;

async function convert(
  api: ApiEnv,
  token: string,
  file: Uint8Array | null = WAV,
  input: Record<string, unknown> = {},
): Promise<GraphQLResponse<Payload>> {
  const form = new FormData();
  const variables = {
    input: { prompt: 'a song about the sea at night, slow and calm', genre: 'ballad', mood: 'calm', ...input, audio: null },
  };
  form.append('operations', JSON.stringify({ query: CONVERT, variables }));
  form.append('map', JSON.stringify({ 0: ['variables.input.audio'] }));
  if (file) form.append('0', new Blob([file], { type: 'audio/wav' }), 'melody.wav');
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse<Payload>['body'] };
}

const QUOTA =
  '{ quota { enforced timeZone daily { used limit remaining windowStart resetsAt } monthly { used limit remaining windowStart resetsAt } } }';

async function quotaOf(api: ApiEnv, userId: string) {
  const { body } = await postGraphQL<{ quota: { enforced: boolean; timeZone: string; daily: QuotaWindow; monthly: QuotaWindow } }>(
    api,
    QUOTA,
    {},
    api.token(userId),
  );
  expect(body.errors).toBeUndefined();
  return body.data!.quota;
}

async function setUserQuota(api: ApiEnv, userId: string, daily: number | null, monthly: number | null): Promise<void> {
  const { body } = await postGraphQL(
    api,
    'mutation($u: String!, $d: Int, $m: Int) { setUserQuota(userId: $u, daily: $d, monthly: $m) { userId quota { daily { limit } monthly { limit } } } }',
    { u: userId, d: daily, m: monthly },
    api.token('root', Role.ADMIN),
  );
  expect(body.errors).toBeUndefined();
}

async function conversionCount(api: ApiEnv, userId: string): Promise<number> {
  const rows = await api.services.orm.em
    .getConnection()
    .execute<{ n: string }[]>('select count(*)::text as n from "conversions" where "user_id" = ?', [userId]);
  return Number(rows[0].n);
}

describe('convertMelody with quotas (HTTP, real services)', () => {
  const cleanup = new Cleanup();
  let api: ApiEnv;
  beforeAll(async () => {
    api = await startApi(cleanup);
  });
  afterAll(() => cleanup.run());

  it('starts exactly 3 of 50 concurrent conversions from a user with 3 left; the other 47 get QUOTA_EXCEEDED with the reset time', async () => {
    const user = 'racer';
    await setUserQuota(api, user, 3, 100);
    const token = api.token(user);
    const results = await Promise.all(Array.from({ length: 50 }, () => convert(api, token)));

    for (const result of results) expect(result.body.errors).toBeUndefined();
    const payloads = results.map((r) => r.body.data!.convertMelody);
    const started = payloads.filter((p) => p.conversion !== null);
    const refused = payloads.filter((p) => p.conversion === null);
    expect(started).toHaveLength(3);
    expect(refused).toHaveLength(47);
    for (const p of started) expect(p.userErrors).toEqual([]);
    const quota = await quotaOf(api, user);
    for (const p of refused) {
      expect(p.userErrors).toHaveLength(1);
      expect(p.userErrors[0].code).toBe('QUOTA_EXCEEDED');
      expect(p.userErrors[0].message).toContain(quota.daily.resetsAt);
      expect(p.quota.daily).toMatchObject({ used: 3, limit: 3, remaining: 0, resetsAt: quota.daily.resetsAt });
    }
    expect(await conversionCount(api, user)).toBe(3);
    expect(quota).toMatchObject({
      enforced: true,
      timeZone: 'UTC',
      daily: { used: 3, limit: 3, remaining: 0 },
      monthly: { used: 3, limit: 100, remaining: 97 },
    });
    const now = new Date();
    expect(quota.daily.resetsAt).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString());
    expect(quota.monthly.resetsAt).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
  });

  it('carries the quota after the call in every payload, and the defaults are 10 a day and 100 a month', async () => {
    const { body } = await convert(api, api.token('fresh'));
    expect(body.data!.convertMelody.conversion).not.toBeNull();
    expect(body.data!.convertMelody.quota.daily).toMatchObject({ used: 1, limit: 10, remaining: 9 });
    expect(body.data!.convertMelody.quota.monthly).toMatchObject({ used: 1, limit: 100, remaining: 99 });
  });

  it('gives the unit back when the upload is rejected (no conversion exists)', async () => {
    const user = 'bad-uploader';
    const silent = encodeWav([new Float32Array(44100 * 2)], 44100);
    const rejected = await convert(api, api.token(user), silent);
    expect(rejected.body.data!.convertMelody.userErrors.map((e) => e.code)).toEqual(['SILENT']);
    expect(rejected.body.data!.convertMelody.quota.daily.used).toBe(0);
    const noFile = await convert(api, api.token(user), null);
    expect(noFile.body.data!.convertMelody.userErrors.map((e) => e.code)).toEqual(['NO_FILE']);
    expect((await quotaOf(api, user)).daily.used).toBe(0);
    expect(await conversionCount(api, user)).toBe(0);
  });

  it('charges an idempotent retry only once', async () => {
    const user = 'retrier';
    const first = await convert(api, api.token(user), WAV, { idempotencyKey: 'k-1' });
    const second = await convert(api, api.token(user), WAV, { idempotencyKey: 'k-1' });
    expect(second.body.data!.convertMelody.conversion!.id).toBe(first.body.data!.convertMelody.conversion!.id);
    expect(second.body.data!.convertMelody.quota.daily.used).toBe(1);
  });

  it('gives the unit back when a PENDING conversion is cancelled, once', async () => {
    const user = 'canceller';
    await setUserQuota(api, user, 1, 5);
    const first = await convert(api, api.token(user));
    const id = first.body.data!.convertMelody.conversion!.id;
    expect((await convert(api, api.token(user))).body.data!.convertMelody.userErrors[0].code).toBe('QUOTA_EXCEEDED');
    const cancel = await postGraphQL<{ cancelConversion: { conversion: { status: string } | null } }>(
      api,
      'mutation($id: ID!) { cancelConversion(id: $id) { conversion { status } } }',
      { id },
      api.token(user),
    );
    expect(cancel.body.errors).toBeUndefined();
    expect(cancel.body.data!.cancelConversion.conversion!.status).toBe('CANCELLED');
    expect((await quotaOf(api, user)).daily).toMatchObject({ used: 0, remaining: 1 });
    const uuid = (
      await api.services.orm.em.getConnection().execute<{ id: string }[]>('select "id" from "conversions" where "user_id" = ?', [user])
    )[0].id;
    expect(await new QuotaRepository(api.services.orm.em.fork() as EntityManager).refundConversion(uuid)).toBe(false);
    expect((await convert(api, api.token(user))).body.data!.convertMelody.conversion).not.toBeNull();
  });

  it('resets the day at midnight and the month on the first, judged by the injected clock', async () => {
    const user = 'night-owl';
    await setUserQuota(api, user, 2, 3);
    let now = new Date(Date.UTC(2026, 0, 30, 23, 59, 59, 999));
    useConversionService(api.services, new ConversionService(api.services, { clock: () => now }));
    try {
      const token = api.token(user);
      const ok = async () => expect((await convert(api, token)).body.data!.convertMelody.conversion).not.toBeNull();
      await ok();
      await ok();
      const dayFull = (await convert(api, token)).body.data!.convertMelody;
      expect(dayFull.userErrors[0].code).toBe('QUOTA_EXCEEDED');
      expect(dayFull.userErrors[0].message).toContain('2026-01-31T00:00:00.000Z');
      expect(dayFull.quota.daily).toMatchObject({
        used: 2,
        remaining: 0,
        windowStart: '2026-01-30T00:00:00.000Z',
        resetsAt: '2026-01-31T00:00:00.000Z',
      });

      now = new Date(Date.UTC(2026, 0, 31, 0, 0, 0, 0)); // next day, same month: 1 monthly unit left
      await ok();
      const monthFull = (await convert(api, token)).body.data!.convertMelody;
      expect(monthFull.userErrors[0].code).toBe('QUOTA_EXCEEDED');
      expect(monthFull.userErrors[0].message).toContain('2026-02-01T00:00:00.000Z');
      expect(monthFull.quota.daily).toMatchObject({ used: 1, remaining: 1 });
      expect(monthFull.quota.monthly).toMatchObject({
        used: 3,
        remaining: 0,
        windowStart: '2026-01-01T00:00:00.000Z',
        resetsAt: '2026-02-01T00:00:00.000Z',
      });

      now = new Date(Date.UTC(2026, 1, 1, 0, 0, 0, 0)); // a new month
      const fresh = (await convert(api, token)).body.data!.convertMelody;
      expect(fresh.conversion).not.toBeNull();
      expect(fresh.quota.daily).toMatchObject({ used: 1, remaining: 1 });
      expect(fresh.quota.monthly).toMatchObject({
        used: 1,
        remaining: 2,
        windowStart: '2026-02-01T00:00:00.000Z',
        resetsAt: '2026-03-01T00:00:00.000Z',
      });
    } finally {
      useConversionService(api.services, new ConversionService(api.services));
    }
  });

  it('counts days and months in QUOTA_TIME_ZONE', async () => {
    const em = api.services.orm.em.fork() as EntityManager;
    // 04:59:59 UTC on 1 March is still 28 February, 23:59:59 in New York (EST, UTC−5).
    let now = new Date(Date.UTC(2026, 2, 1, 4, 59, 59));
    const quota = new QuotaService(em, { dailyQuota: 1, monthlyQuota: 10, quotaTimeZone: 'America/New_York' }, () => now);
    expect((await quota.reserve('new-yorker')).ok).toBe(true);
    const view = await quota.view('new-yorker');
    expect(view.daily).toMatchObject({
      used: 1,
      remaining: 0,
      windowStart: new Date('2026-02-28T05:00:00Z'),
      resetsAt: new Date('2026-03-01T05:00:00Z'),
    });
    expect(view.monthly).toMatchObject({
      used: 1,
      windowStart: new Date('2026-02-01T05:00:00Z'),
      resetsAt: new Date('2026-03-01T05:00:00Z'),
    });
    expect((await quota.reserve('new-yorker')).ok).toBe(false);
    now = new Date(Date.UTC(2026, 2, 1, 5, 0, 0));
    expect((await quota.reserve('new-yorker')).ok).toBe(true);
    expect((await quota.view('new-yorker')).monthly).toMatchObject({ used: 1, windowStart: new Date('2026-03-01T05:00:00Z') });
  });

  it('lets an admin set limits of 0, which refuse every conversion', async () => {
    await setUserQuota(api, 'blocked', 0, null);
    const { body } = await convert(api, api.token('blocked'));
    expect(body.data!.convertMelody.userErrors[0].code).toBe('QUOTA_EXCEEDED');
    expect(body.data!.convertMelody.quota.daily).toMatchObject({ limit: 0, used: 0, remaining: 0 });
    expect(body.data!.convertMelody.quota.monthly.limit).toBe(100);
  });
});

describe('refunds by the worker', () => {
  const cleanup = new Cleanup();
  let env: WorkerEnv;
  /** A worker with the configured job timeout, for the outcomes that must not race a 0.3 s one. */
  let patientEnv: WorkerEnv;
  beforeAll(async () => {
    // 0.3 s: the pipeline needs several seconds for the fixture, so it fails with TIMEOUT_ERROR (server side).
    env = await startWorkerEnv(cleanup, { env: { JOB_RETRIES: '0' }, configOverrides: { jobTimeoutSeconds: 0.3 } });
    patientEnv = await startWorkerEnv(cleanup, { env: { JOB_RETRIES: '0' } });
  });
  afterAll(() => cleanup.run());

  async function chargedConversion(on: WorkerEnv, userId: string, audio?: Uint8Array) {
    const conversion = await insertPendingConversion(on, { userId, audio });
    const em = on.services.orm.em.fork() as EntityManager;
    const reservation = await new QuotaService(em, on.config).reserve(userId);
    if (!reservation.ok) throw new Error('no quota');
    await new QuotaRepository(em).attach(conversion.id, reservation.charge);
    return conversion;
  }

  const used = async (on: WorkerEnv, userId: string) =>
    (await new QuotaService(on.services.orm.em.fork() as EntityManager, on.config).view(userId)).daily.used;

  it('gives the unit back when the conversion fails for a server-side reason (TIMEOUT_ERROR)', async () => {
    const conversion = await chargedConversion(env, 'timed-out');
    expect(await used(env, 'timed-out')).toBe(1);
    const progress = await recordProgress(cleanup, env, conversion.id);
    await enqueue(env, conversion.id);
    expect(await progress.final(15_000)).toMatchObject({ status: 'FAILED', error: { code: 'TIMEOUT_ERROR' } });
    expect((await loadConversion(env, conversion.id)).status).toBe('FAILED');
    expect(await used(env, 'timed-out')).toBe(0);
  });

  it("keeps the unit when the conversion fails on the user's input (VALIDATION_ERROR)", async () => {
    // On the worker with the configured timeout: under the 0.3 s one, a busy machine may not finish
    // decoding and validating in time, and the outcome would be TIMEOUT_ERROR (seen under load).
    const conversion = await chargedConversion(patientEnv, 'bad-input', encodeWav([new Float32Array(22050 * 2)], 22050));
    const progress = await recordProgress(cleanup, patientEnv, conversion.id);
    await enqueue(patientEnv, conversion.id);
    expect(await progress.final(15_000)).toMatchObject({ status: 'FAILED', error: { code: 'VALIDATION_ERROR' } });
    expect(await used(patientEnv, 'bad-input')).toBe(1);
  });
});
