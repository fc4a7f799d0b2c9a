/**
 * The composition root: the one way to make a process's {@link Services}. It stands above every layer
 * (audio ← platform ← modules ← graphql / worker ← main), so it can hand the platform what the
 * platform must not import: the modules' entities and the worker's Bee-Queue producer queues behind the
 * queue port. The API, the worker, the CLI tools and the tests build their processes from this.
 */
import type { Config } from './platform/config.js';
import type { Logger } from './platform/logger.js';
import type { Metrics } from './platform/metrics.js';
import { openServices, type ProcessRole, type Services } from './platform/services.js';
import { ENTITIES } from './modules/entities.js';
import { beeQueueSettings } from './worker/bee-queue.adapter.js';
import { createConversionQueues } from './worker/conversion-queues.js';

export type { ProcessRole, Services } from './platform/services.js';

/**
 * Builds every shared resource for a process of `role` (see src/platform/services.ts); the queues are
 * producers only (the worker makes its own processing queues). On failure, whatever was already
 * opened is closed again before the error is rethrown.
 */
export function createServices(config: Config, options: { role: ProcessRole; logger?: Logger; metrics?: Metrics }): Promise<Services> {
  return openServices(config, {
    ...options,
    entities: ENTITIES,
    openQueue: (queueConfig, onError) => createConversionQueues(beeQueueSettings(queueConfig, 'producer'), onError),
  });
}
