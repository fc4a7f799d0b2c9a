/**
 * The layer rule of eslint.config.js (audio ← platform ← modules ← graphql / worker / cli ← main):
 * an import that points the wrong way fails lint, one that points the right way passes. Linted as
 * text under the path it would have, with the project's own configuration.
 */
import { lintAs } from '../../support/lint-as.js';

/** The messages of the layer rule for `source` placed at `filePath`. */
async function layerErrors(filePath: string, source: string): Promise<string[]> {
  return (await lintAs(filePath, source)).filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

describe('the layer lint rule', () => {
  it.each([
    ['src/platform/fixture.ts', "import { Role } from '../modules/user/user.entity.js';", 'src/platform must not import src/modules'],
    [
      'src/platform/providers/fixture.ts',
      "import { startWorker } from '../../worker/worker.js';",
      'src/platform must not import src/worker',
    ],
    ['src/platform/fixture.ts', "import { createServices } from '../services.js';", 'composition root'],
    [
      'src/modules/conversion/fixture.ts',
      "import { QUEUE_NAMES } from '../../worker/conversion-queues.js';",
      'src/modules must not import src/worker',
    ],
    [
      'src/modules/conversion/fixture.ts',
      "import { createApiServer } from '../../graphql/server.js';",
      'src/modules must not import src/graphql',
    ],
    ['src/worker/fixture.ts', "import { createApiServer } from '../graphql/server.js';", 'src/worker must not import src/graphql'],
    ['src/graphql/fixture.ts', "export { startWorker } from '../worker/worker.js';", 'src/graphql must not import src/worker'],
    ['src/cli/fixture.ts', "import type { RunningWorker } from '../worker/worker.js';", 'src/cli must not import src/worker'],
  ])('rejects in %s: %s', async (filePath, source, expected) => {
    const errors = await layerErrors(filePath, `${source}\nexport const used = 1;\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(expected);
  });

  it.each([
    ['src/platform/fixture.ts', "import { loadConfig } from './config.js';"],
    [
      'src/modules/conversion/fixture.ts',
      "import { storageKeys } from './conversion-job.js';\nimport { redisKey } from '../../platform/redis.js';",
    ],
    ['src/worker/fixture.ts', "import { ENTITIES } from '../modules/entities.js';\nimport { Topic } from '../platform/pubsub.js';"],
    ['src/graphql/fixture.ts', "import { requireUser } from '../modules/graphql-context.js';"],
    ['src/services.ts', "import { startWorker } from './worker/worker.js';\nimport { createApiServer } from './graphql/server.js';"],
  ])('accepts in %s: %s', async (filePath, source) => {
    expect(await layerErrors(filePath, `${source}\nexport const used = 1;\n`)).toEqual([]);
  });
});
