/**
 * `node dist/scripts/migrate.js`: creates the database if missing, applies the pending migrations and
 * exits (0 when done, 1 on an error). The Kubernetes migrations Job (deploy/k8s/base/migrate-job.yaml)
 * runs it once per release, so API and worker pods start on a migrated database. The pods' own start-up
 * migration (src/platform/database.ts) stays: it then finds nothing pending, and its advisory lock
 * keeps it safe when the Job has not run.
 */
import { loadConfig } from '../src/platform/config.js';
import { initOrm, migrationsApplied } from '../src/platform/database.js';
import { ENTITIES } from '../src/modules/entities.js';

const config = loadConfig();
try {
  const orm = await initOrm(config.databaseUrl, ENTITIES);
  const applied = await migrationsApplied(orm);
  await orm.close(true);
  console.log(applied ? 'Migrations applied.' : 'Migrations still pending after the run.');
  process.exitCode = applied ? 0 : 1;
} catch (error) {
  console.error(`Migration failed: ${(error as Error).message.replace(/\w+:\/\/\S+/g, '<url>')}`);
  process.exitCode = 1;
}
