import { Entity, OneToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Conversion } from '../conversion/conversion.entity.js';

/** A user's rating of one of their completed conversions (one per conversion; resubmitting replaces it). */
@Entity({ tableName: 'feedback' })
export class Feedback {
  [OptionalProps]?: 'id' | 'comment' | 'favorite' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @OneToOne(() => Conversion, { ref: true, owner: true, unique: 'feedback_conversion_unique', deleteRule: 'cascade' })
  conversion!: Ref<Conversion>;

  /** 1..5 */
  @Property({ type: 'smallint' })
  rating!: number;

  @Property({ type: 'text', nullable: true })
  comment: string | null = null;

  @Property({ type: 'boolean' })
  favorite = false;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
