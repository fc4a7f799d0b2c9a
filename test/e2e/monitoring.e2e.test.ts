/**
 * The Grafana dashboards against a real Prometheus: Debian's `prometheus` started on loopback (a free
 * port, a temporary storage directory, a 1-s scrape interval) scrapes an API process and a worker
 * process (`node dist/src/main.js api|worker`, METRICS_PORT set) of this test's own database, Redis
 * prefix and storage. The worker's lyrics provider points at a closed port with no retries, so the
 * circuit-breaker and provider-failure series exist (PROVIDER_FALLBACK keeps the jobs completing).
 * After three conversions and one rating, every panel query of every dashboard under
 * deploy/grafana/dashboards (template variables substituted) is evaluated through Prometheus's HTTP
 * API: each must parse and return at least one series, and every `melody_*` metric it names must be
 * one the processes expose (Prometheus's metadata API), so no panel points at a metric that does not exist.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFileSync, readdirSync, rm, writeFile } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { initOrm, type Orm } from '../../src/platform/database.js';
import { ENTITIES } from '../../src/modules/entities.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { postGraphQL, uploadConversion } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { shortMelody } from '../support/queue-harness.js';
import { Cleanup, createTestResources, freePort, mintToken, type TestResources } from '../support/service-harness.js';
import { startApiProcess, startServiceProcess, type ServiceProcess } from '../support/service-processes.js';
import { describeWithProgram } from '../support/required-tool.js';

const DASHBOARDS = join(process.cwd(), 'deploy', 'grafana', 'dashboards');
const CONVERSIONS = 3;
/** What Grafana puts in for `$__rate_interval` here: several 1-s scrapes. */
const RATE_INTERVAL = '15s';

interface Panel {
  title: string;
  targets?: { expr: string }[];
}
interface Dashboard {
  title: string;
  panels: Panel[];
  templating: { list: { name: string; allValue?: string }[] };
}

/** Every panel query of every dashboard, with the template variables substituted as Grafana would for "All". */
function panelQueries(): { dashboard: string; panel: string; expr: string }[] {
  return readdirSync(DASHBOARDS)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard;
      const substitute = (expr: string) =>
        dashboard.templating.list
          .reduce((text, variable) => text.replaceAll(`$${variable.name}`, variable.allValue ?? '.*'), expr)
          .replaceAll('$__rate_interval', RATE_INTERVAL);
      return dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => ({ dashboard: dashboard.title, panel: panel.title, expr: substitute(target.expr) })),
      );
    });
}

const cleanup = new Cleanup();
let resources: TestResources;
let orm: Orm;
let api: ServiceProcess;
let worker: ServiceProcess;
let prometheusUrl: string;
let prometheusOutput = '';

async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
}

function outputs(): string {
  return [api, worker]
    .filter(Boolean)
    .map((p) => `--- ${p.name} ---\n${p.output().split('\n').slice(-20).join('\n')}`)
    .concat(`--- prometheus ---\n${prometheusOutput.split('\n').slice(-20).join('\n')}`)
    .join('\n');
}

describeWithProgram('prometheus', 'the Grafana dashboards against a real Prometheus scraping an API and a worker', () => {
  beforeAll(async () => {
    resources = await createTestResources(cleanup, { storageLabel: 'mv-e2e-monitoring-' });
    const env = { ...resources.env, DAILY_QUOTA: '100', JOB_START_LIMIT: '0' };
    api = await startApiProcess(cleanup, { name: 'api', env });
    const metricsPort = await freePort();
    const closedPort = await freePort();
    worker = await startServiceProcess(cleanup, {
      name: 'worker',
      mode: 'worker',
      env: {
        ...env,
        HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        WORKER_CONCURRENCY: '2',
        LLM_API_URL: `http://127.0.0.1:${closedPort}/v1/chat/completions`,
        MELODY_VOCALS_RETRIES: '0',
      },
    });
    orm = await initOrm(resources.databaseUrl, ENTITIES);
    cleanup.add(() => orm.close(true));

    const dir = await promisify(mkdtemp)(join(tmpdir(), 'mv-prometheus-'));
    cleanup.add(() => promisify(rm)(dir, { recursive: true, force: true }));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: melody-api',
      `    static_configs: [{ targets: ['${new URL(api.url!).host}'] }]`,
      '  - job_name: melody-worker',
      `    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]`,
      '',
    ].join('\n');
    await promisify(writeFile)(join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => (prometheusOutput = (prometheusOutput + chunk.toString('utf8')).slice(-20_000));
    prometheus.stdout.on('data', keep);
    prometheus.stderr.on('data', keep);
    const exited = new Promise((resolve) => prometheus.once('exit', resolve));
    cleanup.add(async () => {
      prometheus.kill('SIGTERM');
      await exited;
    });
    await eventually(
      () => `Prometheus answers /-/ready\n${outputs()}`,
      async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => null))?.status === 200,
      { until: (ready) => ready, timeoutMs: 60_000 },
    );
  }, 180_000);

  afterAll(() => cleanup.run(), 60_000);

  it('evaluates every panel query: each parses, returns series and names only metrics the processes expose', async () => {
    const token = mintToken(resources.jwtSecret, `user-${randomUUID()}`);
    const ids: string[] = [];
    // Rendered once, before the uploads: rendering blocks this process for seconds on a busy machine,
    // long enough for the API to close the idle keep-alive socket that fetch would then write to (EPIPE).
    const melody = shortMelody();
    for (let i = 0; i < CONVERSIONS; i++) {
      const response = await uploadConversion(
        { url: api.url! },
        {
          token,
          file: melody,
          input: { prompt: `a song about the monitoring stack, take ${i}`, genre: i ? 'folk' : 'pop', mood: 'happy' },
        },
      ).catch((error: Error) => {
        throw new Error(`upload ${i}: ${error.message} (${String((error.cause as Error | undefined)?.message)})\n${outputs()}`);
      });
      const id = response.body.data?.convertMelody.conversion?.id;
      if (!id) throw new Error(`${JSON.stringify(response.body)}\n${outputs()}`);
      ids.push(id);
    }
    const em = () => orm.em.fork() as EntityManager;
    const uuids = ids.map((id) => conversionUuidFromId(id)!);
    await eventually(
      () => `all ${CONVERSIONS} conversions completed\n${outputs()}`,
      () => em().count(Conversion, { id: { $in: uuids }, status: ConversionStatus.COMPLETED }),
      { until: (completed) => completed === CONVERSIONS, timeoutMs: 300_000 },
    );
    const feedback = await postGraphQL<{ submitFeedback: { userErrors: unknown[] } }>(
      { url: api.url! },
      `mutation Rate($input: SubmitFeedbackInput!) { submitFeedback(input: $input) { userErrors { code message } } }`,
      { input: { conversionId: ids[0], rating: 4 } },
      token,
    );
    expect(feedback.body.data?.submitFeedback.userErrors).toEqual([]);

    // Both targets up, the completions scraped, and the rating read (the shared state is cached for 10 s).
    await eventually(
      () => `Prometheus has scraped the completions and the rating\n${outputs()}`,
      async () => {
        const [up, completed, ratings] = await Promise.all([
          query('sum(up{job=~"melody-api|melody-worker"})'),
          query('sum(melody_jobs_completed_total)'),
          query('melody_feedback_ratings{rating="4"}'),
        ]);
        const value = (answer: Awaited<ReturnType<typeof query>>) =>
          Number((answer.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
        return value(up) === 2 && value(completed) >= CONVERSIONS && value(ratings) >= 1;
      },
      { until: (done) => done, timeoutMs: 60_000 },
    );
    // A few more scrapes, so every rate window holds several samples after the last change.
    await eventually(
      'five more scrapes',
      async () => {
        const answer = await query('count_over_time(up{job="melody-worker"}[10s])');
        return Number((answer.data?.result[0] as { value: [number, string] } | undefined)?.value[1] ?? 0);
      },
      { until: (samples) => samples >= 8, timeoutMs: 30_000 },
    );

    const metadata = (await (await fetch(`${prometheusUrl}/api/v1/metadata`)).json()) as { data: Record<string, unknown> };
    const exposed = new Set(Object.keys(metadata.data));
    const queries = panelQueries();
    expect(queries.length).toBeGreaterThanOrEqual(30);
    const problems: string[] = [];
    for (const { dashboard, panel, expr } of queries) {
      const answer = await query(expr);
      if (answer.status !== 'success') problems.push(`${dashboard} / ${panel}: ${answer.error} in ${expr}`);
      else if ((answer.data?.result.length ?? 0) === 0) problems.push(`${dashboard} / ${panel}: no series for ${expr}`);
      for (const [name] of expr.matchAll(/\bmelody_[a-z0-9_]+/g)) {
        const family = name.replace(/_(bucket|sum|count)$/, '');
        if (!exposed.has(name) && !exposed.has(family)) problems.push(`${dashboard} / ${panel}: ${name} is not exposed`);
      }
    }
    expect(problems).toEqual([]);
  }, 420_000);
});
