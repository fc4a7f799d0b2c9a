/**
 * Request- and job-scoped logs with secrets kept out: the real API (production JSON format) is
 * given a logger whose lines this test captures. Every line a GraphQL request writes carries its
 * request id and none carries the caller's token; a job's lines carry its conversion id; bearer
 * tokens, JWTs and signed-link signatures are redacted wherever they appear in a line, in both the
 * production (JSON) and the development (readable) format.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import winston from 'winston';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { createApiServer } from '../../src/graphql/server.js';
import { signedPath } from '../../src/platform/signed-url.js';
import { createConversionProcessor } from '../../src/worker/conversion.processor.js';
import { Cleanup, createTestResources, mintToken } from '../support/service-harness.js';

/** A logger of `env`'s format whose lines go to `lines` instead of the console. */
function capturingLogger(config: Pick<Config, 'env' | 'logLevel'>, lines: string[]): Logger {
  const logger = createLogger(config, 'api');
  logger.clear();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  logger.add(new winston.transports.Stream({ stream }));
  return logger;
}

const cleanup = new Cleanup();
const lines: string[] = [];
let services: Services;
let url: string;
let config: Config;

beforeAll(async () => {
  const resources = await createTestResources(cleanup, { storageLabel: 'mv-logging-' });
  config = { ...loadConfig({ ...resources.env, LOG_LEVEL: 'info' }), env: 'production' };
  services = await createServices(config, { role: 'api', logger: capturingLogger(config, lines) });
  cleanup.add(() => services.close());
  const server = await createApiServer(services);
  cleanup.add(() => server.stop());
  url = await server.start(0, '127.0.0.1');
});

afterAll(() => cleanup.run());

function parsed(): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('request-scoped logs', () => {
  it('stamp every line of a GraphQL request with its request id and never write the bearer token', async () => {
    const token = mintToken(config.jwtSecret, `user-${randomUUID()}`);
    const requestId = `req-${randomUUID()}`;
    lines.length = 0;
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': requestId },
      body: JSON.stringify({ query: 'query LoggedProbe { __typename }', operationName: 'LoggedProbe' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const entries = parsed();
    const line = entries.find((entry) => entry.message === 'GraphQL operation');
    expect(line).toMatchObject({ level: 'info', requestId, operation: 'LoggedProbe', type: 'query', outcome: 'ok', service: 'api' });
    expect(typeof line?.timestamp).toBe('string');
    for (const entry of entries) expect(entry.requestId).toBe(requestId);
    const signature = token.split('.')[2];
    for (const text of lines) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(signature);
    }
  });

  it("stamp a job's lines with its conversion id", async () => {
    lines.length = 0;
    const conversionId = randomUUID();
    const processor = createConversionProcessor({
      config,
      orm: services.orm,
      storage: services.storage,
      pubsub: services.pubsub,
      logger: services.logger.child({ component: 'worker' }),
    });
    await expect(processor.process({ id: conversionId, data: { conversionId }, options: {} })).resolves.toEqual({
      conversionId,
      status: 'SKIPPED',
    });
    const entries = parsed();
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry).toMatchObject({ conversionId, jobId: conversionId });
  });
});

describe('redaction', () => {
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLXNlY3JldA';

  it.each(['production', 'test'] as const)('removes tokens, credentials and link signatures from %s lines', (env) => {
    const captured: string[] = [];
    const logger = capturingLogger({ env, logLevel: 'info' }, captured);
    const link = signedPath(
      { urlSigningSecret: 'x'.repeat(32), signedUrlTtlSeconds: 60, publicUrl: 'http://localhost' },
      'conversions/abc/vocals.wav',
    );
    const sig = new URL(link, 'http://localhost').searchParams.get('sig')!;
    logger.child({ requestId: 'req-1' }).warn(`Request with Bearer ${token} failed`, {
      headers: { authorization: `Bearer ${token}`, accept: 'audio/wav' },
      jwt: token,
      link,
      nested: { deeper: [`token=${token}`] },
      password: 'hunter2',
    });
    expect(captured).toHaveLength(1);
    const [line] = captured;
    for (const secret of [token, token.split('.')[2], sig, 'hunter2']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
    // What is not secret stays readable.
    expect(line).toContain('conversions/abc/vocals.wav');
    expect(line).toContain('audio/wav');
    expect(line).toContain('req-1');
    if (env === 'production')
      expect(JSON.parse(line)).toMatchObject({ level: 'warn', message: 'Request with Bearer [redacted] failed', requestId: 'req-1' });
    else expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} warn +\[api\] Request with Bearer \[redacted\] failed /);
  });
});
