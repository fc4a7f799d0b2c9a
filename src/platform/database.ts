/**
 * MikroORM on PostgreSQL. `initOrm(databaseUrl, entities, overrides)` connects (creating the database when it is
 * missing) and runs pending migrations, so `npm start` works on a fresh PostgreSQL. Migrations are
 * listed explicitly (migrations/index.ts) rather than globbed, so compiled and test runs see the same set.
 * Every request and every job works on its own `orm.em.fork()`, never on the global EntityManager.
 * The entities are passed in (src/modules/entities.ts): the platform does not know the modules.
 */
import 'reflect-metadata';
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import type { EntityClass } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { migrationsList } from '../../migrations/index.js';

export type Orm = MikroORM;

/** The ORM's entities, as the modules list them. */
export type Entities = EntityClass<object>[];

export function ormOptions(databaseUrl: string, entities: Entities, overrides: Partial<Options> = {}): Options {
  return {
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    // Fail on the first query rather than at start-up when the database is briefly away.
    connect: true,
    debug: false,
    allowGlobalContext: false,
    pool: { min: 0, max: 10 },
    ...overrides,
  };
}

/** Connects, creates the database if needed and applies pending migrations. */
/** Any fixed key: every process of this service takes the same advisory lock around migrations. */
const MIGRATION_LOCK_KEY = 7_352_001;

export async function initOrm(databaseUrl: string, entities: Entities, overrides: Partial<Options> = {}): Promise<Orm> {
  let orm = await MikroORM.init(ormOptions(databaseUrl, entities, { ...overrides, connect: false }));
  // `create: false`: make the database when missing, but leave its tables to the migrations. Two
  // processes starting together may both try to create it; the loser gets "already exists" (42P04,
  // or 23505 from the catalog index) and simply starts again against the database the winner made.
  try {
    await orm.schema.ensureDatabase({ create: false });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
    await orm.close(true);
    orm = await MikroORM.init(ormOptions(databaseUrl, entities, { ...overrides, connect: false }));
    await orm.schema.ensureDatabase({ create: false });
  }
  // ensureDatabase has already opened a pool when the database existed (it reconnects itself only when
  // it created it); a second connect() would leak that pool until its idle timeout (30 s).
  if (!(await orm.isConnected())) await orm.connect();
  // Several API and worker processes may start at once: one migrates, the others wait and then find
  // nothing pending. The lock is transaction-scoped (released at commit, or if the process dies).
  await orm.em.fork().transactional(async (em) => {
    await em.execute('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    await orm.getMigrator().up();
  });
  return orm;
}

/** True when every known migration has been applied (used by the readiness probe). */
export async function migrationsApplied(orm: Orm): Promise<boolean> {
  const pending = await orm.getMigrator().getPendingMigrations();
  return pending.length === 0;
}
