/**
 * The contract between the API, which enqueues, and the worker, which runs conversions. The job
 * carries only the conversion id (the row is the truth) and the trace context of the request that
 * created it.
 */
export const CONVERSION_QUEUE = 'conversions';

export interface ConversionJobData {
  conversionId: string;
  /** W3C trace context of the enqueuing request (traceparent/tracestate), when tracing is on. */
  traceContext?: Record<string, string>;
}

/** Storage keys of a conversion's files. */
export const storageKeys = {
  dir: (conversionId: string) => `conversions/${conversionId}`,
  input: (conversionId: string) => `conversions/${conversionId}/input`,
  output: (conversionId: string, name: string) => `conversions/${conversionId}/${name}`,
};
