/**
 * MikroORM on PostgreSQL. `initOrm(databaseUrl, entities, overrides)` connects (creating the database when it is
 * missing) and runs pending migrations, so `npm start` works on a fresh PostgreSQL. Migrations are
 * listed explicitly (migrations/index.ts) rather than globbed, so compiled and test runs see the same set.
 * Every request and every job works on its own `orm.em.fork()`, never on the global EntityManager.
 * The entities are passed in (src/modules/entities.ts): the platform does not know the modules.
 */
import 'reflect-metadata';
import { MikroORM, type Options, type EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import type { EntityClass } from '@mikro-orm/core';
import { MIGRATION_NAMES } from '../../migrations/names.js';

export type Orm = MikroORM;

/** The ORM's entities, as the modules list them. */
export type Entities = EntityClass<object>[];

/** Where MikroORM's migrator records applied migrations (its default name, stated so we can read it). */
const MIGRATIONS_TABLE = 'mikro_orm_migrations';

export function ormOptions(databaseUrl: string, entities: Entities, overrides: Partial<Options> = {}): Options {
  return {
    clientUrl: databaseUrl,
    entities,
    // The migrator (and its list) is registered only when a migration is pending (`migrate`).
    migrations: { tableName: MIGRATIONS_TABLE, transactional: true, allOrNothing: true, snapshot: false, silent: true },
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
  // Nothing pending (every start but a deployment's first): done, without loading the migrator.
  if ((await pendingMigrations(orm)).length > 0) await migrate(orm);
  return orm;
}

/**
 * The known migrations the database has not applied, from the migrator's table (all of them when the
 * table does not exist yet). One query; the migrator itself is not loaded.
 */
export async function pendingMigrations(orm: Orm): Promise<string[]> {
  let rows: Array<{ name: string }>;
  try {
    rows = await orm.em.getConnection().execute<Array<{ name: string }>>(`select name from ${MIGRATIONS_TABLE}`);
  } catch (error) {
    // 42P01 undefined_table: a database no migration has touched.
    if ((error as { code?: string }).code === '42P01') return [...MIGRATION_NAMES];
    throw error;
  }
  const applied = new Set(rows.map((row) => row.name));
  return MIGRATION_NAMES.filter((name) => !applied.has(name));
}

/**
 * Applies the pending migrations under an advisory lock: several API and worker processes may start at
 * once; one migrates, the others wait and then find nothing pending. The lock is transaction-scoped
 * (released at commit, or if the process dies). MikroORM's migrator and the migration classes are
 * loaded here, on first need.
 */
async function migrate(orm: Orm): Promise<void> {
  const [{ Migrator }, { migrationsList }] = await Promise.all([import('@mikro-orm/migrations'), import('../../migrations/index.js')]);
  orm.config.set('migrations', { ...orm.config.get('migrations'), migrationsList });
  Migrator.register(orm);
  await orm.em.fork().transactional(async (em) => {
    await em.execute('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    await orm.getMigrator().up();
  });
}

/** True when every known migration has been applied (used by the readiness probe). */
export async function migrationsApplied(orm: Orm): Promise<boolean> {
  return (await pendingMigrations(orm)).length === 0;
}

/** The part of a node-postgres client {@link executePrepared} uses. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** `?` placeholders (em.execute's, knex's) as PostgreSQL's `$1`, `$2`, …; the SQL must have no other `?`. */
const positional = new Map<string, string>();
function toPositional(sql: string): string {
  let text = positional.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    positional.set(sql, text);
  }
  return text;
}

/**
 * `em.execute(sql, params)` for the hot read queries of the request path, as a named prepared
 * statement: PostgreSQL parses and plans it once per pooled connection instead of once per request
 * (a quota read spent ~0.1-0.3 ms of the database's CPU planning a 0.04 ms query, on the cores the API
 * shares with it), and the rows come without knex's query builder and runner around the driver. The
 * connection is taken from and given back to the ORM's own pool (knex's `acquireConnection` /
 * `releaseConnection`; a connection that fails is marked for disposal by knex's own listeners, as for
 * any query). Inside a transaction it is exactly `em.execute`, on the transaction's connection.
 * `name` must be unique per `sql` text. Rows come as node-postgres gives them, with the ORM's type
 * parsers (timestamps as text), as from `em.execute`.
 */
export async function executePrepared<T>(em: SqlEntityManager, name: string, sql: string, params: unknown[]): Promise<T[]> {
  if (em.isInTransaction()) return em.execute<T[]>(sql, params);
  const client = em.getKnex().client as { acquireConnection(): Promise<PgClient>; releaseConnection(connection: PgClient): Promise<void> };
  const connection = await client.acquireConnection();
  try {
    return (await connection.query({ name, text: toPositional(sql), values: params })).rows as T[];
  } catch (error) {
    // 0A000 "cached plan must not change result type": a migration changed the columns a statement
    // prepared earlier on this connection returns (`select *` during a rolling deploy). Answered by the
    // plain path; the statements of the request path list their columns, so this stays a safety net.
    if ((error as { code?: string }).code !== '0A000') throw error;
  } finally {
    await client.releaseConnection(connection);
  }
  return em.execute<T[]>(sql, params);
}
