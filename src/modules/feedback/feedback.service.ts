/**
 * submitFeedback: a rating (1–5), an optional comment (≤ 2,000 characters) and an optional favourite
 * flag on one of the caller's own COMPLETED conversions. Resubmitting updates the one row: the rating
 * always, the comment and the flag only when given (null clears the comment).
 *
 * Codes: INVALID_RATING (field `rating`), COMMENT_TOO_LONG (`comment`), NOT_FOUND (`conversionId`;
 * missing, malformed and someone else's id alike), NOT_COMPLETED (`conversionId`).
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { conversionUuidFromId } from '../node/global-id.js';
import { ConversionStatus } from '../conversion/conversion.entity.js';
import { ConversionQueryRepository } from '../conversion/conversion-query.repository.js';
import type { Feedback } from './feedback.entity.js';
import { FeedbackRepository } from './feedback.repository.js';

/** Longest comment, in characters (Unicode code points, as PostgreSQL's `char_length` counts them). */
export const MAX_COMMENT_CHARS = 2000;

export type FeedbackErrorCode = 'NOT_FOUND' | 'NOT_COMPLETED' | 'INVALID_RATING' | 'COMMENT_TOO_LONG';

export interface FeedbackProblem {
  code: FeedbackErrorCode;
  field: string;
  message: string;
}

export interface SubmitFeedbackCommand {
  /** Global id (or raw UUID) of the conversion. */
  conversionId: string;
  rating: number;
  comment?: string | null;
  favorite?: boolean | null;
}

export type SubmitFeedbackOutcome = { ok: true; feedback: Feedback } | { ok: false; problems: FeedbackProblem[] };

export class FeedbackService {
  private readonly feedback: FeedbackRepository;
  private readonly conversions: ConversionQueryRepository;

  constructor(em: EntityManager) {
    this.feedback = new FeedbackRepository(em);
    this.conversions = new ConversionQueryRepository(em);
  }

  async submit(userId: string, command: SubmitFeedbackCommand): Promise<SubmitFeedbackOutcome> {
    const problems: FeedbackProblem[] = [];
    if (!Number.isInteger(command.rating) || command.rating < 1 || command.rating > 5) {
      problems.push({ code: 'INVALID_RATING', field: 'rating', message: 'The rating must be a whole number from 1 to 5.' });
    }
    // Whitespace-only comments are no comment.
    const comment = command.comment == null ? command.comment : command.comment.trim() === '' ? null : command.comment;
    if (comment && [...comment].length > MAX_COMMENT_CHARS) {
      problems.push({
        code: 'COMMENT_TOO_LONG',
        field: 'comment',
        message: `The comment may be at most ${MAX_COMMENT_CHARS} characters long.`,
      });
    }
    if (problems.length > 0) return { ok: false, problems };

    const uuid = conversionUuidFromId(command.conversionId);
    const conversion = uuid ? await this.conversions.findOwned(userId, uuid) : null;
    if (!conversion) return { ok: false, problems: [{ code: 'NOT_FOUND', field: 'conversionId', message: 'No conversion with this id.' }] };
    if (conversion.status !== ConversionStatus.COMPLETED) {
      return {
        ok: false,
        problems: [{ code: 'NOT_COMPLETED', field: 'conversionId', message: 'Only completed conversions can be rated.' }],
      };
    }
    const feedback = await this.feedback.upsert(
      { conversionId: conversion.id, rating: command.rating, comment, favorite: command.favorite ?? undefined },
      randomUUID(),
    );
    return { ok: true, feedback };
  }
}
