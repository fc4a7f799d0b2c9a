/**
 * The migrations create every column the entities map: after all of them ran on a fresh database,
 * each scalar or owning-relation property of each entity has its column (a field added to an entity
 * without a migration fails here, not in production). MikroORM's full schema diff is not used: it
 * reports differences the migrations make on purpose (check constraints, partial and covering indexes).
 */
import { ReferenceKind } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';
import { Cleanup, createTestDatabase, reserveTestDatabase } from '../support/service-harness.js';
import { initOrm, migrationsApplied, ormOptions, pendingMigrations } from '../../src/platform/database.js';
import { ENTITIES } from '../../src/modules/entities.js';
import { migrationsList } from '../../migrations/index.js';
import { MIGRATION_NAMES } from '../../migrations/names.js';

describe('migrations', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('create every column the entities map', async () => {
    const { orm } = await createTestDatabase(cleanup);
    const rows = await orm.em
      .getConnection()
      .execute<{ table_name: string; column_name: string }[]>(
        `select table_name, column_name from information_schema.columns where table_schema = 'public'`,
      );
    const present = new Set(rows.map((row) => `${row.table_name}.${row.column_name}`));
    const missing: string[] = [];
    let checked = 0;
    for (const meta of Object.values(orm.getMetadata().getAll())) {
      if (meta.embeddable || meta.virtual || !meta.tableName) continue;
      for (const prop of meta.props) {
        if (
          prop.persist === false ||
          !(
            prop.kind === ReferenceKind.SCALAR ||
            prop.kind === ReferenceKind.MANY_TO_ONE ||
            (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner)
          )
        )
          continue;
        for (const column of prop.fieldNames ?? []) {
          checked += 1;
          if (!present.has(`${meta.tableName}.${column}`)) missing.push(`${meta.tableName}.${column} (${meta.className}.${prop.name})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });

  it('are named in names.ts exactly as index.ts lists them, in order', () => {
    expect(MIGRATION_NAMES).toEqual(migrationsList.map((migration) => migration.name));
  });

  it('are all pending on an empty database, none after start-up, and one is found pending again when its row goes', async () => {
    const { url } = reserveTestDatabase(cleanup);
    // An empty database (created, no table): what a first deployment meets.
    const bare = await MikroORM.init(ormOptions(url, ENTITIES, { connect: false }));
    await bare.schema.ensureDatabase({ create: false });
    expect(await pendingMigrations(bare)).toEqual([...MIGRATION_NAMES]);
    await bare.close(true);

    const orm = await initOrm(url, ENTITIES);
    cleanup.add(() => orm.close(true));
    expect(await pendingMigrations(orm)).toEqual([]);
    expect(await migrationsApplied(orm)).toBe(true);

    const last = MIGRATION_NAMES[MIGRATION_NAMES.length - 1]!;
    await orm.em.getConnection().execute('delete from mikro_orm_migrations where name = ?', [last]);
    expect(await pendingMigrations(orm)).toEqual([last]);
    expect(await migrationsApplied(orm)).toBe(false);
  });

  it('start-up on a migrated database does not run the migrator again (its table is left as it was)', async () => {
    const { orm, url } = await createTestDatabase(cleanup);
    const before = await orm.em
      .getConnection()
      .execute<{ id: number; name: string }[]>('select id, name from mikro_orm_migrations order by id');
    expect(before.map((row) => row.name)).toEqual([...MIGRATION_NAMES]);
    const again = await initOrm(url, ENTITIES);
    cleanup.add(() => again.close(true));
    const after = await again.em
      .getConnection()
      .execute<{ id: number; name: string }[]>('select id, name from mikro_orm_migrations order by id');
    expect(after).toEqual(before);
  });
});
