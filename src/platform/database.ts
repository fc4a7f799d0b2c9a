/**
 * MikroORM on PostgreSQL. `initOrm(config, overrides)` connects (creating the database when it is
 * missing) and runs pending migrations, so `npm start` works on a fresh PostgreSQL. Migrations are
 * listed explicitly (migrations/index.ts) rather than globbed, so compiled and test runs see the same set.
 * Every request and every job works on its own `orm.em.fork()`, never on the global EntityManager.
 */
import 'reflect-metadata';
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { User } from '../modules/user/user.entity.js';
import { Conversion } from '../modules/conversion/conversion.entity.js';
import { Feedback } from '../modules/feedback/feedback.entity.js';
import { migrationsList } from '../../migrations/index.js';

export const ENTITIES = [User, Conversion, Feedback];

export type Orm = MikroORM;

export function ormOptions(databaseUrl: string, overrides: Partial<Options> = {}): Options {
  return {
    clientUrl: databaseUrl,
    entities: ENTITIES,
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
export async function initOrm(databaseUrl: string, overrides: Partial<Options> = {}): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(databaseUrl, { ...overrides, connect: false }));
  // `create: false`: make the database when missing, but leave its tables to the migrations.
  await orm.schema.ensureDatabase({ create: false });
  // ensureDatabase has already opened a pool when the database existed (it reconnects itself only when
  // it created it); a second connect() would leak that pool until its idle timeout (30 s).
  if (!(await orm.isConnected())) await orm.connect();
  await orm.getMigrator().up();
  return orm;
}

/** True when every known migration has been applied (used by the readiness probe). */
export async function migrationsApplied(orm: Orm): Promise<boolean> {
  const pending = await orm.getMigrator().getPendingMigrations();
  return pending.length === 0;
}
