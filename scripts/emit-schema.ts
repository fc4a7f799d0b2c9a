/**
 * `npm run schema:emit`: writes the sorted SDL of the API to schema/schema.graphql (or the path given
 * as the first argument). Commit the result; CI fails when it differs from the code.
 */
import { emitSchema, SCHEMA_FILE } from '../src/graphql/schema.js';

const path = process.argv[2] ?? SCHEMA_FILE;
await emitSchema(path);
console.log(`Wrote ${path}`);
