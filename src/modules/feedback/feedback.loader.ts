/**
 * `Conversion.feedback` for every conversion of a list in one query: graphql-js resolves the field for
 * all the rows of a `history` page in the same tick, and DataLoader collects those calls into one
 * `feedback.conversion_id in (…)` query instead of one query per row. Batching only, no caching
 * (`cache: false`): a graphql-ws operation's context lives as long as its subscription, and a cached
 * rating would go stale.
 */
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Feedback } from './feedback.entity.js';
import { FeedbackRepository } from './feedback.repository.js';

const loaders = new WeakMap<object, DataLoader<string, Feedback | null>>();

/** The feedback loader of one operation (`owner`: its GraphQL context), made on first use and dropped with it. */
export function feedbackLoaderFor(owner: object, em: EntityManager): DataLoader<string, Feedback | null> {
  let loader = loaders.get(owner);
  if (!loader) {
    const repository = new FeedbackRepository(em);
    loader = new DataLoader<string, Feedback | null>(
      async (conversionIds) => {
        const rows = await repository.findByConversions([...conversionIds]);
        const byConversion = new Map(rows.map((row) => [row.conversion.id, row]));
        return conversionIds.map((id) => byConversion.get(id) ?? null);
      },
      { cache: false },
    );
    loaders.set(owner, loader);
  }
  return loader;
}
