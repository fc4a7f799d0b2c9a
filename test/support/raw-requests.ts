/**
 * Hostile requests as bytes, for tests that attack a real API process: raw multipart bodies (any
 * byte, any framing), a seeded generator of malformed ones, and the check that a process survived an
 * attack (alive, answers `/health/live`, still accepts a valid token).
 */
import { connect } from 'node:net';
import { createRandom } from '../../src/audio/random.js';
import { mintToken } from './service-harness.js';

export const BOUNDARY = 'X';

/** The `operations` of a `convertMelody` upload whose `audio` placeholder is null. */
export const CONVERT_OPERATIONS = JSON.stringify({
  query: 'mutation($input: ConvertMelodyInput!) { convertMelody(input: $input) { userErrors { code } } }',
  variables: { input: { prompt: 'a song about the sea at night, slow and calm', genre: 'ballad', mood: 'calm', audio: null } },
});

/** One multipart part: `--X\r\n<headers>\r\n\r\n<content>\r\n`. */
export function part(headers: string, content: string | Uint8Array, boundary = BOUNDARY): Buffer {
  return Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`, 'latin1'), Buffer.from(content), Buffer.from('\r\n')]);
}

export function field(name: string, value: string, boundary = BOUNDARY): Buffer {
  return part(`Content-Disposition: form-data; name="${name}"`, value, boundary);
}

export function filePart(name: string, fileName: string, bytes: Uint8Array, boundary = BOUNDARY): Buffer {
  return part(`Content-Disposition: form-data; name="${name}"; filename="${fileName}"\r\nContent-Type: audio/wav`, bytes, boundary);
}

export function closing(boundary = BOUNDARY): Buffer {
  return Buffer.from(`--${boundary}--\r\n`);
}

/** A complete, valid upload body of `convertMelody` whose map sends `paths` to file `0`. */
export function uploadBody(paths: string[], fileBytes: Uint8Array = new Uint8Array(64), operations = CONVERT_OPERATIONS): Buffer {
  return Buffer.concat([
    field('operations', operations),
    field('map', JSON.stringify({ 0: paths })),
    filePart('0', 'melody.wav', fileBytes),
    closing(),
  ]);
}

export interface RawAnswer {
  status: number;
  /** The first error's `extensions.code` (else the first `convertMelody.userErrors` code), when the body is a GraphQL JSON answer. */
  code: string | null;
  text: string;
}

/** POSTs `body` to `/graphql` as multipart (with the preflight header; no token unless given). */
export async function postMultipart(url: string, body: Buffer, options: { contentType?: string; token?: string } = {}): Promise<RawAnswer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? `multipart/form-data; boundary=${BOUNDARY}`,
      'apollo-require-preflight': 'true',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body,
  });
  const text = await response.text();
  let code: string | null = null;
  try {
    const parsed = JSON.parse(text) as {
      errors?: { extensions?: { code?: string } }[];
      data?: { convertMelody?: { userErrors?: { code: string }[] } };
    };
    code = parsed.errors?.[0]?.extensions?.code ?? parsed.data?.convertMelody?.userErrors?.[0]?.code ?? null;
  } catch {
    // Not JSON: `code` stays null and the test shows `text`.
  }
  return { status: response.status, code, text };
}

/**
 * Sends `head` (an HTTP request line and headers) and `body` over a raw socket, then closes our side
 * (`half: true`: FIN, still reading the answer) or resets it (`half: false`: the client vanishes).
 * @returns whatever the server answered before the socket closed (may be empty).
 */
export async function rawExchange(url: string, head: string, body: Buffer, half = true): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('connect', () => {
      socket.write(head);
      socket.write(body, () => {
        if (half) socket.end();
        else socket.resetAndDestroy();
      });
    });
  });
}

/** What a process that survived must still do: answer `/health/live` and serve a valid token's query. */
export async function serves(url: string, jwtSecret: string, userId: string): Promise<{ live: number; quota: number; errors: unknown }> {
  const live = await fetch(`${url}/health/live`);
  await live.arrayBuffer();
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${mintToken(jwtSecret, userId)}` },
    body: JSON.stringify({ query: '{ quota { daily { limit } } }' }),
  });
  const body = (await response.json()) as { errors?: unknown };
  return { live: live.status, quota: response.status, errors: body.errors ?? null };
}

/** The audio core's seeded PRNG (mulberry32), so a failing fuzz case can be replayed by its seed. */
export const seededRandom = createRandom;

/**
 * A malformed multipart body, drawn from `random`: a valid upload, then one to three mutations
 * (cut anywhere, bytes flipped or inserted — NUL, CR, LF, quotes, `-` — header lines broken,
 * parts duplicated, dropped or reordered, hostile map paths, odd boundaries). Some draws stay valid
 * by chance; the contract is the same for all: a clean answer and a process that keeps serving.
 */
export function malformedMultipart(random: () => number): { body: Buffer; contentType: string; what: string } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const inherited = Object.getOwnPropertyNames(Object.prototype);
  const mapPaths = [
    'variables.input.audio',
    `variables.${pick(inherited)}`,
    `variables.${pick(inherited)}.call`,
    `variables.input.${pick(inherited)}.call`,
    `${pick(inherited)}.x`,
    'variables.input.prompt.length',
    'variables..audio',
    'variables.input.audio.x',
    '0.variables.input.audio',
    '',
  ];
  const parts: Buffer[] = [
    field(
      'operations',
      random() < 0.9 ? CONVERT_OPERATIONS : pick(['{', '[]', 'null', '"x"', '{"query":1}', '[{"variables":{"a":null}}]']),
    ),
    field(
      'map',
      random() < 0.8
        ? JSON.stringify({ 0: [pick(mapPaths)] })
        : pick(['{', '[]', '{"0":"x"}', '{"0":[1]}', '{"0":[]}', '{"0":["a"],"1":["b"]}', 'null']),
    ),
    filePart(
      pick(['0', '1', '']),
      pick(['melody.wav', 'a\u0000b.wav', '../../x', '"', '']),
      new Uint8Array(Math.floor(random() * 256)).map(() => Math.floor(random() * 256)),
    ),
  ];
  const what: string[] = [];
  let boundary = BOUNDARY;
  let body = Buffer.concat([...parts, closing()]);
  const mutations = 1 + Math.floor(random() * 3);
  for (let m = 0; m < mutations; m++) {
    const kind = Math.floor(random() * 9);
    const at = Math.floor(random() * (body.length + 1));
    switch (kind) {
      case 0:
        body = body.subarray(0, at);
        what.push(`cut at ${at}`);
        break;
      case 1: {
        const copy = Buffer.from(body);
        const n = 1 + Math.floor(random() * 4);
        for (let i = 0; i < n && copy.length > 0; i++)
          copy[Math.floor(random() * copy.length)] = pick([0, 13, 10, 34, 45, 59, 61, 255, Math.floor(random() * 256)]);
        body = copy;
        what.push(`${n} bytes flipped`);
        break;
      }
      case 2: {
        const insert = pick([
          '\u0000',
          '\r\n',
          '\r\n\r\n',
          `--${boundary}\r\n`,
          `\r\n--${boundary}--`,
          'bad header\r\n',
          'Content-Disposition: form-data; name="map"\r\n',
          '"',
          ';',
        ]);
        body = Buffer.concat([body.subarray(0, at), Buffer.from(insert, 'latin1'), body.subarray(at)]);
        what.push(`inserted ${JSON.stringify(insert)} at ${at}`);
        break;
      }
      case 3:
        body = Buffer.concat([parts[0], Buffer.from(`--${boundary}\r\nbad header\r\n\r\nx\r\n`), closing()]);
        what.push('malformed part header after operations');
        break;
      case 4: {
        const order = [...parts].sort(() => random() - 0.5);
        body = Buffer.concat([...order.slice(0, 1 + Math.floor(random() * 3)), closing()]);
        what.push('parts reordered or dropped');
        break;
      }
      case 5:
        body = Buffer.concat([parts[0], parts[0], parts[1], parts[2], parts[2], closing()]);
        what.push('parts duplicated');
        break;
      case 6:
        boundary = pick(['', 'Y', '-'.repeat(71), 'X"; a="b', 'a b']);
        what.push(`content-type boundary ${JSON.stringify(boundary)}`);
        break;
      case 7:
        body = Buffer.concat([Buffer.from('preamble\r\n'), body.subarray(0, at), Buffer.from(`\r\n--${BOUNDARY}`)]);
        what.push('preamble and a boundary with no end');
        break;
      default:
        body = Buffer.concat([
          parts[0],
          parts[1],
          part(`Content-Disposition: form-data; name="0"; filename="${pick(['a\u0000.wav', 'é.wav', '\r.wav'])}"`, 'x'),
          closing(),
        ]);
        what.push('odd file name');
    }
  }
  return { body, contentType: `multipart/form-data; boundary=${boundary === '' ? '' : boundary}`, what: what.join(', ') };
}

/** In {@link wsExchange}'s messages: wait for `connection_ack` before sending the rest. */
export const AWAIT_ACK = Symbol('await connection_ack');

/** How a WebSocket exchange ended: the server closed it (`code`), or it still answered our final ping. */
export type WsOutcome = { closed: number; reason: string } | { pong: true };

/**
 * Opens a graphql-transport-ws socket, sends `messages` (strings go as text frames, buffers as
 * binary), then a `ping`: resolves when the server closes the socket or answers that ping (it answers
 * pings in any state), so no case waits on a clock. Closes the socket itself afterwards.
 */
export async function wsExchange(url: string, messages: (string | Buffer | typeof AWAIT_ACK)[]): Promise<WsOutcome> {
  const { WebSocket } = await import('ws');
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: WsOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
      if (socket.readyState === socket.OPEN) socket.close(1000);
    };
    socket.on('error', (error) => {
      if (!settled && socket.readyState !== socket.CLOSED && socket.readyState !== socket.CLOSING) reject(error);
    });
    socket.on('close', (code, reason) => settle({ closed: code, reason: reason.toString() }));
    let rest = [...messages];
    const sendUntilAck = () => {
      while (rest.length > 0) {
        const message = rest.shift()!;
        if (message === AWAIT_ACK) return;
        socket.send(message, { binary: typeof message !== 'string' });
      }
      socket.send(JSON.stringify({ type: 'ping', payload: { final: true } }));
      rest = [];
    };
    socket.on('message', (data) => {
      const text = String(data as Buffer);
      if (text.includes('"type":"pong"') && text.includes('"final"')) settle({ pong: true });
      if (text.includes('"type":"connection_ack"')) sendUntilAck();
    });
    socket.on('open', sendUntilAck);
  });
}

/**
 * A hostile graphql-ws conversation drawn from `random`: one to four messages among broken JSON,
 * wrong shapes, unknown types, binary frames, deep nesting, a subscribe before init or with an id
 * reused, a second init, odd payloads. `token` makes some inits valid.
 */
export function malformedWsMessages(random: () => number, token: string): { messages: (string | Buffer)[]; what: string } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const id = pick(['1', '', 'x'.repeat(300), '__proto__', 'constructor', '1']);
  const candidates: (() => string | Buffer)[] = [
    () => JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
    () =>
      JSON.stringify({
        type: 'connection_init',
        payload: pick([null, 1, 'x', [], { authorization: 'Bearer x.y.z' }, { authorization: { toString: 1 } }, { __proto__: { a: 1 } }]),
      }),
    () =>
      JSON.stringify({
        type: 'subscribe',
        id,
        payload: {
          query: pick([
            '{ __typename }',
            'subscription { x }',
            '{',
            '{ quota { daily { used } } }',
            `{ ${'a { '.repeat(50)}b${' }'.repeat(50)} }`,
          ]),
        },
      }),
    () =>
      JSON.stringify({
        type: 'subscribe',
        id,
        payload: pick([
          null,
          1,
          'x',
          [],
          { query: 1 },
          { query: '{ __typename }', variables: 'x' },
          { query: '{ __typename }', extensions: [] },
        ]),
      }),
    () => JSON.stringify({ type: 'complete', id }),
    () => JSON.stringify({ type: pick(['next', 'error', 'pong', 'ping', 'connection_ack', 'unknown', '', 1, null]) }),
    () =>
      pick([
        '{',
        '',
        'null',
        '[]',
        '"x"',
        '1',
        '{"type":',
        '{"type":"subscribe"}',
        '{"id":1,"type":"complete"}',
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
      ]),
    () => Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))),
    () =>
      JSON.stringify({
        type: 'subscribe',
        id,
        payload: { query: '{ __typename }', variables: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`) as unknown },
      }),
  ];
  const count = 1 + Math.floor(random() * 4);
  const chosen = Array.from({ length: count }, () => Math.floor(random() * candidates.length));
  return { messages: chosen.map((index) => candidates[index]()), what: chosen.join(',') };
}

/** A graphql-transport-ws socket driven step by step: `init` then any number of `run`s, each waiting for its answer. */
export interface StepSocket {
  /** Sends connection_init with `payload` and waits for the ack (rejects with the close code if refused). */
  init(payload: Record<string, unknown>): Promise<void>;
  /** Runs `query` as operation `id`: its results and errors until `complete`, or the close code when the server closes the socket. */
  run(query: string): Promise<{ data: unknown[]; errors: unknown[] } | { closed: number }>;
  /** Resolves with the close code once the socket has closed (by either side). */
  closed(): Promise<number>;
  close(): void;
}

export async function stepSocket(url: string): Promise<StepSocket> {
  const { WebSocket } = await import('ws');
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  let closedWith: number | null = null;
  const waiters = new Set<(message: { type: string; id?: string; payload?: unknown } | null) => void>();
  socket.on('error', () => undefined);
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw as Buffer)) as { type: string; id?: string; payload?: unknown };
    for (const waiter of [...waiters]) waiter(message);
  });
  socket.on('close', (code) => {
    closedWith = code;
    for (const waiter of [...waiters]) waiter(null);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('close', (code) => reject(new Error(`closed with ${code} before opening`)));
  });
  let next = 0;
  return {
    init: (payload) =>
      new Promise((resolve, reject) => {
        const waiter = (message: { type: string } | null) => {
          if (message === null) reject(new Error(`closed with ${closedWith}`));
          else if (message.type === 'connection_ack') resolve();
          else return;
          waiters.delete(waiter);
        };
        waiters.add(waiter);
        socket.send(JSON.stringify({ type: 'connection_init', payload }));
      }),
    run: (query) => {
      if (closedWith !== null) return Promise.resolve({ closed: closedWith });
      const id = String(++next);
      return new Promise((resolve) => {
        const data: unknown[] = [];
        const errors: unknown[] = [];
        const waiter = (message: { type: string; id?: string; payload?: unknown } | null) => {
          if (message === null) {
            waiters.delete(waiter);
            resolve({ closed: closedWith! });
            return;
          }
          if (message.id !== id) return;
          if (message.type === 'next') data.push((message.payload as { data?: unknown }).data);
          if (message.type === 'error') errors.push(...(message.payload as unknown[]));
          if (message.type === 'complete' || message.type === 'error') {
            waiters.delete(waiter);
            resolve({ data, errors });
          }
        };
        waiters.add(waiter);
        socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query } }));
      });
    },
    closed: () =>
      closedWith !== null ? Promise.resolve(closedWith) : new Promise((resolve) => socket.once('close', (code) => resolve(code))),
    close: () => socket.close(1000),
  };
}
