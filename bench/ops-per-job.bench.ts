/**
 * `npm run bench:ops`: what one conversion costs the shared parts, for the capacity model of
 * docs/deploy.md: Redis commands (INFO commandstats), PostgreSQL transactions and row writes
 * (pg_stat_database of the run's own database) and bytes stored (the storage directory).
 *
 * Set-up (thrown away at the end): a PRIVATE redis-server on a free port (so no other process's
 * commands are counted), a database `mv_test_<random>`, a storage directory, one API and one worker
 * process (`dist/`, WORKER_CONCURRENCY 2, or `--concurrency N`). First an idle window (IDLE_MS) measures the background
 * traffic (stalled checks, lock renewals, reconciler, stats ticker); then CONVERSIONS short melodies
 * (~6 s) are uploaded and converted. Per job = (run − idle rate × run time) / CONVERSIONS.
 * `--conversions N` changes the count; `--json` prints the raw figures.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import knex from 'knex';
import { Cleanup, createTestResources, mintToken } from '../test/support/service-harness.js';
import { startApiProcess, startServiceProcess } from '../test/support/service-processes.js';
import { startPrivateRedis } from '../test/support/private-redis.js';
import { uploadConversion } from '../test/support/api-harness.js';
import { shortMelody } from '../test/support/queue-harness.js';
import { eventually } from '../test/support/eventually.js';

const argv = process.argv.slice(2);
const CONVERSIONS = (argv.includes('--conversions') && Number(argv[argv.indexOf('--conversions') + 1])) || 10;
/** The worker's WORKER_CONCURRENCY (`--concurrency N`), default 2. */
const CONCURRENCY = (argv.includes('--concurrency') && Number(argv[argv.indexOf('--concurrency') + 1])) || 2;
const IDLE_MS = 20_000;

async function commandCalls(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}
const total = (calls: Record<string, number>) => Object.values(calls).reduce((sum, n) => sum + n, 0);

async function bytesUnder(dir: string): Promise<number> {
  let sum = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) sum += (await stat(join(entry.parentPath, entry.name))).size;
  return sum;
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const privateRedis = await startPrivateRedis(cleanup);
    const resources = await createTestResources(cleanup, { storageLabel: 'mv-bench-ops-' });
    const env = { ...resources.env, REDIS_URL: privateRedis.url, DAILY_QUOTA: '1000', JOB_START_LIMIT: '0' };
    const api = await startApiProcess(cleanup, { name: 'api', env, readyTimeoutMs: 60_000 });
    await startServiceProcess(cleanup, {
      name: 'worker',
      mode: 'worker',
      env: { ...env, WORKER_CONCURRENCY: String(CONCURRENCY) },
      readyTimeoutMs: 60_000,
    });
    const redis = new Redis(privateRedis.url);
    cleanup.add(() => redis.quit());
    const db = knex({ client: 'pg', connection: resources.databaseUrl });
    cleanup.add(() => db.destroy());
    const pgStats = async () => {
      await db.raw('select pg_stat_clear_snapshot()');
      const { rows } = await db.raw(
        `select xact_commit::bigint as commits, tup_inserted::bigint as inserted, tup_updated::bigint as updated, tup_deleted::bigint as deleted
         from pg_stat_database where datname = current_database()`,
      );
      return Object.fromEntries(Object.entries(rows[0] as Record<string, string>).map(([k, v]) => [k, Number(v)]));
    };
    // PostgreSQL publishes a backend's counters when it goes idle (at most every second or so): settle first.
    const settle = () => new Promise((resolve) => setTimeout(resolve, 2000));

    await settle();
    const idleStart = { at: Date.now(), redis: total(await commandCalls(redis)), pg: await pgStats() };
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idleEnd = { at: Date.now(), redis: total(await commandCalls(redis)), pg: await pgStats() };
    const idleSeconds = (idleEnd.at - idleStart.at) / 1000;

    const runStart = {
      at: Date.now(),
      calls: await commandCalls(redis),
      pg: await pgStats(),
      bytes: await bytesUnder(resources.storageDir),
    };
    const token = mintToken(resources.jwtSecret, `bench-${randomUUID()}`);
    for (let i = 0; i < CONVERSIONS; i++) {
      const response = await uploadConversion(
        { url: api.url! },
        { token, file: shortMelody(), input: { prompt: `capacity bench song number ${i}`, genre: 'pop', mood: 'happy' } },
      );
      if (!response.body.data?.convertMelody.conversion?.id) throw new Error(JSON.stringify(response.body));
    }
    await eventually(
      'every conversion completed',
      async () => Number((await db('conversions').where({ status: 'COMPLETED' }).count({ n: '*' }))[0].n),
      {
        until: (done) => done === CONVERSIONS,
        timeoutMs: 60_000 * CONVERSIONS,
        intervalMs: 500,
      },
    );
    await settle();
    const runEnd = { at: Date.now(), calls: await commandCalls(redis), pg: await pgStats(), bytes: await bytesUnder(resources.storageDir) };
    const runSeconds = (runEnd.at - runStart.at) / 1000;

    const perJob = (run: number, idle: number) => (run - (idle / idleSeconds) * runSeconds) / CONVERSIONS;
    const byCommand = Object.fromEntries(
      Object.entries(runEnd.calls)
        .map(([name, n]) => [name, n - (runStart.calls[name] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1]),
    );
    const figures = {
      conversions: CONVERSIONS,
      concurrency: CONCURRENCY,
      jobsPerMinute: (CONVERSIONS / runSeconds) * 60,
      runSeconds,
      idle: {
        seconds: idleSeconds,
        redisCommandsPerSecond: (idleEnd.redis - idleStart.redis) / idleSeconds,
        pgCommitsPerSecond: (idleEnd.pg.commits - idleStart.pg.commits) / idleSeconds,
      },
      perJob: {
        redisCommands: perJob(total(runEnd.calls) - total(runStart.calls), idleEnd.redis - idleStart.redis),
        pgCommits: perJob(runEnd.pg.commits - runStart.pg.commits, idleEnd.pg.commits - idleStart.pg.commits),
        pgRowsInserted: perJob(runEnd.pg.inserted - runStart.pg.inserted, idleEnd.pg.inserted - idleStart.pg.inserted),
        pgRowsUpdated: perJob(runEnd.pg.updated - runStart.pg.updated, idleEnd.pg.updated - idleStart.pg.updated),
        pgRowsDeleted: perJob(runEnd.pg.deleted - runStart.pg.deleted, idleEnd.pg.deleted - idleStart.pg.deleted),
        storedBytes: (runEnd.bytes - runStart.bytes) / CONVERSIONS,
      },
      redisCommandsInRun: byCommand,
    };
    if (argv.includes('--json')) console.log(JSON.stringify(figures, null, 2));
    else {
      console.log(
        `${CONVERSIONS} conversions in ${runSeconds.toFixed(1)} s at WORKER_CONCURRENCY ${CONCURRENCY} (${figures.jobsPerMinute.toFixed(1)} jobs/min); idle window ${idleSeconds.toFixed(1)} s`,
      );
      console.log(
        `idle: ${figures.idle.redisCommandsPerSecond.toFixed(1)} Redis commands/s, ${figures.idle.pgCommitsPerSecond.toFixed(2)} PostgreSQL commits/s`,
      );
      console.log(
        'per job:',
        Object.entries(figures.perJob)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', '),
      );
      console.log('Redis commands in the run, by command:', JSON.stringify(byCommand));
    }
  } finally {
    await cleanup.run().catch((error: Error) => console.error(`cleanup: ${error.message}`));
  }
}

await main();
