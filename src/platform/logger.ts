/**
 * winston logger: JSON lines in production, readable lines in development. Child loggers carry the
 * request id or conversion id on every line (`logger.child({ requestId })`).
 */
import winston from 'winston';
import type { Config } from './config.js';

export type Logger = winston.Logger;

export function createLogger(config: Pick<Config, 'env' | 'logLevel'>, service: string): Logger {
  const format =
    config.env === 'production'
      ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, service: svc, ...rest }) => {
            const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${level.padEnd(5)} [${String(svc)}] ${String(message)}${extra}`;
          }),
        );
  return winston.createLogger({ level: config.logLevel, defaultMeta: { service }, format, transports: [new winston.transports.Console()] });
}
