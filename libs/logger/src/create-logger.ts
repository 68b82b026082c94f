import { pino, type DestinationStream, type Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Service name put on every line. */
  name: string;
  /** @defaultValue 'info' */
  level?: string;
  /** Where lines go; stdout when omitted (tests pass a stream to read them back). */
  destination?: DestinationStream;
}

/**
 * Paths that may hold secrets. Redaction is pino's, by path, so a secret is never string-scrubbed after the fact:
 * the places a secret can travel are named here and nowhere else.
 */
export const redactPaths: readonly string[] = [
  'password',
  '*.password',
  'url',
  '*.url',
  'redisUrl',
  'databaseUrl',
  'connectionString',
  '*.connectionString',
  'apiKey',
  'apiKeys',
  'authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'config.DATABASE_URL',
  'config.REDIS_URL',
  'config.INGEST_API_KEYS',
  'config.ADMIN_PASSWORD',
];

/** The root pino logger of a process; components take `logger.child({ component })`. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: [...redactPaths], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

export type { Logger } from 'pino';
