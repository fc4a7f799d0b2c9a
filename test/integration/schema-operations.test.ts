/**
 * The example client operations (schema/operations/*.graphql, compiled by `npm run codegen` into the
 * typed documents of src/generated/graphql.ts) stay valid against the schema the code builds: a
 * resolver change that breaks a documented client operation fails here, not only in codegen:check
 * (which checks them against the committed SDL).
 */
import { Kind, validate, type DocumentNode } from 'graphql';
import { buildAppSchema } from '../../src/graphql/schema.js';
import * as generated from '../../src/generated/graphql.js';

const operations = Object.entries(generated).filter(
  ([name, value]) => name.endsWith('Document') && typeof value === 'object' && (value as DocumentNode).kind === Kind.DOCUMENT,
) as Array<[string, DocumentNode]>;

describe('generated client documents', () => {
  it('cover every kind of example operation (mutations, queries and the progress subscription)', () => {
    expect(operations.map(([name]) => name).sort()).toEqual([
      'AnalyticsDocument',
      'CancelConversionDocument',
      'ConversionDocument',
      'ConversionProgressDocument',
      'ConvertMelodyDocument',
      'DeadLettersDocument',
      'HistoryDocument',
      'NodeDocument',
      'QuotaDocument',
      'RequeueDeadLetterDocument',
      'ServiceStatsUpdatedDocument',
      'StatsDocument',
      'SubmitFeedbackDocument',
      'UserStatsDocument',
    ]);
  });

  it.each(operations)('%s validates against the schema built from the resolvers', async (_name, document) => {
    const schema = await buildAppSchema();
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
  });
});
