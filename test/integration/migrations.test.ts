/**
 * The migrations create every column the entities map: after all of them ran on a fresh database,
 * each scalar or owning-relation property of each entity has its column (a field added to an entity
 * without a migration fails here, not in production). MikroORM's full schema diff is not used: it
 * reports differences the migrations make on purpose (check constraints, partial and covering indexes).
 */
import { ReferenceKind } from '@mikro-orm/core';
import { Cleanup, createTestDatabase } from '../support/service-harness.js';

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
});
