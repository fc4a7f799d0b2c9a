/**
 * The executable schema, built code-first by type-graphql from the resolver classes in
 * {@link RESOLVERS}, and its SDL (`schema/schema.graphql`, committed; `npm run schema:emit` rewrites
 * it, and test/integration/schema.test.ts fails when it drifts from the code).
 */
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { buildSchema, type NonEmptyArray } from 'type-graphql';
import { ConversionResolver } from '../modules/conversion/conversion.resolver.js';
import { ConversionQueryResolver } from '../modules/conversion/conversion-query.resolver.js';
import { ConversionCancelResolver } from '../modules/conversion/conversion-cancel.resolver.js';
import { FeedbackResolver } from '../modules/feedback/feedback.resolver.js';
import { ProgressResolver } from '../modules/progress/progress.resolver.js';
import { QuotaResolver } from '../modules/quota/quota.resolver.js';
import { StatsResolver } from '../modules/stats/stats.resolver.js';
import { AnalyticsResolver } from '../modules/stats/analytics.resolver.js';
import { AdminResolver } from '../modules/admin/admin.resolver.js';
import { DeadLetterResolver } from '../modules/admin/dead-letter.resolver.js';
import { SCHEMA_PUBSUB } from '../modules/progress/schema-pubsub.js';

/** Every resolver class of the API. Add new ones here (order does not matter: the SDL is sorted). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [
  ConversionResolver,
  ConversionQueryResolver,
  ConversionCancelResolver,
  FeedbackResolver,
  ProgressResolver,
  QuotaResolver,
  StatsResolver,
  AnalyticsResolver,
  AdminResolver,
  DeadLetterResolver,
];

/** Path of the committed SDL, relative to the repository root. */
export const SCHEMA_FILE = 'schema/schema.graphql';

const SDL_HEADER = '# Generated from the type-graphql resolvers by `npm run schema:emit`. Do not edit: change the code and emit again.\n\n';

/**
 * Builds the schema. `Date` fields are the `DateTime` scalar (RFC 3339 strings in UTC). Input checks
 * are done by the services (class-validator is off: `validate: false`), so problems come back as
 * `userErrors` with stable codes.
 */
export async function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: false,
    emitSchemaFile: false,
    // Required by type-graphql for any subscription; ours subscribe through the context (see the module).
    pubSub: SCHEMA_PUBSUB,
  });
}

/** The SDL with types and fields sorted by name, so it changes only when the API does. */
export function printAppSchema(schema: GraphQLSchema): string {
  return `${SDL_HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** Builds the schema and writes its sorted SDL to `path`. @returns the SDL written. */
export async function emitSchema(path: string = SCHEMA_FILE): Promise<string> {
  const sdl = printAppSchema(await buildAppSchema());
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, sdl, 'utf8');
  return sdl;
}
