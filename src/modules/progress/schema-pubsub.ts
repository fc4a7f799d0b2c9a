/**
 * The `pubSub` type-graphql's `buildSchema` insists on once a schema has a subscription. Ours is never
 * used: `conversionProgress` declares its own `subscribe` (progress.service.ts), which listens on the
 * process's RedisPubSub taken from the operation's context, so the schema itself holds no connection
 * and can be built (and emitted) without Redis. Using this one is a programming error, said loudly.
 */
import type { PubSub } from 'type-graphql';

function unused(): never {
  throw new Error(
    "Subscriptions subscribe through the context's RedisPubSub (see src/modules/progress/progress.service.ts), not the schema's pubSub.",
  );
}

export const SCHEMA_PUBSUB: PubSub = { publish: unused, subscribe: unused };
