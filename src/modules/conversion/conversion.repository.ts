/**
 * The write-side queries on conversions: find by idempotency key, create (with the owner's user row)
 * in one transaction, and delete again when the job could not be queued.
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CleanRequest } from '../../audio/validate/request.js';
import { Conversion, ConversionPriority, type InputMetadata, type WarningData } from './conversion.entity.js';
import { User, type Role } from '../user/user.entity.js';
import { QuotaRepository, type QuotaCharge } from '../quota/quota.repository.js';

/** A sanitised request as a row to insert: `seed` is null when the caller gave none (the default applies). */
export type NewConversion = Omit<CleanRequest, 'seed'> & {
  seed: number | null;
  id: string;
  userId: string;
  role: Role;
  idempotencyKey: string | null;
  inputKey: string;
  input: InputMetadata;
  warnings: WarningData[];
  /** Which queue the job waits in; default NORMAL. */
  priority?: ConversionPriority;
  /** The quota periods this conversion paid for (recorded in the same transaction as the row). */
  quota?: QuotaCharge | null;
};

/** The (user, idempotency key) pair is taken: another request with the same key won the race. */
export class IdempotencyConflictError extends Error {
  constructor() {
    super('A conversion with this idempotency key already exists.');
  }
}

export class ConversionRepository {
  constructor(private readonly em: EntityManager) {}

  /** The user's conversion created with `idempotencyKey`, or null. */
  findByIdempotencyKey(userId: string, idempotencyKey: string): Promise<Conversion | null> {
    return this.em.findOne(Conversion, { user: userId, idempotencyKey });
  }

  /**
   * Inserts the user row when missing and the PENDING conversion, in one transaction.
   * @throws IdempotencyConflictError when (user, idempotencyKey) already exists.
   */
  async create(data: NewConversion): Promise<Conversion> {
    try {
      return await this.em.transactional(async (em) => {
        await em.createQueryBuilder(User).insert({ id: data.userId, role: data.role }).onConflict('id').ignore().execute();
        const conversion = em.create(Conversion, {
          id: data.id,
          user: data.userId,
          idempotencyKey: data.idempotencyKey,
          prompt: data.prompt,
          genre: data.genre,
          mood: data.mood,
          lyrics: data.lyrics,
          voice: data.voice,
          seed: data.seed,
          inputKey: data.inputKey,
          input: data.input,
          warnings: data.warnings,
          priority: data.priority ?? ConversionPriority.NORMAL,
        });
        em.persist(conversion);
        if (data.quota) {
          await em.flush();
          await new QuotaRepository(em).attach(data.id, data.quota);
        }
        return conversion;
      });
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException && data.idempotencyKey !== null && /idempotency/i.test(error.message)) {
        throw new IdempotencyConflictError();
      }
      throw error;
    }
  }

  /** Removes a conversion row (used only when its job could not be queued). */
  async delete(id: string): Promise<void> {
    await this.em.fork().nativeDelete(Conversion, { id });
  }
}
