/**
 * The worker with remote providers, end to end in this process: real PostgreSQL, Redis and storage of
 * the test's own, the worker's default provider host built from the environment (`LLM_API_URL`,
 * `EXPERT_MUSIC_AI_URL`, with its real HTTP clients, breakers and retries), and the providers played by
 * local HTTP servers this test starts: an OpenAI-style chat-completions server that answers with JSON
 * lines fitting the phrases it is asked for, and a vocal engine (202 + polling, as docs/providers.md
 * describes) that sings the notes it is sent, rendered in code. The pipeline runs in worker threads and
 * reaches the providers through the thread pool's provider calls.
 */
import type { ConversionReport } from '../../src/audio/pipeline.js';
import { ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import {
  enqueue,
  insertPendingConversion,
  loadConversion,
  recordProgress,
  startWorkerEnv,
  type WorkerEnv,
} from '../support/worker-harness.js';
import { Cleanup } from '../support/service-harness.js';
import { lineOfSyllables, renderTake } from '../support/provider-replies.js';
import { json, startScriptedServer, type Behaviour, type RecordedRequest, type ScriptedServer } from './providers/scripted-server.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

/** The syllable counts the lyrics client asked for: its user message lists `N. <count> syllables, ...` per phrase. */
function phraseSyllables(request: RecordedRequest): number[] {
  const body = JSON.parse(request.body.toString('utf8')) as { messages: { role: string; content: string }[] };
  const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
  return [...user.matchAll(/^\d+\. (\d+) syllables/gm)].map((m) => Number(m[1]));
}

/** An OpenAI-style chat completion whose content is `{"lines": [...]}`, one fitting line per phrase. */
function llmAnswer(request: RecordedRequest): Behaviour {
  const lines = phraseSyllables(request).map((syllables, i) => lineOfSyllables(syllables, i * 3));
  return json(200, {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify({ lines }) }, finish_reason: 'stop' }],
  });
}

/** The JSON part `request` of a multipart upload (read from the raw body, as the engine would). */
function multipartRequest(request: RecordedRequest): { notes: { midi: number; start: number; duration: number }[] } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(String(request.headers['content-type']));
  if (!boundary) throw new Error('not multipart');
  const parts = request.body.toString('latin1').split(`--${boundary[1] ?? boundary[2]}`);
  const part = parts.find((p) => /name="request"/.test(p));
  if (!part) throw new Error('no request part');
  const body = part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
  return JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as { notes: { midi: number; start: number; duration: number }[] };
}

/** The vocal engine: accepts the upload (202), reports the job done on the first poll, then serves the take. */
function vocalEngine(): (request: RecordedRequest) => Behaviour {
  let take: Uint8Array | null = null;
  return (request) => {
    if (request.method === 'POST' && request.url === '/v1/vocals') {
      take = renderTake(multipartRequest(request));
      return json(202, { id: 'job-1', status: 'queued' });
    }
    if (request.method === 'GET' && request.url === '/v1/vocals/job-1')
      return json(200, { status: take ? 'succeeded' : 'failed', progress: 1 });
    if (request.method === 'GET' && request.url === '/v1/vocals/job-1/audio' && take)
      return { status: 200, headers: { 'content-type': 'audio/wav' }, body: take };
    return json(404, { error: 'not found' });
  };
}

/** A worker whose default provider host is configured by `env`; retries are quick so a failing provider falls back fast. */
async function workerWith(env: Record<string, string>): Promise<WorkerEnv> {
  return startWorkerEnv(cleanup, {
    env: {
      MELODY_VOCALS_RETRIES: '1',
      MELODY_VOCALS_RETRY_BASE_MS: '1',
      MELODY_VOCALS_TIMEOUT: '30000',
      EXPERT_MUSIC_AI_POLL_MS: '20',
      ...env,
    },
  });
}

async function convertAndWait(env: WorkerEnv): Promise<{ row: Awaited<ReturnType<typeof loadConversion>>; report: ConversionReport }> {
  const conversion = await insertPendingConversion(env);
  const progress = await recordProgress(cleanup, env, conversion.id);
  await enqueue(env, conversion.id);
  const final = await progress.final(120_000);
  expect(final.status).toBe('COMPLETED');
  const row = await loadConversion(env, conversion.id);
  const report = JSON.parse(new TextDecoder().decode(await env.services.storage.read(row.result!.files.report))) as ConversionReport;
  return { row, report };
}

describe('the worker with remote providers', () => {
  let llm: ScriptedServer;
  let engine: ScriptedServer;

  it("completes a conversion with the LLM's lyrics sung by the remote engine", async () => {
    llm = await startScriptedServer(cleanup, llmAnswer);
    engine = await startScriptedServer(cleanup, vocalEngine());
    const env = await workerWith({
      LLM_API_URL: `${llm.url}/v1/chat/completions`,
      LLM_MODEL: 'test-model',
      LLM_API_KEY: 'sk-test',
      EXPERT_MUSIC_AI_URL: engine.url,
    });
    const { row, report } = await convertAndWait(env);

    expect(row.status).toBe(ConversionStatus.COMPLETED);
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0].headers.authorization).toBe('Bearer sk-test');
    const expected = phraseSyllables(llm.requests[0]).map((syllables, i) => lineOfSyllables(syllables, i * 3));
    expect(expected.length).toBe(report.melody.phraseCount);
    expect(row.result!.lyrics.split('\n').filter(Boolean)).toEqual(expected);
    expect(row.result!.lyricsInfo.source).toBe('provider');
    expect(report.lyrics.provider).toBe('llm:test-model');

    expect(engine.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v1/vocals',
      'GET /v1/vocals/job-1',
      'GET /v1/vocals/job-1/audio',
    ]);
    expect(multipartRequest(engine.requests[0]).notes).toHaveLength(report.melody.noteCount);
    expect(report.voice.engine).toBe('expert-music-ai');
    expect(row.quality!.pitchAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(row.warnings.map((w) => w.code).filter((c) => c.includes('PROVIDER'))).toEqual([]);
  });

  it('completes with the embedded writer and a LYRICS_PROVIDER_FALLBACK warning on the row when the LLM answers 503', async () => {
    const down = await startScriptedServer(cleanup, () => json(503, { error: { message: 'overloaded' } }));
    const env = await workerWith({ LLM_API_URL: `${down.url}/v1/chat/completions` });
    const { row, report } = await convertAndWait(env);

    expect(row.status).toBe(ConversionStatus.COMPLETED);
    // One attempt and one retry (MELODY_VOCALS_RETRIES=1), then the fallback.
    expect(down.requests).toHaveLength(2);
    const fallback = row.warnings.find((w) => w.code === 'LYRICS_PROVIDER_FALLBACK');
    expect(fallback).toBeDefined();
    expect(fallback!.stage).toBe('LYRICS');
    expect(fallback!.message).toContain('"llm"');
    expect(fallback!.message).toContain('AI_SERVICE_ERROR');
    expect(fallback!.message).toContain('embedded writer');
    expect(row.result!.lyricsInfo.source).toBe('writer');
    expect(report.voice.engine).toBe('embedded');
    expect(row.result!.lyrics.length).toBeGreaterThan(10);
  });

  it('shares one breaker between the jobs of the process: once the failures open it, the next job falls back with CIRCUIT_OPEN without contacting the LLM', async () => {
    const down = await startScriptedServer(cleanup, () => json(503, { error: { message: 'overloaded' } }));
    const env = await workerWith({
      LLM_API_URL: `${down.url}/v1/chat/completions`,
      MELODY_VOCALS_RETRIES: '0',
      BREAKER_FAILURE_THRESHOLD: '1',
      BREAKER_HALF_OPEN_AFTER_MS: '600000',
    });
    const first = await convertAndWait(env);
    expect(down.requests).toHaveLength(1);
    expect(first.row.warnings.find((w) => w.code === 'LYRICS_PROVIDER_FALLBACK')?.message).not.toContain('CIRCUIT_OPEN');

    // Another job, in whichever pipeline thread: its provider call reaches the same host and breaker.
    const second = await convertAndWait(env);
    expect(down.requests).toHaveLength(1);
    expect(second.row.status).toBe(ConversionStatus.COMPLETED);
    expect(second.row.warnings.find((w) => w.code === 'LYRICS_PROVIDER_FALLBACK')?.message).toContain('CIRCUIT_OPEN');
    expect(second.row.result!.lyricsInfo.source).toBe('writer');
  });
});
