/**
 * The job-start limiter holds across worker processes: an API process and TWO worker processes
 * (`node dist/src/main.js api|worker`, 3 slots each) with JOB_START_LIMIT=3 per JOB_START_WINDOW_MS=3000
 * on a database, Redis prefix and storage of this test's own. Nine conversions are queued before the
 * workers start, so without the limiter six would start at once.
 *
 * Proves: all nine complete, and the rows' `startedAt` never put more than three starts in one window.
 * The limiter admits a start at its Redis time; the processor stamps `startedAt` a moment later (after
 * loading the row), so two starts exactly one window apart can look up to that moment closer: the
 * check allows {@link STAMP_SLACK_MS} for it. Without the limiter starts come ~0 ms apart, far inside it.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { initOrm, type Orm } from '../../src/platform/database.js';
import { ENTITIES } from '../../src/modules/entities.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { uploadConversion } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { shortMelody } from '../support/queue-harness.js';
import { Cleanup, createTestResources, mintToken, type TestResources } from '../support/service-harness.js';
import { startApiProcess, startServiceProcess, type ServiceProcess } from '../support/service-processes.js';

const LIMIT = 3;
const WINDOW_MS = 3000;
const JOBS = 9;
/** Allowance for the time between the limiter's admission and the row's `startedAt` stamp, ms. */
const STAMP_SLACK_MS = 500;

const cleanup = new Cleanup();
let resources: TestResources;
let orm: Orm;
let api: ServiceProcess;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  resources = await createTestResources(cleanup, { storageLabel: 'mv-e2e-limit-' });
  const env = {
    ...resources.env,
    JOB_START_LIMIT: String(LIMIT),
    JOB_START_WINDOW_MS: String(WINDOW_MS),
    WORKER_CONCURRENCY: '3',
    DAILY_QUOTA: '100',
  };
  api = await startApiProcess(cleanup, { name: 'api', env });
  orm = await initOrm(resources.databaseUrl, ENTITIES);
  cleanup.add(() => orm.close(true));
}, 90_000);

afterAll(() => cleanup.run(), 60_000);

function outputs(): string {
  return [api, ...workers].map((p) => `--- ${p.name} ---\n${p.output().split('\n').slice(-30).join('\n')}`).join('\n');
}

describe('the start limiter across two worker processes', () => {
  it(`starts at most ${LIMIT} jobs in any ${WINDOW_MS} ms window and completes all ${JOBS}`, async () => {
    const token = mintToken(resources.jwtSecret, `user-${randomUUID()}`);
    const melody = shortMelody();
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const response = await uploadConversion(
        { url: api.url! },
        { token, file: melody, input: { prompt: `limited song number ${i} for two workers` } },
      );
      const id = response.body.data?.convertMelody.conversion?.id;
      if (!id) throw new Error(`${JSON.stringify(response.body)}\n${outputs()}`);
      ids.push(conversionUuidFromId(id)!);
    }
    const started = await Promise.all(
      [1, 2].map((n) =>
        startServiceProcess(cleanup, {
          name: `worker-${n}`,
          mode: 'worker',
          env: { ...resources.env, JOB_START_LIMIT: String(LIMIT), JOB_START_WINDOW_MS: String(WINDOW_MS), WORKER_CONCURRENCY: '3' },
        }),
      ),
    );
    workers.push(...started);

    const em = () => orm.em.fork() as EntityManager;
    await eventually(
      () => `all ${JOBS} completed\n${outputs()}`,
      () => em().count(Conversion, { id: { $in: ids }, status: ConversionStatus.COMPLETED }),
      {
        until: (completed) => completed === JOBS,
        timeoutMs: 240_000,
      },
    );
    const rows = await em().find(Conversion, { id: { $in: ids } }, { orderBy: { startedAt: 'asc' } });
    const starts = rows.map((row) => row.startedAt!.getTime());
    // Any LIMIT + 1 consecutive starts span at least one window (less the stamping slack).
    const spans = starts.slice(LIMIT).map((time, i) => time - starts[i]);
    expect(spans.every((span) => span >= WINDOW_MS - STAMP_SLACK_MS)).toBe(true);
  }, 360_000);
});
