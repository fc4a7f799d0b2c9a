/** Queries on feedback: one row per conversion, written by upsert so concurrent submissions cannot duplicate it. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Feedback } from './feedback.entity.js';

export interface FeedbackWrite {
  conversionId: string;
  /** 1..5 */
  rating: number;
  /** Undefined keeps the stored comment on an update (null on a first submission); null clears it. */
  comment: string | null | undefined;
  /** Undefined keeps the stored flag on an update (false on a first submission). */
  favorite: boolean | undefined;
}

export class FeedbackRepository {
  constructor(private readonly em: EntityManager) {}

  /** The feedback on each of `conversionIds` that has one, in one query. */
  findByConversions(conversionIds: string[]): Promise<Feedback[]> {
    return this.em.find(Feedback, { conversion: { $in: conversionIds } });
  }

  /**
   * Inserts the conversion's feedback or updates the existing row in one statement
   * (`INSERT … ON CONFLICT (conversion_id) DO UPDATE`), so two racing submissions leave one row.
   */
  async upsert(write: FeedbackWrite, newId: string): Promise<Feedback> {
    const keepComment = write.comment === undefined;
    const keepFavorite = write.favorite === undefined;
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `insert into "feedback" ("id", "conversion_id", "rating", "comment", "favorite") values (?, ?, ?, ?, ?)
       on conflict ("conversion_id") do update set
         "rating" = excluded."rating",
         "comment" = case when ?::boolean then "feedback"."comment" else excluded."comment" end,
         "favorite" = case when ?::boolean then "feedback"."favorite" else excluded."favorite" end,
         "updated_at" = now()
       returning *`,
      [newId, write.conversionId, write.rating, write.comment ?? null, write.favorite ?? false, keepComment, keepFavorite],
    );
    return this.em.map(Feedback, rows[0]);
  }
}
