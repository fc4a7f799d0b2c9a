/**
 * One trace from upload to result: with a propagator, a context manager and a recording tracer
 * registered here (the service registers none; an SDK would), a GraphQL operation over HTTP runs in
 * a span named after the operation, the job it enqueues carries that span's context in
 * `traceContext`, and the worker's job span continues the same trace with one child span per
 * pipeline stage. Without anything registered the same code injects nothing and still runs.
 * The job telemetry also feeds the job metrics (outcomes, retries, stage durations).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import winston from 'winston';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import {
  context,
  propagation,
  trace,
  ROOT_CONTEXT,
  TraceFlags,
  type Context,
  type ContextManager,
  type Span,
  type SpanContext,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { enqueueConversion, type ConversionJobData } from '../../../src/modules/conversion/conversion-job.js';
import { injectTraceContext } from '../../../src/platform/tracing.js';
import { withJobTelemetry } from '../../../src/worker/job-telemetry.js';
import { createMetrics } from '../../../src/platform/metrics.js';
import { AppError } from '../../../src/audio/errors.js';
import { graphqlSpan, observabilityPlugin } from '../../../src/graphql/observability.js';

interface Recorded {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  ended: boolean;
  failed: boolean;
}

const recorded: Recorded[] = [];

class AsyncContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

/** `traceparent` as in W3C Trace Context (version 00). */
const traceparentPropagator: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const span = trace.getSpanContext(ctx);
    if (!span) return;
    setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`);
  },
  extract(ctx, carrier, getter) {
    const value = getter.get(carrier, 'traceparent');
    const match = typeof value === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/.exec(value) : null;
    if (!match) return ctx;
    return trace.setSpanContext(ctx, { traceId: match[1], spanId: match[2], traceFlags: Number(match[3]), isRemote: true });
  },
  fields: () => ['traceparent'],
};

function recordingSpan(name: string, parent: SpanContext | undefined): Span {
  const spanContext: SpanContext = {
    traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.SAMPLED,
  };
  const entry: Recorded = {
    name,
    traceId: spanContext.traceId,
    spanId: spanContext.spanId,
    parentSpanId: parent?.spanId ?? null,
    ended: false,
    failed: false,
  };
  recorded.push(entry);
  const span: Span = {
    spanContext: () => spanContext,
    setAttribute: () => span,
    setAttributes: () => span,
    addEvent: () => span,
    addLink: () => span,
    addLinks: () => span,
    setStatus: (status) => {
      entry.failed = status.code === 2;
      return span;
    },
    updateName: (next) => {
      entry.name = next;
      return span;
    },
    end: () => {
      entry.ended = true;
    },
    isRecording: () => true,
    recordException: () => undefined,
  };
  return span;
}

const recordingTracer = {
  startSpan: (name: string, _options?: unknown, ctx?: Context) => recordingSpan(name, trace.getSpanContext(ctx ?? context.active())),
  startActiveSpan: () => {
    throw new Error('not used by the service');
  },
} as unknown as Tracer;
const provider: TracerProvider = { getTracer: () => recordingTracer };

const queueOf = (jobs: ConversionJobData[]) => ({
  createJob: (data: ConversionJobData) => {
    jobs.push(data);
    const job = { setId: () => job, retries: () => job, backoff: () => job, save: async () => job };
    return job;
  },
});
const policy = { retries: 0, backoffMs: 1000 };

describe('without an OpenTelemetry SDK', () => {
  it('injects nothing and enqueues the job data unchanged', async () => {
    const jobs: ConversionJobData[] = [];
    expect(injectTraceContext()).toBeUndefined();
    await enqueueConversion(queueOf(jobs), { conversionId: 'c-1' }, policy);
    expect(jobs).toEqual([{ conversionId: 'c-1' }]);
  });
});

describe('with a propagator, context manager and tracer registered', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncContextManager());
    propagation.setGlobalPropagator(traceparentPropagator);
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });
  beforeEach(() => {
    recorded.length = 0;
  });

  it("carries a GraphQL operation's span into the job it enqueues, and the job and stage spans continue that trace", async () => {
    const jobs: ConversionJobData[] = [];
    const queue = queueOf(jobs);
    const apollo = new ApolloServer<{ logger: winston.Logger }>({
      typeDefs: 'type Query { ok: Boolean } type Mutation { convert: String }',
      resolvers: {
        Mutation: {
          convert: async () => {
            await enqueueConversion(queue, { conversionId: 'c-2' }, policy);
            return 'queued';
          },
        },
      },
      plugins: [observabilityPlugin(undefined) as unknown as ApolloServerPlugin<{ logger: winston.Logger }>],
    });
    await apollo.start();
    const app = express();
    const logger = winston.createLogger({ silent: true });
    app.use('/graphql', graphqlSpan, express.json(), expressMiddleware(apollo, { context: async () => ({ logger }) as never }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation Convert { convert }' }),
      });
      expect(await response.json()).toEqual({ data: { convert: 'queued' } });
    } finally {
      await apollo.stop();
      await new Promise((resolve) => server.close(resolve));
    }
    const [request] = recorded;
    expect(request).toMatchObject({ name: 'graphql.mutation Convert', parentSpanId: null, ended: true });
    expect(jobs).toEqual([{ conversionId: 'c-2', traceContext: { traceparent: `00-${request.traceId}-${request.spanId}-01` } }]);

    // The worker side.
    const metrics = createMetrics({ processMetrics: false });
    let activeInJob: SpanContext | undefined;
    const outcome = await withJobTelemetry(metrics, { id: 'c-2', data: jobs[0] }, async (telemetry) => {
      activeInJob = trace.getSpanContext(context.active());
      telemetry.stage('VALIDATION');
      telemetry.stage('PITCH_EXTRACTION');
      telemetry.stage('PITCH_EXTRACTION');
      telemetry.stage('SYNTHESIS');
      telemetry.end({ outcome: 'COMPLETED' });
      return 'done';
    });
    expect(outcome).toBe('done');
    const job = recorded.find((span) => span.name === 'conversion.job')!;
    expect(job).toMatchObject({ traceId: request.traceId, parentSpanId: request.spanId, ended: true, failed: false });
    expect(activeInJob).toMatchObject({ traceId: request.traceId, spanId: job.spanId });
    const stages = recorded.filter((span) => span.name.startsWith('conversion.stage'));
    expect(stages.map((span) => span.name)).toEqual([
      'conversion.stage VALIDATION',
      'conversion.stage PITCH_EXTRACTION',
      'conversion.stage SYNTHESIS',
    ]);
    for (const stage of stages) expect(stage).toMatchObject({ traceId: request.traceId, parentSpanId: job.spanId, ended: true });

    const values = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values;
    expect(await values('melody_jobs_completed_total')).toEqual([expect.objectContaining({ labels: { outcome: 'COMPLETED' }, value: 1 })]);
    const counts = (await values('melody_job_duration_seconds')).filter(
      (v) => (v as { metricName?: string }).metricName === 'melody_job_duration_seconds_count',
    );
    expect(counts.map((v) => [v.labels.stage, v.value]).sort()).toEqual([
      ['PITCH_EXTRACTION', 1],
      ['SYNTHESIS', 1],
      ['VALIDATION', 1],
      ['job', 1],
    ]);
  });

  it('marks a failed job span and counts a retry apart from a final failure', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const data = { conversionId: 'c-3' };
    const fail = (error: AppError, retrying: boolean) =>
      withJobTelemetry(metrics, { id: 'c-3', data }, async (telemetry) => {
        telemetry.stage('SYNTHESIS');
        telemetry.end({ error, retrying });
      });
    await fail(new AppError('STORAGE_ERROR', 'disk full', { retryable: true }), true);
    await fail(new AppError('ABORTED', 'worker stopped', { reason: 'WORKER_SHUTDOWN', retryable: true }), true);
    await fail(new AppError('AUDIO_PROCESSING_ERROR', 'no notes', { retryable: false }), false);
    const values = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);
    expect(await values('melody_jobs_retried_total')).toEqual([
      [{ reason: 'STORAGE_ERROR' }, 1],
      [{ reason: 'WORKER_SHUTDOWN' }, 1],
    ]);
    expect(await values('melody_jobs_failed_total')).toEqual([[{ code: 'AUDIO_PROCESSING_ERROR' }, 1]]);
    expect(recorded.filter((span) => span.name === 'conversion.job').map((span) => span.failed)).toEqual([true, true, true]);
    // Each job started its own trace (no traceContext in the job data).
    expect(new Set(recorded.filter((span) => span.name === 'conversion.job').map((span) => span.traceId)).size).toBe(3);
  });
});
