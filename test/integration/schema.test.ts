/**
 * The committed SDL (schema/schema.graphql) is exactly what the code builds: a change to any type or
 * resolver without `npm run schema:emit` (and committing the result) fails here, and so fails CI.
 */
import { readFile } from 'node:fs/promises';
import { buildAppSchema, printAppSchema, SCHEMA_FILE } from '../../src/graphql/schema.js';

describe('schema/schema.graphql', () => {
  it('matches the SDL emitted from the resolvers (run `npm run schema:emit` after changing the API)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    const emitted = printAppSchema(await buildAppSchema());
    expect(committed).toBe(emitted);
  });

  it('is printed in a stable order: building twice gives the same text', async () => {
    expect(printAppSchema(await buildAppSchema())).toBe(printAppSchema(await buildAppSchema()));
  });
});
