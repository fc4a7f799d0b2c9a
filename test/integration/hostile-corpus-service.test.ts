/**
 * The bad-input corpus (test/support/hostile-inputs.ts, the same table as hostile-corpus.test.ts)
 * through the real API: the `convertMelody` mutation over real multipart HTTP, PostgreSQL, Redis
 * (Bee-Queue) and disk storage, plus the hostile GraphQL requests (oversized, deeply nested, batched,
 * non-UTF-8 bodies; the nesting bomb over graphql-ws too). Each rejected item gets its stable `userErrors[0].code` (or an HTTP 4xx with a
 * GraphQL error code) and leaves no row, job or file; after every item the server still answers
 * `/health/live` and a normal query. Items accepted by design are checked for clean stored text and
 * file name, a file only under STORAGE_DIR/conversions/<id>/, and are then cancelled and removed.
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { storageKeys } from '../../src/modules/conversion/conversion-job.js';
import {
  CONVERT_MUTATION,
  leftovers,
  postGraphQL,
  startApi,
  uploadConversion,
  type ApiEnv,
  type ConvertPayload,
  type GraphQLResponse,
  type Leftovers,
} from '../support/api-harness.js';
import { Cleanup, uniqueSuffix } from '../support/service-harness.js';
import { progressClient } from '../support/progress-client.js';
import { eventually } from '../support/eventually.js';
import { createServices } from '../../src/services.js';
import { startWorker } from '../../src/worker/worker.js';
import { GOOD_PROMPT, HOSTILE_AUDIO, HOSTILE_TEXT, melodyWav, type HostileVerdict } from '../support/hostile-inputs.js';

const cleanup = new Cleanup();
let api: ApiEnv;

/** Every audio item's bytes, made once before the API starts (see beforeAll). */
const corpusBytes = new Map<string, Uint8Array>();
const bytesOf = (item: { id: string }): Uint8Array => corpusBytes.get(item.id)!;

beforeAll(async () => {
  // The corpus is made before the API serves anything. Rendering a melody or 60 MB of tone is seconds
  // of synchronous work on a busy machine; done between two requests, it stalls this process (the
  // in-process API's event loop too) long enough for the server to drop the client's idle keep-alive
  // connection just as the client reuses it for the upload: ECONNRESET on a valid upload (issue 18,
  // seen 3 times in one loaded run; reproduced with a plain Node server and fetch after a 6.5 s stall).
  for (const item of HOSTILE_AUDIO) corpusBytes.set(item.id, await item.bytes());
  melodyWav();
  // The deepest path of the schema is 6 fields (history.edges.node.result.melody.key), so a depth
  // limit of 5 makes QUERY_TOO_DEEP reachable; every corpus operation is at most 4 deep.
  api = await startApi(cleanup, { GRAPHQL_MAX_DEPTH: '5' });
}, 180_000);
afterAll(() => cleanup.run());

/** What a rejected request must leave exactly as it was (users may gain the caller's row). */
const traces = (l: Leftovers) => ({ conversions: l.conversions, jobs: l.jobs, waiting: l.waiting, files: l.files });

/** The server is still up: the liveness probe and a normal query answer. */
async function expectAlive(): Promise<void> {
  const live = await fetch(`${api.url}/health/live`);
  expect(live.status).toBe(200);
  const token = api.token(`alive-${uniqueSuffix()}`);
  const { status, body } = await postGraphQL(api, '{ quota { daily { limit used } } }', {}, token);
  expect({ status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
}

const CANCEL = 'mutation($id: ID!) { cancelConversion(id: $id) { conversion { status } userErrors { code } } }';

/**
 * For an accepted item: the row and the file are where they belong, then the conversion is cancelled
 * (which removes its job and files) and the row deleted, so the next item starts from `before`.
 */
async function checkAcceptedAndClean(response: GraphQLResponse<ConvertPayload>, token: string, before: Leftovers): Promise<Conversion> {
  const payload = response.body.data!.convertMelody;
  const id = conversionUuidFromId(payload.conversion!.id)!;
  const row = await api.services.orm.em.fork().findOneOrFail(Conversion, id);
  expect(row.status).toBe(ConversionStatus.PENDING);
  // The upload is stored under the conversion id only, inside STORAGE_DIR.
  const during = await leftovers(api);
  expect(during.files).toEqual([...before.files, storageKeys.input(id)].sort());
  expect({ jobs: during.jobs, waiting: during.waiting }).toEqual({ jobs: before.jobs + 1, waiting: before.waiting + 1 });

  const cancel = await postGraphQL<{ cancelConversion: { conversion: { status: string }; userErrors: unknown[] } }>(
    api,
    CANCEL,
    { id: payload.conversion!.id },
    token,
  );
  expect(cancel.body.data!.cancelConversion).toEqual({ conversion: { status: 'CANCELLED' }, userErrors: [] });
  await api.services.orm.em.getConnection().execute('delete from "conversions" where "id" = ?', [id]);
  expect(traces(await leftovers(api))).toEqual(traces(before));
  return row;
}

function expectAnswer(response: GraphQLResponse<ConvertPayload>, expected: HostileVerdict, field: string | null): void {
  expect({ status: response.status, errors: response.body.errors }).toEqual({ status: 200, errors: undefined });
  const payload = response.body.data!.convertMelody;
  if (expected.accepted) {
    expect(payload.userErrors).toEqual([]);
    if (expected.warning) expect(payload.warnings.map((w) => w.code)).toContain(expected.warning);
  } else {
    expect(payload.conversion).toBeNull();
    expect(payload.userErrors[0]).toMatchObject({ code: expected.code, field });
  }
}

/** Socket errors by which a client learns that the server closed the connection while it was still sending. */
const CLOSED_EARLY = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * An upload over MAX_UPLOAD_BYTES: the server answers FILE_TOO_LARGE and closes the connection
 * without reading the rest (Connection: close). Whether the client reads that answer or meets the
 * closed socket first depends on timing (issue 18), so both are the contract, told apart from a
 * crash by the process still serving afterwards: the answer, when read, is FILE_TOO_LARGE; a closed
 * connection is a socket error (reset, broken pipe), never a timeout or a 5xx. Either way nothing is
 * left behind (waited for: the server may still be removing the partial file) and the caller's quota
 * is unchanged.
 */
async function expectOversizeRefused(token: string, before: Leftovers, bytes: Uint8Array, fileName: string): Promise<void> {
  const outcome = await uploadConversion(api, { token, file: { bytes, name: fileName } }).then(
    (response) => ({ answered: response }),
    (error: Error) => ({ closed: (error.cause as NodeJS.ErrnoException | undefined)?.code ?? error.message }),
  );
  if ('answered' in outcome) {
    expectAnswer(outcome.answered, { accepted: false, code: 'FILE_TOO_LARGE' }, 'audio');
  } else {
    expect(CLOSED_EARLY).toContain(outcome.closed);
  }
  const expected = traces(before);
  await eventually(
    `nothing is left behind (before: ${JSON.stringify(expected)})`,
    async () => JSON.stringify(traces(await leftovers(api))),
    {
      until: (now) => now === JSON.stringify(expected),
      timeoutMs: 60_000,
    },
  );
  const { body } = await postGraphQL<{ quota: { daily: { used: number } } }>(api, '{ quota { daily { used } } }', {}, token);
  expect(body.data?.quota.daily.used).toBe(0);
}

describe('the hostile audio corpus through the convertMelody mutation', () => {
  it.each(HOSTILE_AUDIO.map((item) => [item.id, item.what, item] as const))(
    '%s (%s) gets its stated answer and leaves nothing behind',
    async (_id, _what, item) => {
      const token = api.token(`hostile-${item.id}-${uniqueSuffix()}`);
      const before = await leftovers(api);
      if (!item.expected.accepted && item.expected.code === 'FILE_TOO_LARGE') {
        await expectOversizeRefused(token, before, bytesOf(item), item.fileName);
        await expectAlive();
        return;
      }
      const response = await uploadConversion(api, { token, file: { bytes: bytesOf(item), name: item.fileName } });
      expectAnswer(response, item.expected, 'audio');
      if (item.expected.accepted) {
        const row = await checkAcceptedAndClean(response, token, before);
        if (item.id === 'path-traversal-name') {
          expect(row.input.fileName).toBe('passwd.wav');
          // Nothing was written where the raw name points, relative to the storage directory or its input.
          for (const base of [api.storageDir, join(api.storageDir, 'conversions', row.id)]) {
            await expect(access(resolve(base, item.fileName))).rejects.toMatchObject({ code: 'ENOENT' });
          }
        }
      } else {
        expect(traces(await leftovers(api))).toEqual(traces(before));
      }
      await expectAlive();
    },
    180_000,
  );
});

describe('the hostile text corpus through the convertMelody mutation', () => {
  it.each(HOSTILE_TEXT.map((item) => [item.id, item.what, item] as const))(
    '%s (%s) gets its stated answer and leaves nothing behind',
    async (_id, _what, item) => {
      const token = api.token(`text-${item.id}-${uniqueSuffix()}`);
      const before = await leftovers(api);
      const response = await uploadConversion(api, { token, file: { bytes: melodyWav(), name: 'melody.wav' }, input: item.input });
      const field = Object.keys(item.input).find((key) => key === 'prompt' || key === 'lyrics') ?? null;
      expectAnswer(response, item.expected, field);
      if (item.expected.accepted) {
        const row = await checkAcceptedAndClean(response, token, before);
        expect({ prompt: row.prompt, lyrics: row.lyrics }).toEqual(item.clean);
        // eslint-disable-next-line no-control-regex -- the point is that none are stored
        for (const text of [row.prompt, row.lyrics ?? '']) expect(text).not.toMatch(/[<>\u0000-\u0009\u000b-\u001f\u007f]/);
      } else {
        expect(traces(await leftovers(api))).toEqual(traces(before));
      }
      await expectAlive();
    },
    60_000,
  );
});

/** A multipart body written byte by byte, so the `operations` field can carry bytes that are not UTF-8. */
function rawMultipart(operations: Buffer, file: { bytes: Uint8Array; name: string }): { body: Buffer; contentType: string } {
  const boundary = `----hostile${uniqueSuffix()}`;
  const part = (headers: string, content: Buffer | Uint8Array) =>
    Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(content), Buffer.from('\r\n')]);
  const body = Buffer.concat([
    part('Content-Disposition: form-data; name="operations"', operations),
    part('Content-Disposition: form-data; name="map"', Buffer.from(JSON.stringify({ 0: ['variables.input.audio'] }))),
    part(`Content-Disposition: form-data; name="0"; filename="${file.name}"\r\nContent-Type: audio/wav`, file.bytes),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

async function send(body: Buffer | string, contentType: string, token: string): Promise<GraphQLResponse<ConvertPayload>> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'apollo-require-preflight': 'true', authorization: `Bearer ${token}` },
    body,
  });
  const text = await response.text();
  let parsed: GraphQLResponse<ConvertPayload>['body'];
  try {
    parsed = JSON.parse(text) as GraphQLResponse<ConvertPayload>['body'];
  } catch {
    parsed = { errors: [{ message: `non-JSON response: ${text.slice(0, 200)}` }] };
  }
  return { status: response.status, body: parsed };
}

/** `{"query": …, "variables": {"input": {…, "prompt": "…<bytes>…"}}}` with `bytes` spliced in raw. */
function operationsWithRawPrompt(bytes: number[]): Buffer {
  const marker = 'RAW_BYTES_HERE';
  const json = JSON.stringify({
    query: CONVERT_MUTATION,
    variables: { input: { prompt: `a song about the sea ${marker} at night`, genre: 'ballad', mood: 'calm', audio: null } },
  });
  const [head, tail] = json.split(marker);
  return Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]);
}

/** `{ a { a { … b } } }`, `levels` selection sets deep (the schema has no cycle, so the fields are unknown). */
function nestedBraces(levels: number): string {
  return `{ ${'a { '.repeat(levels)}b${' }'.repeat(levels)} }`;
}

describe('hostile requests', () => {
  type Case = { id: string; what: string; send: (token: string) => Promise<GraphQLResponse<ConvertPayload>>; status: number; code: string };
  const cases: Case[] = [
    {
      id: 'non-utf8-multipart',
      what: 'a multipart convertMelody whose operations field carries the bytes 0xC3 0x28 and 0xFF in the prompt',
      send: (token) => {
        const { body, contentType } = rawMultipart(operationsWithRawPrompt([0xc3, 0x28, 0xff]), { bytes: melodyWav(), name: 'melody.wav' });
        return send(body, contentType, token);
      },
      status: 200,
      code: 'INVALID_TEXT_ENCODING',
    },
    {
      id: 'non-utf8-json',
      what: 'a JSON convertMelody body with the bytes 0xC3 0x28 and 0xFF in the prompt',
      send: (token) => send(operationsWithRawPrompt([0xc3, 0x28, 0xff]), 'application/json', token),
      status: 400,
      code: 'INVALID_TEXT_ENCODING',
    },
    {
      id: 'oversized-document',
      what: 'a 17 kB document (limit 16 kB)',
      send: (token) => send(JSON.stringify({ query: `{ __typename }\n# ${'x'.repeat(17 * 1024)}` }), 'application/json', token),
      status: 413,
      code: 'QUERY_TOO_LARGE',
    },
    {
      id: 'oversized-multipart-document',
      what: 'a convertMelody upload whose operations document is 17 kB',
      send: (token) => {
        const operations = Buffer.from(
          JSON.stringify({
            query: `${CONVERT_MUTATION}\n# ${'x'.repeat(17 * 1024)}`,
            variables: { input: { prompt: GOOD_PROMPT, genre: 'pop', mood: 'calm', audio: null } },
          }),
        );
        const { body, contentType } = rawMultipart(operations, { bytes: melodyWav(), name: 'melody.wav' });
        return send(body, contentType, token);
      },
      status: 413,
      code: 'QUERY_TOO_LARGE',
    },
    {
      id: 'deep-query',
      what: 'a query 6 fields deep (limit 5 here: no path of the schema reaches the default 10)',
      send: (token) =>
        send(
          JSON.stringify({ query: '{ history(first: 1) { edges { node { result { melody { key } } } } } }' }),
          'application/json',
          token,
        ),
      status: 400,
      code: 'QUERY_TOO_DEEP',
    },
    {
      id: 'brace-bomb',
      what: 'a document of 2,000 nested selection sets (within the size limit)',
      send: (token) => send(JSON.stringify({ query: nestedBraces(2000) }), 'application/json', token),
      status: 400,
      code: 'QUERY_TOO_DEEP',
    },
    {
      id: 'deep-variables',
      what: 'variables nested 100,000 arrays deep',
      send: (token) =>
        send(
          `{"query":"query($n: Int) { history(first: $n) { edges { node { id } } } }","variables":{"n":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
          'application/json',
          token,
        ),
      status: 400,
      code: 'BAD_USER_INPUT',
    },
    {
      id: 'wrong-variable-type',
      what: 'a convertMelody JSON request whose audio variable is null (not an upload)',
      send: (token) =>
        send(
          JSON.stringify({
            query: CONVERT_MUTATION,
            variables: { input: { prompt: GOOD_PROMPT, genre: 'pop', mood: 'calm', audio: null } },
          }),
          'application/json',
          token,
        ),
      status: 400,
      code: 'BAD_USER_INPUT',
    },
    {
      id: 'deep-list-argument',
      what: 'a query argument of 3,000 nested lists (within the size limit)',
      send: (token) =>
        send(
          JSON.stringify({ query: `{ history(first: ${'['.repeat(3000)}1${']'.repeat(3000)}) { edges { node { id } } } }` }),
          'application/json',
          token,
        ),
      status: 400,
      code: 'QUERY_TOO_DEEP',
    },
    {
      id: 'batched-json',
      what: 'two operations in a JSON array',
      send: (token) => send(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]), 'application/json', token),
      status: 400,
      code: 'BATCHING_NOT_SUPPORTED',
    },
    {
      id: 'batched-multipart',
      what: 'two convertMelody operations in one multipart request, sharing one file',
      send: (token) => {
        const one = { query: CONVERT_MUTATION, variables: { input: { prompt: GOOD_PROMPT, genre: 'pop', mood: 'calm', audio: null } } };
        const operations = Buffer.from(JSON.stringify([one, one]));
        const boundary = `----hostile${uniqueSuffix()}`;
        const part = (headers: string, content: Buffer | Uint8Array) =>
          Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(content), Buffer.from('\r\n')]);
        const body = Buffer.concat([
          part('Content-Disposition: form-data; name="operations"', operations),
          part(
            'Content-Disposition: form-data; name="map"',
            Buffer.from(JSON.stringify({ 0: ['0.variables.input.audio', '1.variables.input.audio'] })),
          ),
          part('Content-Disposition: form-data; name="0"; filename="melody.wav"\r\nContent-Type: audio/wav', melodyWav()),
          Buffer.from(`--${boundary}--\r\n`),
        ]);
        return send(body, `multipart/form-data; boundary=${boundary}`, token);
      },
      status: 400,
      code: 'BATCHING_NOT_SUPPORTED',
    },
  ];

  it('refuses the brace bomb over graphql-ws too, before parsing, and the socket keeps serving', async () => {
    const client = progressClient(cleanup, api.url, api.token(`ws-${uniqueSuffix()}`));
    const errors = await new Promise<unknown>((resolve) =>
      client.subscribe(
        { query: `subscription ${nestedBraces(2000)}` },
        { next: () => undefined, error: resolve, complete: () => resolve('completed') },
      ),
    );
    expect(errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_DEEP', nesting: 2001 }) })]);
    const next = await new Promise<unknown>((resolve) => {
      let data: unknown;
      client.subscribe({ query: '{ __typename }' }, { next: (value) => (data = value), error: resolve, complete: () => resolve(data) });
    });
    expect(next).toEqual({ data: { __typename: 'Query' } });
    await expectAlive();
  });

  it.each(cases.map((c) => [c.id, c.what, c] as const))(
    '%s (%s) is refused with its stated code and leaves nothing behind',
    async (_id, _what, c) => {
      const token = api.token(`request-${c.id}-${uniqueSuffix()}`);
      const before = await leftovers(api);
      const response = await c.send(token);
      expect(response.status).toBe(c.status);
      const code =
        response.status === 200 ? response.body.data?.convertMelody.userErrors[0]?.code : response.body.errors?.[0]?.extensions?.code;
      expect({ code, body: code === c.code ? null : response.body }).toEqual({ code: c.code, body: null });
      expect(traces(await leftovers(api))).toEqual(traces(before));
      await expectAlive();
    },
    60_000,
  );
});

describe('accepted hostile input through a worker', () => {
  const own = new Cleanup();
  let env: ApiEnv;

  beforeAll(async () => {
    env = await startApi(own);
    const services = await createServices(env.config, { role: 'worker' });
    own.add(() => services.close());
    const worker = await startWorker(services, { stopTimeoutMs: 10_000 });
    own.add(() => worker.stop());
  });
  afterAll(() => own.run());

  it('converts a path-traversal file name with markup in prompt and lyrics, writing only under conversions/<id>/ with the clean name and text', async () => {
    const markup = HOSTILE_TEXT.find((item) => item.id === 'prompt-lyrics-control-markup')!;
    const traversal = HOSTILE_AUDIO.find((item) => item.id === 'path-traversal-name')!;
    const token = env.token(`worker-${uniqueSuffix()}`);
    const response = await uploadConversion(env, {
      token,
      file: { bytes: bytesOf(traversal), name: traversal.fileName },
      input: markup.input,
    });
    expect(response.body.data!.convertMelody.userErrors).toEqual([]);
    const id = conversionUuidFromId(response.body.data!.convertMelody.conversion!.id)!;

    // Wait on the row (the truth users see) until it has finished; no timing is asserted.
    const row = await eventually(`${id} has finished`, () => env.services.orm.em.fork().findOneOrFail(Conversion, id), {
      until: (last) => last.status === ConversionStatus.COMPLETED || last.status === ConversionStatus.FAILED,
      timeoutMs: 120_000,
    });
    expect(row.status).toBe(ConversionStatus.COMPLETED);
    expect({ prompt: row.prompt, lyrics: row.lyrics, fileName: row.input.fileName }).toEqual({ ...markup.clean, fileName: 'passwd.wav' });

    const files = (await leftovers(env)).files;
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect(file.startsWith(`${storageKeys.dir(id)}/`)).toBe(true);
    const report = JSON.parse(new TextDecoder().decode(await env.services.storage.read(row.result!.files.report))) as {
      input: { fileName: string };
      lyrics: { text: string };
    };
    expect(report.input.fileName).toBe('passwd.wav');
    expect(report.lyrics.text).not.toMatch(/[<>]/);
  }, 180_000);
});
