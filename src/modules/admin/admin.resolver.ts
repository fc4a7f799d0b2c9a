/** Admin mutations (role ADMIN only): per-user quota limits and partner API keys. Thin over the services. */
import { Arg, Ctx, ID, Int, Mutation, Resolver } from 'type-graphql';
import { requireAdmin, type GraphQLContext } from '../graphql-context.js';
import { BadUserInputError, NotFoundError } from '../../platform/api-errors.js';
import { ApiKeyService, type ApiKeyRecord } from '../api-key/api-key.service.js';
import { QuotaService } from '../quota/quota.service.js';
import { presentQuota } from '../quota/quota.types.js';
import { ApiKey, CreateApiKeyPayload, Role, UserQuota } from './admin.types.js';

function checkUserId(userId: string): void {
  if (userId.length < 1 || userId.length > 128) throw new BadUserInputError('userId must be 1–128 characters.', { field: 'userId' });
}

function checkLimit(value: number | null | undefined, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 0 || value > 10_000_000)
    throw new BadUserInputError(`${field} must be a whole number from 0 to 10000000, or null for the default.`, { field });
  return value;
}

function presentKey(record: ApiKeyRecord): ApiKey {
  return Object.assign(new ApiKey(), record);
}

@Resolver()
export class AdminResolver {
  @Mutation(() => UserQuota, {
    description: "Sets a user's daily and monthly conversion limits (null: back to DAILY_QUOTA / MONTHLY_QUOTA). Admins only.",
  })
  async setUserQuota(
    @Arg('userId', () => String) userId: string,
    @Arg('daily', () => Int, { nullable: true }) daily: number | null,
    @Arg('monthly', () => Int, { nullable: true }) monthly: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<UserQuota> {
    requireAdmin(ctx);
    checkUserId(userId);
    const view = await new QuotaService(ctx.em, ctx.services.config).setLimits(
      userId,
      checkLimit(daily, 'daily'),
      checkLimit(monthly, 'monthly'),
    );
    ctx.logger.info('Quota limits set', { targetUserId: userId, daily, monthly });
    return Object.assign(new UserQuota(), { userId, quota: presentQuota(view) });
  }

  @Mutation(() => CreateApiKeyPayload, {
    description: 'Issues an API key acting as `userId` with `role` (default PARTNER). The key is returned once. Admins only.',
  })
  async createApiKey(
    @Arg('userId', () => String) userId: string,
    @Arg('name', () => String) name: string,
    @Arg('role', () => Role, { nullable: true }) role: Role | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CreateApiKeyPayload> {
    requireAdmin(ctx);
    checkUserId(userId);
    const cleanName = name.trim();
    if (cleanName.length < 1 || cleanName.length > 100) throw new BadUserInputError('name must be 1–100 characters.', { field: 'name' });
    const created = await new ApiKeyService(ctx.em).create(userId, cleanName, role ?? Role.PARTNER);
    ctx.logger.info('API key created', { apiKeyId: created.id, prefix: created.prefix, targetUserId: userId, role: created.role });
    const { key, ...record } = created;
    return Object.assign(new CreateApiKeyPayload(), { apiKey: presentKey(record), key });
  }

  @Mutation(() => ApiKey, { description: 'Revokes an API key at once (idempotent). Admins only.' })
  async revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ApiKey> {
    requireAdmin(ctx);
    const record = await new ApiKeyService(ctx.em).revoke(id);
    if (!record) throw new NotFoundError('No API key with this id.');
    ctx.logger.info('API key revoked', { apiKeyId: record.id, prefix: record.prefix });
    return presentKey(record);
  }
}
