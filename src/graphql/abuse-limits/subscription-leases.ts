/**
 * Subscriptions: at most `MAX_SUBSCRIPTIONS_PER_USER` open at once per user across replicas. Each open
 * subscription holds a lease: a member of a Redis sorted set scored by its expiry, renewed every
 * LEASE/3 while open, removed on completion, so a crashed replica's leases lapse within
 * {@link SUBSCRIPTION_LEASE_MS}. Over the limit: error `SUBSCRIPTION_LIMIT` (ws-limits.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger.js';
import { redisKey } from '../../platform/redis.js';

/** Lifetime of a subscription's lease in Redis; renewed every third of it while the subscription is open. */
export const SUBSCRIPTION_LEASE_MS = 30_000;

/** Drops lapsed leases, then adds one if the user holds fewer than the limit (1) or not (0). */
const LEASE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

interface Lease {
  key: string;
  member: string;
}

/**
 * The leases this process holds, by graphql-ws connection context and operation id. Call
 * {@link close} on shutdown.
 */
export class SubscriptionLeases {
  private readonly leases = new Map<object, Map<string, Lease>>();
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly logger: Logger,
  ) {
    this.renewTimer = setInterval(() => void this.renew(), SUBSCRIPTION_LEASE_MS / 3);
    this.renewTimer.unref();
  }

  /** Open subscriptions this process holds leases for. */
  get open(): number {
    let count = 0;
    for (const map of this.leases.values()) count += map.size;
    return count;
  }

  /** Takes a lease for operation `id` of connection `ctx` unless `userId` already holds `limit`. @returns whether it was granted. */
  async acquire(ctx: object, id: string, userId: string, limit: number): Promise<boolean> {
    const lease: Lease = { key: redisKey(this.redisPrefix, 'subscriptions', userId), member: `${randomUUID()}` };
    const now = Date.now();
    const granted = (await this.redis.eval(
      LEASE_SCRIPT,
      1,
      lease.key,
      String(now),
      String(now + SUBSCRIPTION_LEASE_MS),
      String(limit),
      lease.member,
      String(SUBSCRIPTION_LEASE_MS * 2),
    )) as number;
    if (!granted) return false;
    const map = this.leases.get(ctx) ?? new Map<string, Lease>();
    this.leases.set(ctx, map);
    map.set(id, lease);
    return true;
  }

  /** Frees the lease of operation `id` of connection `ctx`, if it holds one. */
  async release(ctx: object, id: string): Promise<void> {
    const map = this.leases.get(ctx);
    const lease = map?.get(id);
    if (!map || !lease) return;
    map.delete(id);
    if (map.size === 0) this.leases.delete(ctx);
    try {
      await this.redis.zrem(lease.key, lease.member);
    } catch (error) {
      this.logger.warn('Could not release a subscription lease (it lapses by itself)', { error: (error as Error).message });
    }
  }

  /** Pushes the expiry of every lease this process holds. */
  private async renew(): Promise<void> {
    if (this.leases.size === 0) return;
    const expiry = Date.now() + SUBSCRIPTION_LEASE_MS;
    const pipeline = this.redis.pipeline();
    for (const map of this.leases.values()) {
      for (const lease of map.values()) {
        pipeline.zadd(lease.key, 'XX', expiry, lease.member);
        pipeline.pexpire(lease.key, SUBSCRIPTION_LEASE_MS * 2);
      }
    }
    try {
      await pipeline.exec();
    } catch (error) {
      this.logger.warn('Could not renew subscription leases', { error: (error as Error).message });
    }
  }

  /** Stops renewing and releases every lease still held. */
  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    const held = [...this.leases.entries()].flatMap(([ctx, map]) => [...map.keys()].map((id) => [ctx, id] as const));
    await Promise.all(held.map(([ctx, id]) => this.release(ctx, id)));
  }
}
