/**
 * Result reuse, the job handler's side of duplicate detection (the cache itself: result-cache.ts).
 * When the same user converted the same bytes with the same options before and that conversion is
 * still COMPLETED with all its files, the files are copied to this attempt's keys (`report.json`
 * rewritten to name this upload) and the row is completed from them without running the pipeline. A
 * cache entry whose conversion is gone or incomplete is forgotten. Only results computed here and not
 * degraded by a provider fallback are remembered.
 */
import type { Metrics } from '../platform/metrics.js';
import type { Storage } from '../platform/storage.js';
import type { Completion } from '../modules/conversion/conversion-attempts.repository.js';
import { ConversionStatus, type Conversion, type ResultData, type WarningData } from '../modules/conversion/conversion.entity.js';
import { attemptKeys } from './attempt-outputs.js';
import type { Attempt } from './conversion-attempt.js';
import { resultCacheKey, type ResultCache } from './result-cache.js';

export interface ResultReuse {
  /** The cache key of this run's input (hash it before the bytes go to the pipeline's thread), or null with no cache. */
  keyOf(...args: Parameters<typeof resultCacheKey>): string | null;
  /** The completion copied from an identical earlier conversion, or null (a miss, or a hit that could not be reused). */
  reuse(key: string, attempt: Attempt, conversion: Conversion): Promise<Completion | null>;
  /** Remembers a completed conversion under `key` unless its result was reused or degraded. */
  remember(key: string, conversionId: string, completion: Completion): Promise<void>;
}

export function createResultReuse(deps: { cache: ResultCache | null; storage: Storage; metrics?: Metrics }): ResultReuse {
  const { cache, storage } = deps;

  /**
   * Copies the files of COMPLETED conversion `sourceId` to this attempt's keys and returns the row
   * data to complete with, or null when the source is gone, another user's, not COMPLETED, lacks a
   * file, or the copy failed (then nothing of the copy is left).
   */
  async function copyFrom(sourceId: string, attempt: Attempt, conversion: Conversion): Promise<Completion | null> {
    // Only a conversion of the same user: reuse never crosses users, whatever the cache holds.
    const source = await attempt.repository.findStoredResult(sourceId, conversion.user.id);
    if (!source || source.status !== ConversionStatus.COMPLETED || !source.result) return null;
    const entries = Object.entries(source.result.files) as [keyof ResultData['files'], string][];
    try {
      for (const [, key] of entries) if (!(await storage.stat(key))) return null;
      const files = {} as ResultData['files'];
      for (const [field, key] of entries) {
        const name = key.slice(key.lastIndexOf('/') + 1);
        const bytes = await storage.read(key);
        const target = attemptKeys.output(conversion.id, attempt.attemptId, name);
        await storage.write(target, field === 'report' ? reportFor(bytes, conversion.input?.fileName ?? null) : bytes);
        files[field] = target;
      }
      attempt.log.info('Reusing the result of an identical conversion', { reusedFrom: sourceId });
      return { result: { ...source.result, files }, quality: source.quality, warnings: source.warnings, reusedFrom: sourceId };
    } catch (error) {
      attempt.log.warn('Could not reuse the cached result; computing it instead', {
        reusedFrom: sourceId,
        error: (error as Error).message,
      });
      await storage.deletePrefix(attemptKeys.dir(conversion.id, attempt.attemptId)).catch(() => undefined);
      return null;
    }
  }

  return {
    keyOf: (...args) => (cache?.enabled ? resultCacheKey(...args) : null),
    async reuse(key, attempt, conversion) {
      if (!cache) return null;
      const sourceId = await cache.lookup(key);
      const completion = sourceId !== null && sourceId !== conversion.id ? await copyFrom(sourceId, attempt, conversion) : null;
      deps.metrics?.[completion ? 'cacheHits' : 'cacheMisses'].inc({ cache: 'result' });
      if (!completion && sourceId !== null) await cache.forget(key, sourceId);
      return completion;
    },
    async remember(key, conversionId, completion) {
      if (cache && completion.reusedFrom === null && !isDegraded(completion.warnings)) await cache.remember(key, conversionId);
    },
  };
}

/** `report.json` bytes with `input.fileName` set to this conversion's upload name (a reused report names another upload). */
function reportFor(bytes: Uint8Array, fileName: string | null): Uint8Array {
  try {
    const report = JSON.parse(new TextDecoder().decode(bytes)) as { input?: { fileName?: string | null } };
    if (report.input && typeof report.input === 'object') report.input.fileName = fileName;
    return new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`);
  } catch {
    return bytes;
  }
}

/** True for warnings that say a remote provider failed and the embedded engine stood in: such results are not remembered. */
function isDegraded(warnings: WarningData[]): boolean {
  return warnings.some((warning) => /FALLBACK/i.test(warning.code));
}
