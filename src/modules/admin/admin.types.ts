/** GraphQL types of the admin mutations. */
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Role } from '../user/user.entity.js';
import { Quota } from '../quota/quota.types.js';

registerEnumType(Role, {
  name: 'Role',
  description:
    'What a caller may do: USER (own conversions), PARTNER (an integration, same rights as USER), ADMIN (stats and admin mutations).',
});

export { Role };

@ObjectType({ description: 'A partner API key (the secret itself is shown only once, in CreateApiKeyPayload.key).' })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The user the key acts as.' })
  userId!: string;

  @Field(() => Role)
  role!: Role;

  @Field()
  name!: string;

  @Field({ description: 'Public start of the key (`mvk_` + 12 hex digits), to recognise it.' })
  prefix!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Set once revoked; a revoked key authenticates nobody.' })
  revokedAt!: Date | null;
}

@ObjectType({ description: 'A new API key.' })
export class CreateApiKeyPayload {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field({
    description:
      'The whole key: send it as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Stored only as a hash; it cannot be shown again.',
  })
  key!: string;
}

@ObjectType({ description: "A user's quota after setUserQuota." })
export class UserQuota {
  @Field()
  userId!: string;

  @Field(() => Quota)
  quota!: Quota;
}
