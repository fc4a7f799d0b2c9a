import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Role } from '../../platform/auth.js';

// The roles are the tokens' vocabulary (platform/auth.ts verifies them); the user row stores one.
export { Role };

/** A person or integration the service knows, created on its first authenticated request. */
@Entity({ tableName: 'users' })
export class User {
  [OptionalProps]?: 'role' | 'createdAt';

  /** The JWT subject (or API key owner): an opaque string chosen by the identity provider. */
  @PrimaryKey({ type: 'string', length: 128 })
  id!: string;

  @Enum({ items: () => Role, type: 'string' })
  role: Role = Role.USER;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  constructor(id: string, role: Role = Role.USER) {
    this.id = id;
    this.role = role;
  }
}
