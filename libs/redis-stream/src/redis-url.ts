import { RedisUrlError } from './stream-errors.js';

/** What this package needs to know about a Redis URL. */
export interface RedisUrlParts {
  host: string;
  port: number;
  tls: boolean;
  /** `host:port`: the only part of the URL that is ever logged. */
  address: string;
}

/** Validates a `redis://` or `rediss://` URL; throws {@link RedisUrlError} naming the problem (never the password). */
export function parseRedisUrl(url: string | undefined): RedisUrlParts {
  if (url === undefined || url.trim() === '') throw new RedisUrlError('Redis URL is empty');
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    // The URL constructor's own message repeats the input, password included, so it is not kept as the cause.
    throw new RedisUrlError('Redis URL is not a valid URL (expected redis://[:password@]host:6379[/db])');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisUrlError(`Redis URL must start with redis:// or rediss:// (got ${parsed.protocol}//)`);
  }
  if (parsed.hostname === '') throw new RedisUrlError('Redis URL has no host (expected redis://host:6379)');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new RedisUrlError('Redis URL path must be a database number (redis://host:6379/0)');
  }
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  return {
    host: parsed.hostname,
    port,
    tls: parsed.protocol === 'rediss:',
    address: `${parsed.hostname}:${port}`,
  };
}
