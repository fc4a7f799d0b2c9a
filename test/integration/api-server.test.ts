/**
 * The API server around the schema, over real HTTP and WebSocket connections: signed file links
 * (content types, single ranges, HEAD, expired and forged links, missing files), the graphql-ws
 * handshake (4403 for a bad or missing token), the liveness probe, the Sandbox landing page only in
 * development, and error answers that hide internals in production.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { GraphQLError } from 'graphql';
import { signedPath } from '../../src/platform/signed-url.js';
import { AppError } from '../../src/audio/errors.js';
import { formatClientError } from '../../src/graphql/client-errors.js';
import { BadUserInputError, NotFoundError, UnavailableError } from '../../src/platform/api-errors.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { presentConversion } from '../../src/modules/conversion/conversion.types.js';
import { startApi, type ApiEnv } from '../support/api-harness.js';
import { Cleanup, mintToken } from '../support/service-harness.js';

const cleanup = new Cleanup();
let api: ApiEnv;

beforeAll(async () => {
  api = await startApi(cleanup, { NODE_ENV: 'development', LOG_LEVEL: 'error' });
});

afterAll(() => cleanup.run());

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const response = await fetch(`${api.url}${path}`, { method, headers });
  return { status: response.status, headers: response.headers, body: new Uint8Array(await response.arrayBuffer()) };
}

describe('GET /files/* (signed links)', () => {
  const id = randomUUID();
  const key = `conversions/${id}/vocals.wav`;
  const data = bytes(1000);

  beforeAll(async () => {
    await api.services.storage.write(key, data);
  });

  it('serves the whole file with its content type, length and Accept-Ranges', async () => {
    const { status, headers, body } = await get(signedPath(api.config, key));
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('audio/wav');
    expect(headers.get('accept-ranges')).toBe('bytes');
    expect(headers.get('content-length')).toBe('1000');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(body).toEqual(data);
  });

  it('answers a single range with 206 and exactly those bytes', async () => {
    const path = signedPath(api.config, key);
    const middle = await get(path, { range: 'bytes=100-199' });
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe('bytes 100-199/1000');
    expect(middle.headers.get('content-length')).toBe('100');
    expect(middle.body).toEqual(data.subarray(100, 200));
    const open = await get(path, { range: 'bytes=990-' });
    expect(open.body).toEqual(data.subarray(990));
    const suffix = await get(path, { range: 'bytes=-10' });
    expect(suffix.headers.get('content-range')).toBe('bytes 990-999/1000');
    expect(suffix.body).toEqual(data.subarray(990));
    const clipped = await get(path, { range: 'bytes=900-5000' });
    expect(clipped.headers.get('content-range')).toBe('bytes 900-999/1000');
  });

  it('answers a range past the end with 416 and the size, and ignores several ranges (whole file, 200)', async () => {
    const path = signedPath(api.config, key);
    const past = await get(path, { range: 'bytes=1000-1010' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */1000');
    const several = await get(path, { range: 'bytes=0-1,5-6' });
    expect(several.status).toBe(200);
    expect(several.body).toEqual(data);
  });

  it('answers HEAD with the headers and no body', async () => {
    const { status, headers, body } = await get(signedPath(api.config, key), {}, 'HEAD');
    expect(status).toBe(200);
    expect(headers.get('content-length')).toBe('1000');
    expect(body.length).toBe(0);
  });

  it.each([
    ['vocals.mp3', 'audio/mpeg'],
    ['vocals.opus', 'audio/ogg'],
    ['vocals.ogg', 'audio/ogg'],
    ['score.mid', 'audio/midi'],
    ['score.musicxml', 'application/vnd.recordare.musicxml+xml'],
    ['report.json', 'application/json'],
    ['input', 'application/octet-stream'],
  ])('serves %s as %s', async (name, type) => {
    const other = `conversions/${id}/${name}`;
    await api.services.storage.write(other, bytes(10));
    const { status, headers } = await get(signedPath(api.config, other));
    expect(status).toBe(200);
    // Express adds `; charset=utf-8` to JSON, which is right for it.
    expect(headers.get('content-type')?.split(';')[0]).toBe(type);
  });

  it('refuses expired, forged, re-pointed and unsigned links with 403', async () => {
    const expired = signedPath(api.config, key, Date.now() - 2 * api.config.signedUrlTtlSeconds * 1000);
    expect((await get(expired)).status).toBe(403);
    const good = signedPath(api.config, key);
    const forged = good.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`);
    expect((await get(forged)).status).toBe(403);
    const repointed = good.replace('vocals.wav', 'input');
    expect((await get(repointed)).status).toBe(403);
    expect((await get(`/files/${key}`)).status).toBe(403);
    const traversal = signedPath(api.config, key).replace(`/files/${key}`, `/files/conversions/${id}/..%2F..%2Fetc%2Fpasswd`);
    expect((await get(traversal)).status).toBe(403);
  });

  it('answers a validly signed link to a file that is gone with 404', async () => {
    expect((await get(signedPath(api.config, `conversions/${id}/gone.wav`))).status).toBe(404);
  });

  it('serves the result links a COMPLETED conversion presents', async () => {
    const files = {
      vocalsWav: key,
      vocalsCompressed: `conversions/${id}/vocals.mp3`,
      midi: `conversions/${id}/score.mid`,
      musicXml: `conversions/${id}/score.musicxml`,
      report: `conversions/${id}/report.json`,
    };
    const row = api.services.orm.em.fork().create(Conversion, {
      id,
      user: 'zoe',
      status: ConversionStatus.COMPLETED,
      prompt: 'a song about the sea at night',
      genre: 'pop',
      mood: 'calm',
      voice: 'high',
      inputKey: `conversions/${id}/input`,
      input: {
        fileName: 'x.wav',
        format: 'wav',
        codec: 'pcm_s16le',
        durationSeconds: 4,
        sampleRate: 44100,
        channels: 1,
        sizeBytes: 1000,
        bitrate: null,
      },
      result: {
        files,
        compressedFormat: 'mp3',
        lyrics: 'la la',
        melody: { noteCount: 2, phraseCount: 1, key: null, tempoBpm: null, durationSeconds: 4 },
        lyricsInfo: { lineCount: 1, syllableCount: 2, genre: 'pop', mood: 'calm', qualityScore: 0.5, source: 'writer' },
      },
    });
    const now = Date.now();
    const presented = presentConversion(row, api.config, now);
    expect(presented.result!.urlsExpireAt.getTime()).toBe((Math.floor(now / 1000) + api.config.signedUrlTtlSeconds) * 1000);
    for (const url of [presented.result!.vocalsUrl, presented.result!.midiUrl, presented.result!.reportUrl]) {
      expect(url.startsWith(`${api.config.publicUrl}/files/`)).toBe(true);
      const { pathname, search } = new URL(url);
      expect((await get(`${pathname}${search}`)).status).toBe(200);
    }
  });
});

/** Opens a graphql-ws connection and sends `connection_init`; resolves with the first message or the close. */
function handshake(
  payload: Record<string, unknown> | undefined,
): Promise<{ message?: { type: string }; close?: { code: number; reason: string } }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${api.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', ...(payload ? { payload } : {}) })));
    socket.once('message', (data) => {
      socket.close(1000);
      resolve({ message: JSON.parse(String(data)) as { type: string } });
    });
    socket.once('close', (code, reason) => resolve({ close: { code, reason: reason.toString() } }));
  });
}

describe('graphql-ws on /graphql', () => {
  it('closes the socket with 4403 Forbidden for a bad token', async () => {
    expect(await handshake({ authorization: 'Bearer not.a.token' })).toEqual({ close: { code: 4403, reason: 'Forbidden' } });
  });

  it('closes the socket with 4403 for a token signed with another secret and for no token at all', async () => {
    expect((await handshake({ authorization: `Bearer ${mintToken('another-secret-0123456789abcdef0123', 'u1')}` })).close?.code).toBe(4403);
    expect((await handshake(undefined)).close?.code).toBe(4403);
  });

  it('acknowledges a valid token in `authorization` (Bearer) or `Authorization` (bare)', async () => {
    expect(await handshake({ authorization: `Bearer ${api.token('wsuser')}` })).toEqual({ message: { type: 'connection_ack' } });
    expect(await handshake({ Authorization: api.token('wsuser') })).toEqual({ message: { type: 'connection_ack' } });
  });
});

describe('the rest of the HTTP surface', () => {
  it('answers GET /health/live with 200', async () => {
    const response = await fetch(`${api.url}/health/live`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('shows Apollo Sandbox to a browser in development', async () => {
    const response = await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
  });

  it('echoes a well-formed X-Request-Id and makes one otherwise', async () => {
    const given = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-12345678' },
      body: '{"query":"{ __typename }"}',
    });
    expect(given.headers.get('x-request-id')).toBe('req-12345678');
    const made = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad id!' },
      body: '{"query":"{ __typename }"}',
    });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('errors in production', () => {
  const wrap = (original: Error) => new GraphQLError(original.message, { path: ['conversion'], originalError: original });

  it('hide the message, stack and path of unexpected errors', () => {
    const internal = new Error('connect ECONNREFUSED /var/run/postgresql/.s.PGSQL.5432');
    const formatted = formatClientError(
      {
        message: internal.message,
        path: ['conversion'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at /work/main/src/x.ts:1'] },
      },
      wrap(internal),
      true,
    );
    expect(formatted).toEqual({ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('keep the code and message of client errors but drop any stack trace', () => {
    const formatted = formatClientError(
      { message: 'A valid bearer token is required.', extensions: { code: 'UNAUTHENTICATED', stacktrace: ['at x'] } },
      new GraphQLError('A valid bearer token is required.'),
      true,
    );
    expect(formatted).toEqual({ message: 'A valid bearer token is required.', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('show AppErrors with their stable code, reason and retryable flag', () => {
    const original = new AppError('STORAGE_ERROR', 'Could not read from storage.', { reason: 'NOT_FOUND', retryable: false });
    const formatted = formatClientError(
      { message: original.message, path: ['conversion'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['x'] } },
      wrap(original),
      true,
    );
    expect(formatted).toEqual({
      message: 'Could not read from storage.',
      path: ['conversion'],
      extensions: { code: 'STORAGE_ERROR', reason: 'NOT_FOUND', retryable: false },
    });
  });

  it.each([true, false])(
    'show API errors with their own code and nothing else (production: %s); not found is NOT_FOUND, not a validation error',
    (production) => {
      const cases: [Error, Record<string, unknown>][] = [
        [new NotFoundError('No conversion with this id.'), { code: 'NOT_FOUND' }],
        [new UnavailableError('The queue is down.'), { code: 'SERVICE_UNAVAILABLE', retryable: true }],
        [
          new BadUserInputError('"after" is not a cursor of this connection.', { reason: 'INVALID_CURSOR' }),
          { code: 'BAD_USER_INPUT', reason: 'INVALID_CURSOR' },
        ],
      ];
      for (const [original, extensions] of cases) {
        // graphql-js copies the original's extensions onto the GraphQLError it wraps it in; Apollo adds a stack trace outside production.
        const formatted = formatClientError(
          { message: original.message, path: ['conversion'], extensions: { ...extensions, stacktrace: ['x'] } },
          wrap(original),
          production,
        );
        expect(formatted).toEqual({ message: original.message, path: ['conversion'], extensions });
      }
    },
  );

  it('are answered without a landing page and without stack traces by a production server', async () => {
    const prod = new Cleanup();
    try {
      const production = await startApi(prod, { NODE_ENV: 'production' });
      const page = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/sandbox/i);
      const response = await fetch(`${production.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ nope }"}',
      });
      const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(body.errors[0].extensions.stacktrace).toBeUndefined();
    } finally {
      await prod.run();
    }
  });
});
