/**
 * The process's provider host from a real configuration: null providers when no URL is set; with
 * URLs, resilient clients whose breaker states feed the `melody_circuit_breaker_state{breaker}` gauge
 * (read from a real prom-client registry in the exposition format) and the log; and close() aborting
 * calls in flight.
 */
import type { LyricsRequest } from '../../../src/audio/providers.js';
import { loadConfig } from '../../../src/platform/config.js';
import { AbortedError } from '../../../src/audio/errors.js';
import { createMetrics } from '../../../src/platform/metrics.js';
import { LYRICS_BREAKER, VOCALS_BREAKER, createProviderHost } from '../../../src/platform/providers/create-provider-host.js';
import type { BreakerStatus } from '../../../src/platform/providers/provider-host.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { Cleanup } from '../../support/service-harness.js';
import { json, sequence, startScriptedServer } from './scripted-server.js';

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
});

const LYRICS: LyricsRequest = {
  prompt: 'a song about the sea',
  genre: 'pop',
  mood: 'happy',
  seed: 1,
  phrases: [{ syllables: 3, stresses: 'SwS', seconds: 1 }],
  key: null,
  tempo: null,
};

/** A logger that keeps what it is told (the host's only output besides the gauge). */
function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      lines.push({ level, message, fields });
    };
  return { lines, logger: { info: log('info'), warn: log('warn') } as never };
}

async function gauge(metrics: ReturnType<typeof createMetrics>, breaker: string): Promise<number | undefined> {
  return sampleValue(parsePrometheusText(await metrics.registry.metrics()), 'melody_circuit_breaker_state', { breaker });
}

test('without provider URLs both providers are null and there is no breaker', () => {
  const metrics = createMetrics({ processMetrics: false });
  const host = createProviderHost(loadConfig({}), { logger: recordingLogger().logger, metrics });
  cleanup.add(() => host.close());
  expect(host.lyrics).toBeNull();
  expect(host.vocals).toBeNull();
  expect(host.fallback).toBe(true);
  expect(host.breakers()).toEqual([]);
});

test('configured breakers are exported as 0 (closed) at once, then 2 (open), 1 (half-open) and 0 again, each change logged', async () => {
  const server = await startScriptedServer(cleanup, sequence(json(503, {})));
  const metrics = createMetrics({ processMetrics: false });
  const { lines, logger } = recordingLogger();
  const config = loadConfig({
    LLM_API_URL: `${server.url}/v1/chat/completions`,
    EXPERT_MUSIC_AI_URL: `${server.url}/engine/`,
    MELODY_VOCALS_RETRIES: '0',
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_HALF_OPEN_AFTER_MS: '200',
    PROVIDER_FALLBACK: 'false',
  });
  const host = createProviderHost(config, { logger, metrics });
  cleanup.add(() => host.close());
  const changes: BreakerStatus[] = [];
  host.onBreakerChange((status) => changes.push(status));

  expect(host.lyrics?.name).toBe('llm');
  expect(host.vocals?.name).toBe('expert-music-ai');
  expect(host.fallback).toBe(false);
  expect(host.breakers().map((b) => [b.name, b.state])).toEqual([
    [LYRICS_BREAKER, 'CLOSED'],
    [VOCALS_BREAKER, 'CLOSED'],
  ]);
  expect(await gauge(metrics, LYRICS_BREAKER)).toBe(0);
  expect(await gauge(metrics, VOCALS_BREAKER)).toBe(0);

  for (let i = 0; i < 2; i += 1) await expect(host.lyrics!.writeLyrics(LYRICS)).rejects.toMatchObject({ code: 'AI_SERVICE_ERROR' });
  expect(await gauge(metrics, LYRICS_BREAKER)).toBe(2);
  expect(await gauge(metrics, VOCALS_BREAKER)).toBe(0);
  expect(lines).toContainEqual({
    level: 'warn',
    message: 'Circuit breaker opened',
    fields: { breaker: LYRICS_BREAKER, state: 'OPEN', consecutiveFailures: 2 },
  });

  await server.waitFor(() => host.breakers()[0].state === 'HALF_OPEN');
  expect(await gauge(metrics, LYRICS_BREAKER)).toBe(1);
  expect(lines.some((l) => l.message === 'Circuit breaker half-open' && l.fields.breaker === LYRICS_BREAKER)).toBe(true);

  server.setHandler(() => json(200, { choices: [{ message: { content: '{"lines":["la la la"]}' } }] }));
  await expect(host.lyrics!.writeLyrics(LYRICS)).resolves.toMatchObject({ lines: ['la la la'] });
  expect(await gauge(metrics, LYRICS_BREAKER)).toBe(0);
  expect(lines.some((l) => l.level === 'info' && l.message === 'Circuit breaker closed')).toBe(true);
  expect(changes.map((c) => `${c.name}:${c.state}`)).toEqual([
    `${LYRICS_BREAKER}:OPEN`,
    `${LYRICS_BREAKER}:HALF_OPEN`,
    `${LYRICS_BREAKER}:CLOSED`,
  ]);
  expect(server.requests.every((r) => r.url === '/v1/chat/completions')).toBe(true);
});

test('close() aborts the calls in flight', async () => {
  const server = await startScriptedServer(cleanup, () => 'hang');
  const host = createProviderHost(loadConfig({ LLM_API_URL: server.url }), { logger: recordingLogger().logger });
  const pending = host.lyrics!.writeLyrics(LYRICS);
  await server.waitFor(() => server.requests.length === 1);
  host.close();
  await expect(pending).rejects.toBeInstanceOf(AbortedError);
  await server.waitFor(() => server.requests[0].closedByClient);
});
