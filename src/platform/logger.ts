/**
 * winston logger: JSON lines in production, readable lines in development. Child loggers carry the
 * request id or conversion id on every line (`logger.child({ requestId })`).
 *
 * Every line passes {@link redactSecrets} first: credentials never reach a log, whoever logs them.
 */
import winston from 'winston';
import type { Config } from './config.js';

export type Logger = winston.Logger;

/** Field names whose values are always replaced (any depth, case-insensitive). */
const SECRET_KEY = /authorization|token|secret|password|passwd|cookie|api[-_]?key|signature/i;
/** A JWT (three base64url parts, the first an encoded JSON header). */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;
/** `Bearer <credential>`. */
const BEARER = /\b(Bearer|Basic)\s+[^\s"',;]+/gi;
/** Credentials in URL query strings (signed file links: `sig=`, `token=`...). */
const QUERY_SECRET = /([?&](?:sig|signature|token|access_token|key|api_key)=)[^&\s"']+/gi;

/** `text` with JWTs, bearer credentials and signed-URL parameters replaced by `[redacted]`. */
export function redactText(text: string): string {
  return text.replace(JWT, '[redacted]').replace(BEARER, '$1 [redacted]').replace(QUERY_SECRET, '$1[redacted]');
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (value instanceof Error) return redactText(value.message);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? '[redacted]' : redactValue(item, depth + 1);
  return out;
}

/** winston format: redacts the message and every field (see {@link redactText}, {@link SECRET_KEY}). */
export const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    info[key] = SECRET_KEY.test(key) ? '[redacted]' : redactValue(info[key], 0);
  }
  return info;
});

export function createLogger(config: Pick<Config, 'env' | 'logLevel'>, service: string): Logger {
  const format =
    config.env === 'production'
      ? winston.format.combine(redactSecrets(), winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json())
      : winston.format.combine(
          redactSecrets(),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, service: svc, ...rest }) => {
            const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${level.padEnd(5)} [${String(svc)}] ${String(message)}${extra}`;
          }),
        );
  return winston.createLogger({ level: config.logLevel, defaultMeta: { service }, format, transports: [new winston.transports.Console()] });
}
