/**
 * executePrepared (src/platform/database.ts), the request path's prepared reads: the same rows as
 * `em.execute` on every pooled connection, again and again (the statement is prepared once per
 * connection), and inside a transaction on the transaction's own connection.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { MikroORM } from '@mikro-orm/postgresql';
import { executePrepared, ormOptions } from '../../src/platform/database.js';
import { ENTITIES } from '../../src/modules/entities.js';
import { Cleanup, createTestDatabase } from '../support/service-harness.js';

const SQL = 'select "n", now() as "at", ? :: text as "label" from generate_series(1, ?::int) as "n" where "n" > ? order by "n"';

describe('executePrepared', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('answers as em.execute does, on every pooled connection and every time, for each set of values', async () => {
    const { orm } = await createTestDatabase(cleanup);
    const em = orm.em.fork() as EntityManager;
    // More calls at once than the pool has connections: every connection prepares it and reuses it.
    const calls = Array.from({ length: 40 }, (_, index) => [`call ${index}`, 5 + (index % 3), index % 2] as const);
    const answers = await Promise.all(calls.map((params) => executePrepared<Record<string, unknown>>(em, 'test-series', SQL, [...params])));
    for (const [index, params] of calls.entries()) {
      const expected = await em.execute<Record<string, unknown>[]>(SQL, [...params]);
      const strip = (rows: Record<string, unknown>[]) => rows.map(({ at, ...rest }) => ({ ...rest, atType: typeof at }));
      expect(strip(answers[index]!)).toEqual(strip(expected));
      expect(answers[index]!.length).toBe(params[1] - params[2]);
    }
  });

  it('runs inside a transaction on its connection: it sees what the transaction wrote before commit', async () => {
    const { orm } = await createTestDatabase(cleanup);
    await orm.em.getConnection().execute('create table "prepared_probe" ("id" int primary key)');
    const read = 'select count(*)::int as "count" from "prepared_probe" where "id" = ?';
    await orm.em.fork().transactional(async (em) => {
      await em.execute('insert into "prepared_probe" ("id") values (1)');
      expect(await executePrepared(em as EntityManager, 'test-probe', read, [1])).toEqual([{ count: 1 }]);
      // Outside the transaction, before it commits, the row is not there yet.
      expect(await executePrepared(orm.em.fork() as EntityManager, 'test-probe', read, [1])).toEqual([{ count: 0 }]);
    });
    expect(await executePrepared(orm.em.fork() as EntityManager, 'test-probe', read, [1])).toEqual([{ count: 1 }]);
  });

  it('still answers when a migration changed the columns a statement prepared on the connection returns', async () => {
    const { url } = await createTestDatabase(cleanup);
    // One connection, so the second call meets the statement the first one prepared (the database is
    // already migrated; initOrm's migration lock would need a second connection).
    const orm = await MikroORM.init(ormOptions(url, ENTITIES, { pool: { min: 1, max: 1 } }));
    cleanup.add(() => orm.close(true));
    const em = () => orm.em.fork() as EntityManager;
    await em().execute('create table "prepared_columns" ("a" int)');
    await em().execute('insert into "prepared_columns" ("a") values (1)');
    const star = 'select * from "prepared_columns" where "a" = ?';
    expect(await executePrepared(em(), 'test-star', star, [1])).toEqual([{ a: 1 }]);
    await em().execute('alter table "prepared_columns" add column "b" int not null default 2');
    expect(await executePrepared(em(), 'test-star', star, [1])).toEqual([{ a: 1, b: 2 }]);
  });
});
