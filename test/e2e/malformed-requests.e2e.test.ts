/**
 * Issue 10's holes 1 and 2 and its fuzz test, against a real API process (`node dist/src/main.js
 * api`, production mode): malformed multipart bodies (a bad part header after `operations`, a NUL
 * byte in a file name, a body cut before its closing boundary, every early end of a form), `map`
 * paths through inherited properties, and thousands of seeded malformed bodies. After each, the
 * process is alive, answers `/health/live` and still accepts a valid token; every answer is a clean
 * 4xx with a GraphQL error code (never a 500, never a dropped connection).
 */
import { connect } from 'node:net';
import { Cleanup, createTestResources, mintToken, uniqueSuffix, type TestResources } from '../support/service-harness.js';
import { startApiProcess, type ServiceProcess } from '../support/service-processes.js';
import { itWithOutputs } from '../support/it-with-outputs.js';
import {
  AWAIT_ACK,
  BOUNDARY,
  CONVERT_OPERATIONS,
  closing,
  field,
  filePart,
  malformedMultipart,
  malformedWsMessages,
  part,
  postMultipart,
  rawExchange,
  seededRandom,
  serves,
  stepSocket,
  uploadBody,
  wsExchange,
} from '../support/raw-requests.js';
import { eventually } from '../support/eventually.js';
import { initOrm } from '../../src/platform/database.js';
import { ENTITIES } from '../../src/modules/entities.js';
import { signToken } from '../../src/platform/auth.js';
import { Role } from '../../src/modules/user/user.entity.js';

const cleanup = new Cleanup();
let resources: TestResources;
let api: ServiceProcess;

beforeAll(async () => {
  resources = await createTestResources(cleanup, { storageLabel: 'mv-e2e-holes-' });
  api = await startApiProcess(cleanup, { name: 'api', env: { ...resources.env, NODE_ENV: 'production', LOG_LEVEL: 'warn' } });
}, 90_000);
afterAll(() => cleanup.run(), 60_000);

function e2e(name: string, body: () => Promise<void>, timeoutMs?: number): void {
  itWithOutputs(name, () => [api], body, timeoutMs);
}

/** The process survived: still running, live, and a valid token's query answers without errors. */
async function expectServing(): Promise<void> {
  expect(api.running()).toBe(true);
  expect(await serves(api.url!, resources.jwtSecret, `alive-${uniqueSuffix()}`)).toEqual({ live: 200, quota: 200, errors: null });
}

const ops = field('operations', CONVERT_OPERATIONS);
const map = field('map', JSON.stringify({ 0: ['variables.input.audio'] }));
const wav = new Uint8Array(64);

describe('malformed multipart bodies (hole 1)', () => {
  const cases: [string, Buffer, number][] = [
    [
      'a malformed part header after operations',
      Buffer.concat([ops, Buffer.from(`--${BOUNDARY}\r\nbad header\r\n\r\nx\r\n--${BOUNDARY}--`)]),
      400,
    ],
    [
      'a malformed part header after map',
      Buffer.concat([ops, map, Buffer.from(`--${BOUNDARY}\r\nbad header\r\n\r\nx\r\n--${BOUNDARY}--`)]),
      400,
    ],
    ['a NUL byte in the file name', Buffer.concat([ops, map, filePart('0', 'a\u0000b.wav', wav), closing()]), 400],
    ['a NUL byte in a field name', Buffer.concat([ops, part('Content-Disposition: form-data; name="m\u0000ap"', '{}'), closing()]), 400],
    ['a body cut after operations', ops, 400],
    ['a body cut inside the operations header', ops.subarray(0, 20), 400],
    ['a body cut inside the operations value', ops.subarray(0, 80), 400],
    ['a body cut after map', Buffer.concat([ops, map]), 400],
    ['a body cut inside the file header', Buffer.concat([ops, map, filePart('0', 'melody.wav', wav).subarray(0, 30)]), 400],
    ['an empty body', Buffer.alloc(0), 400],
    ['only the closing boundary', closing(), 400],
    ['a preamble and nothing else', Buffer.from('just some text\r\n'), 400],
    ['a part with no Content-Disposition', Buffer.concat([part('Content-Type: text/plain', 'x'), closing()]), 400],
    [
      'a header line of 20 kB',
      Buffer.concat([part(`Content-Disposition: form-data; name="operations"; x="${'a'.repeat(20_000)}"`, '{}'), closing()]),
      400,
    ],
    ['map before operations', Buffer.concat([map, ops, filePart('0', 'melody.wav', wav), closing()]), 400],
    ['a file before map', Buffer.concat([ops, filePart('0', 'melody.wav', wav), map, closing()]), 400],
    ['a third field', Buffer.concat([ops, map, field('extra', 'x'), closing()]), 400],
    [
      'two files for one upload slot',
      Buffer.concat([ops, field('map', JSON.stringify({ 0: ['variables.input.audio'], 1: ['variables.input.audio'] })), closing()]),
      400,
    ],
    [
      'three files (audio and melody are the most)',
      Buffer.concat([
        ops,
        field('map', JSON.stringify({ 0: ['variables.input.audio'], 1: ['variables.input.melody'], 2: ['variables.input.lyrics'] })),
        closing(),
      ]),
      413,
    ],
    ['operations that is not JSON', Buffer.concat([field('operations', '{'), map, closing()]), 400],
    ['a map that is not JSON', Buffer.concat([ops, field('map', '{'), closing()]), 400],
    ['a map entry that is not an array', Buffer.concat([ops, field('map', '{"0":"variables.input.audio"}'), closing()]), 400],
  ];

  it.each(cases.map(([what, body, status]) => [what, body, status] as const))(
    '%s is answered with a clean 4xx before any resolver runs, and the process keeps serving',
    async (_what, body, status) => {
      const answer = await postMultipart(api.url!, body);
      expect({ status: answer.status, code: answer.code }).toEqual({ status, code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST' });
      await expectServing();
    },
  );

  // Once a file part has begun, the resolver owns the upload: a cut inside it is its userError.
  it.each([
    ['a file cut before the closing boundary', Buffer.concat([ops, map, filePart('0', 'melody.wav', wav).subarray(0, 120)])],
    ['a complete file and no closing boundary', Buffer.concat([ops, map, filePart('0', 'melody.wav', wav)])],
  ])('%s is the userError UPLOAD_INTERRUPTED for its user, and the process keeps serving', async (_what, body) => {
    const answer = await postMultipart(api.url!, body, { token: mintToken(resources.jwtSecret, `cut-${uniqueSuffix()}`) });
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 200, code: 'UPLOAD_INTERRUPTED' });
    await expectServing();
  });

  it.each([
    ['without a boundary parameter', 'multipart/form-data'],
    ['with an empty boundary', 'multipart/form-data; boundary='],
    ['with a boundary of 200 characters', `multipart/form-data; boundary=${'b'.repeat(200)}`],
  ])('a Content-Type %s is answered with 400 and the process keeps serving', async (_what, contentType) => {
    const answer = await postMultipart(api.url!, Buffer.concat([ops, map, closing()]), { contentType });
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
    await expectServing();
  });

  e2e('a client that sends half an upload and vanishes (reset or half-close) leaves the process serving', async () => {
    const body = Buffer.concat([ops, map, filePart('0', 'melody.wav', new Uint8Array(50_000))]).subarray(0, 30_000);
    const head = (length: number) =>
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nApollo-Require-Preflight: true\r\nContent-Length: ${length}\r\n\r\n`;
    // Declares more bytes than it sends, then resets; then the same with a half-close.
    await rawExchange(api.url!, head(60_000), body, false);
    await rawExchange(api.url!, head(60_000), body, true);
    // Chunked, ending mid-form (inside the map field) with a valid terminating chunk.
    const chunked = `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nApollo-Require-Preflight: true\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const cut = Buffer.concat([ops, map]).subarray(0, ops.length + 30);
    const answer = await rawExchange(
      api.url!,
      chunked,
      Buffer.concat([Buffer.from(`${cut.length.toString(16)}\r\n`), cut, Buffer.from('\r\n0\r\n\r\n')]),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    await expectServing();
  });
});

describe('map paths through inherited properties (hole 2)', () => {
  const inherited = Object.getOwnPropertyNames(Object.prototype);
  const paths = inherited.flatMap((name) => [
    `variables.${name}`,
    `variables.${name}.call`,
    `variables.${name}.prototype`,
    `variables.input.${name}`,
    `variables.input.${name}.call`,
    `${name}.call`,
    `variables.input.prompt.${name}`,
  ]);

  e2e(
    `every inherited property of Object.prototype (${inherited.length} names, ${paths.length} paths) is refused with 400 and poisons nothing`,
    async () => {
      for (const path of paths) {
        const answer = await postMultipart(api.url!, uploadBody([path]));
        expect({ path, status: answer.status, code: answer.code }).toEqual({ path, status: 400, code: 'BAD_REQUEST' });
      }
      // `variables.toString.call` used to break every later JWT check; `variables.hasOwnProperty.call` killed the process.
      await expectServing();
    },
  );

  it.each([
    ['a path that is not under variables', 'query'],
    ['a path to a variable that is not null', 'variables.input.prompt'],
    ['a path through a string', 'variables.input.prompt.0'],
    ['a path past the end of an array', 'variables.list.5'],
    ['an empty segment', 'variables..audio'],
    ['a path to a missing variable', 'variables.input.other'],
  ])('%s is refused with 400', async (_what, path) => {
    const operations = JSON.stringify({
      ...(JSON.parse(CONVERT_OPERATIONS) as object),
      variables: { ...(JSON.parse(CONVERT_OPERATIONS) as { variables: object }).variables, list: [null] },
    });
    const answer = await postMultipart(api.url!, uploadBody([path], wav, operations));
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
    await expectServing();
  });
});

describe('a seeded fuzz of the multipart endpoint', () => {
  const SEED = 20_261_206;
  const CASES = 3000;

  e2e(
    `${CASES} malformed bodies (seed ${SEED}) each get a clean answer below 500, and the process keeps serving`,
    async () => {
      const random = seededRandom(SEED);
      const statuses = new Map<number, number>();
      for (let index = 0; index < CASES; index++) {
        const { body, contentType, what } = malformedMultipart(random);
        const answer = await postMultipart(api.url!, body, { contentType }).catch((error: Error) => {
          throw new Error(`case ${index} (${what}): ${error.message} (${String((error.cause as Error)?.message)})`);
        });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        // 200 only for a body that stayed valid by chance (the resolver then answers: no token, UNAUTHENTICATED).
        const clean =
          (answer.status >= 400 && answer.status < 500 && answer.code !== null) || (answer.status === 200 && answer.text.startsWith('{'));
        if (!clean) throw new Error(`case ${index} (${what}) got ${answer.status}: ${answer.text.slice(0, 300)}`);
        if (index % 500 === 499) await expectServing();
      }
      await expectServing();
      // The generator reaches both refusals and the resolver.
      expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400]));
    },
    240_000,
  );
});

describe('WebSocket messages (hole 7 and a seeded fuzz)', () => {
  /** Close codes a server that survived a bad message may use: protocol refusals, never an internal error or an abnormal end. */
  const CLEAN_CLOSES = new Set([1000, 1002, 1003, 1007, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429]);

  e2e('an unauthenticated connection_init of 2 MiB is refused with 1009 (message too big) and the process keeps serving', async () => {
    const big = JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    expect(await wsExchange(api.url!, [big])).toEqual({ closed: 1009, reason: expect.any(String) });
    await expectServing();
  });

  e2e('an authenticated subscribe with 2 MiB of variables is refused with 1009, not executed', async () => {
    const token = mintToken(resources.jwtSecret, `ws-big-${uniqueSuffix()}`);
    const init = JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    const subscribe = JSON.stringify({
      type: 'subscribe',
      id: '1',
      payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } },
    });
    expect(await wsExchange(api.url!, [init, AWAIT_ACK, subscribe])).toEqual({ closed: 1009, reason: expect.any(String) });
    // A message under the limit is still served on a new socket.
    expect(
      await wsExchange(api.url!, [
        init,
        AWAIT_ACK,
        JSON.stringify({ type: 'subscribe', id: '1', payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(1000) } } }),
      ]),
    ).toEqual({ pong: true });
    await expectServing();
  });

  const SEED = 61_206;
  const CASES = 2000;
  e2e(
    `${CASES} hostile graphql-ws conversations (seed ${SEED}) end cleanly (a protocol close code or a pong), and the process keeps serving`,
    async () => {
      const random = seededRandom(SEED);
      const token = mintToken(resources.jwtSecret, `ws-fuzz-${uniqueSuffix()}`);
      const codes = new Map<string, number>();
      for (let index = 0; index < CASES; index++) {
        const { messages, what } = malformedWsMessages(random, token);
        const outcome = await wsExchange(api.url!, messages);
        const key = 'pong' in outcome ? 'pong' : String(outcome.closed);
        codes.set(key, (codes.get(key) ?? 0) + 1);
        if ('closed' in outcome && !CLEAN_CLOSES.has(outcome.closed))
          throw new Error(`case ${index} (${what}) ended with ${outcome.closed} ${outcome.reason}`);
        if (index % 100 === 99) await expectServing();
      }
      await expectServing();
      expect([...codes.keys()]).toEqual(expect.arrayContaining(['pong', '4400']));
    },
    240_000,
  );
});

describe('history cursors (hole 9)', () => {
  e2e('a cursor naming 30 February is BAD_USER_INPUT, not a database error, and the process keeps serving', async () => {
    const after = Buffer.from(`v1|2026-02-30T00:00:00.000000Z|${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`, 'utf8').toString(
      'base64url',
    );
    const response = await fetch(`${api.url!}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${mintToken(resources.jwtSecret, `cursor-${uniqueSuffix()}`)}`,
      },
      body: JSON.stringify({
        query: 'query($after: String) { history(first: 2, after: $after) { edges { cursor } } }',
        variables: { after },
      }),
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await expectServing();
  });
});

describe('credentials on an open WebSocket (hole 4)', () => {
  async function graphql<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
    const response = await fetch(`${api.url!}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: T; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  e2e('a revoked admin API key stops working on its open socket: the next operation closes it with 4403, no key is minted', async () => {
    const admin = mintToken(resources.jwtSecret, `admin-${uniqueSuffix()}`, Role.ADMIN);
    const created = await graphql<{ createApiKey: { key: string; apiKey: { id: string } } }>(
      'mutation($u: String!) { createApiKey(name: "ws", userId: $u, role: ADMIN) { key apiKey { id } } }',
      { u: `keyholder-${uniqueSuffix()}` },
      admin,
    );
    const socket = await stepSocket(api.url!);
    cleanup.add(() => socket.close());
    await socket.init({ authorization: `Bearer ${created.createApiKey.key}` });
    expect(await socket.run('{ quota { daily { limit } } }')).toEqual({
      data: [expect.objectContaining({ quota: expect.any(Object) })],
      errors: [],
    });

    await graphql('mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: created.createApiKey.apiKey.id }, admin);
    expect(await socket.run('mutation { createApiKey(name: "undo", userId: "x", role: ADMIN) { key } }')).toEqual({ closed: 4403 });
    expect(await socket.closed()).toBe(4403);
    // Only the revoked key exists: the socket minted none.
    const orm = await initOrm(resources.databaseUrl, ENTITIES);
    try {
      const [{ count }] = await orm.em.getConnection().execute<{ count: string }[]>('select count(*)::text as count from "api_keys"');
      expect(count).toBe('1');
    } finally {
      await orm.close(true);
    }
    await expectServing();
  });

  e2e('a JWT that expires while its socket is open stops working there: the next operation closes it with 4403', async () => {
    const lifetimeSeconds = 2;
    const issuedAt = Math.floor(Date.now() / 1000);
    const token = signToken(resources.jwtSecret, `short-${uniqueSuffix()}`, Role.USER, lifetimeSeconds);
    const socket = await stepSocket(api.url!);
    cleanup.add(() => socket.close());
    await socket.init({ authorization: `Bearer ${token}` });
    expect(await socket.run('{ quota { daily { limit } } }')).toEqual({
      data: [expect.objectContaining({ quota: expect.any(Object) })],
      errors: [],
    });
    // Waits for the clock to pass the token's exp (a condition, not a timed assertion).
    await eventually('the token has expired', () => Math.floor(Date.now() / 1000) > issuedAt + lifetimeSeconds, { timeoutMs: 10_000 });
    expect(await socket.run('{ quota { daily { limit } } }')).toEqual({ closed: 4403 });
    await expectServing();
  });
});

describe('metric labels from client-chosen operation names (hole 3)', () => {
  e2e('500 anonymous operations with 500 names add no label value to /metrics: they are all "other"', async () => {
    const names = Array.from({ length: 500 }, (_, index) => `Op${index}_${uniqueSuffix()}`);
    for (const name of names) {
      const response = await fetch(`${api.url!}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `query ${name} { __typename }` }),
      });
      await response.arrayBuffer();
    }
    const metrics = await (await fetch(`${api.url!}/metrics`)).text();
    const labels = new Set([...metrics.matchAll(/operation="([^"]*)"/g)].map((match) => match[1]));
    for (const name of names) expect(labels.has(name)).toBe(false);
    expect(labels.has('other')).toBe(true);
    await expectServing();
  });
});

describe('cost follows database work (hole 5)', () => {
  e2e(
    '330 aliases of history(first: 0) { totalCount } are refused before any query runs, and first: null costs the default page',
    async () => {
      const token = mintToken(resources.jwtSecret, `cost-${uniqueSuffix()}`);
      const post = async (query: string) => {
        const response = await fetch(`${api.url!}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query }),
        });
        return {
          status: response.status,
          body: (await response.json()) as {
            errors?: { extensions?: { code?: string } }[];
            extensions?: { cost?: { complexity: number } };
          },
        };
      };
      const aliases = await post(
        `{ ${Array.from({ length: 330 }, (_, index) => `a${index}: history(first: 0) { totalCount }`).join(' ')} }`,
      );
      expect({ status: aliases.status, code: aliases.body.errors?.[0]?.extensions?.code }).toEqual({
        status: 400,
        code: 'QUERY_TOO_COMPLEX',
      });
      const nullPage = await post('{ history(first: null) { edges { node { id } } } }');
      const defaultPage = await post('{ history(first: 20) { edges { node { id } } } }');
      expect(nullPage.body.extensions?.cost?.complexity).toBe(defaultPage.body.extensions?.cost?.complexity);
      await expectServing();
    },
  );
});

describe('hardening of a production process', () => {
  e2e('every answer carries the security headers, and an unknown path is a JSON 404, not a framework page', async () => {
    for (const path of ['/health/live', '/graphql', '/metrics', '/no-such-path', '/files/nothing']) {
      const response = await fetch(
        `${api.url!}${path}`,
        path === '/graphql' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' } : {},
      );
      const text = await response.text();
      expect({
        path,
        nosniff: response.headers.get('x-content-type-options'),
        frame: response.headers.get('x-frame-options'),
        csp: response.headers.get('content-security-policy'),
      }).toEqual({
        path,
        nosniff: 'nosniff',
        frame: 'DENY',
        csp: expect.stringContaining("default-src 'none'"),
      });
      expect(text).not.toMatch(/<html|<pre>|Cannot GET/i);
      // Plain http here: no HSTS (it is sent when PUBLIC_URL is https).
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
    const missing = await fetch(`${api.url!}/no-such-path`);
    expect({ status: missing.status, body: await missing.json() }).toEqual({
      status: 404,
      body: { errors: [{ message: 'Not found.', extensions: { code: 'NOT_FOUND' } }] },
    });
  });

  e2e('with introspection off, a misspelt field gets no "Did you mean" suggestion, over HTTP or WebSocket', async () => {
    const token = mintToken(resources.jwtSecret, `spell-${uniqueSuffix()}`);
    const response = await fetch(`${api.url!}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ histor { totalCount } }' }),
    });
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0].message).toMatch(/Cannot query field "histor"/);
    expect(body.errors[0].message).not.toMatch(/Did you mean/);
    const socket = await stepSocket(api.url!);
    cleanup.add(() => socket.close());
    await socket.init({ authorization: `Bearer ${token}` });
    const ws = (await socket.run('{ histor { totalCount } }')) as { errors: { message: string }[] };
    expect(ws.errors[0].message).toMatch(/Cannot query field "histor"/);
    expect(ws.errors[0].message).not.toMatch(/Did you mean/);
  });

  e2e('WebSocket error payloads carry no internal extensions.http', async () => {
    const socket = await stepSocket(api.url!);
    cleanup.add(() => socket.close());
    await socket.init({ authorization: `Bearer ${mintToken(resources.jwtSecret, `http-${uniqueSuffix()}`)}` });
    const outcome = (await socket.run(`{ __typename }\n# ${'x'.repeat(20_000)}`)) as { errors: { extensions?: Record<string, unknown> }[] };
    expect(outcome.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_LARGE' });
    expect(outcome.errors[0].extensions).not.toHaveProperty('http');
  });
});

describe('slow and oversize uploads, WebSocket caps (a process with small limits)', () => {
  const own = new Cleanup();
  let small: ServiceProcess;
  const MAX_UPLOAD = 1024 * 1024;
  beforeAll(async () => {
    small = await startApiProcess(own, {
      name: 'api-small',
      env: {
        ...resources.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        REQUEST_TIMEOUT_SECONDS: '3',
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
        WS_MAX_CONNECTIONS_PER_USER: '2',
        WS_IDLE_TIMEOUT_SECONDS: '2',
      },
    });
  }, 90_000);
  afterAll(() => own.run(), 60_000);

  const uploadHead = (token: string, length: number) =>
    `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nApollo-Require-Preflight: true\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${length}\r\n\r\n`;

  async function quotaUsed(token: string): Promise<number> {
    const response = await fetch(`${small.url!}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ quota { daily { used } } }' }),
    });
    return ((await response.json()) as { data: { quota: { daily: { used: number } } } }).data.quota.daily.used;
  }

  itWithOutputs(
    'an upload that stalls mid-file is cut at REQUEST_TIMEOUT_SECONDS with 408, and gives its quota unit back',
    () => [small],
    async () => {
      const token = mintToken(resources.jwtSecret, `slow-${uniqueSuffix()}`);
      const start = Buffer.concat([ops, map, filePart('0', 'melody.wav', new Uint8Array(200_000))]).subarray(0, 60_000);
      const { hostname, port } = new URL(small.url!);
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), hostname);
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        // Sends part of the body and then nothing more: only the server's timeout can end this.
        socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(uploadHead(token, 300_000)), start])));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      await eventually('the quota unit of the cut upload is given back', () => quotaUsed(token), {
        until: (used) => used === 0,
        timeoutMs: 30_000,
      });
      expect(small.running()).toBe(true);
      expect(await serves(small.url!, resources.jwtSecret, `alive-${uniqueSuffix()}`)).toEqual({ live: 200, quota: 200, errors: null });
    },
    60_000,
  );

  itWithOutputs(
    'an upload over MAX_UPLOAD_BYTES is answered FILE_TOO_LARGE and its connection closed long before the declared 400 MB are sent',
    () => [small],
    async () => {
      const token = mintToken(resources.jwtSecret, `big-${uniqueSuffix()}`);
      const declared = 400 * 1024 * 1024;
      const { hostname, port } = new URL(small.url!);
      const result = await new Promise<{ answer: string; sent: number }>((resolve) => {
        const socket = connect(Number(port), hostname);
        const chunks: Buffer[] = [];
        let sent = 0;
        let open = true;
        const chunk = Buffer.alloc(256 * 1024);
        const pump = () => {
          while (open && sent < declared) {
            sent += chunk.length;
            if (!socket.write(chunk)) {
              socket.once('drain', pump);
              return;
            }
          }
        };
        socket.on('data', (data: Buffer) => chunks.push(data));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          open = false;
          resolve({ answer: Buffer.concat(chunks).toString('latin1'), sent });
        });
        socket.on('connect', () => {
          socket.write(
            Buffer.concat([
              Buffer.from(uploadHead(token, declared)),
              ops,
              map,
              Buffer.from(
                `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
              ),
            ]),
          );
          pump();
        });
      });
      // The server stopped reading: the client got far less than 400 MB out (the answer, when it arrived first, says why).
      expect(result.sent).toBeLessThan(declared / 4);
      if (result.answer !== '') {
        expect(result.answer).toMatch(/^HTTP\/1\.1 200 /);
        expect(result.answer).toMatch(/connection: close/i);
        expect(result.answer).toContain('FILE_TOO_LARGE');
      }
      await eventually('nothing of the refused upload is held', () => quotaUsed(token), { until: (used) => used === 0, timeoutMs: 30_000 });
      expect(small.running()).toBe(true);
    },
    120_000,
  );

  itWithOutputs(
    'a user holds at most WS_MAX_CONNECTIONS_PER_USER sockets: a third connection_init is closed with 4429, others are not affected',
    () => [small],
    async () => {
      const token = mintToken(resources.jwtSecret, `sockets-${uniqueSuffix()}`);
      const [one, two, three] = await Promise.all([stepSocket(small.url!), stepSocket(small.url!), stepSocket(small.url!)]);
      for (const socket of [one, two, three]) own.add(() => socket.close());
      await one.init({ authorization: `Bearer ${token}` });
      await two.init({ authorization: `Bearer ${token}` });
      await expect(three.init({ authorization: `Bearer ${token}` })).rejects.toThrow('closed with 4429');
      // Another user connects; the first user's sockets still serve.
      const other = await stepSocket(small.url!);
      own.add(() => other.close());
      await other.init({ authorization: `Bearer ${mintToken(resources.jwtSecret, `other-${uniqueSuffix()}`)}` });
      expect(await one.run('{ __typename }')).toEqual({ data: [{ __typename: 'Query' }], errors: [] });
      // Once one closes, the user may connect again.
      two.close();
      await two.closed();
      await eventually(
        'a freed connection slot is admitted',
        async () => {
          const again = await stepSocket(small.url!);
          own.add(() => again.close());
          await again.init({ authorization: `Bearer ${token}` });
          return true;
        },
        { timeoutMs: 10_000 },
      );
    },
    60_000,
  );

  itWithOutputs(
    'a socket that runs nothing and sends nothing for WS_IDLE_TIMEOUT_SECONDS is closed with 4408',
    () => [small],
    async () => {
      const socket = await stepSocket(small.url!);
      own.add(() => socket.close());
      await socket.init({ authorization: `Bearer ${mintToken(resources.jwtSecret, `idle-${uniqueSuffix()}`)}` });
      expect(await socket.run('{ __typename }')).toEqual({ data: [{ __typename: 'Query' }], errors: [] });
      expect(await socket.closed()).toBe(4408);
    },
    60_000,
  );
});
