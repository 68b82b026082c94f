import { Redis } from 'ioredis';
import { testRedisUrl, uniqueKey } from '@sluice/test-support';
import type { StreamLogger } from '../src/index.js';

/** A logger that keeps every line in memory, serialised the way a JSON logger would write it. */
export function memoryLogger(): { logger: StreamLogger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const at = (level: string) => (obj: object, msg: string) => {
    lines.push(JSON.stringify({ level, ...obj, msg }));
  };
  return {
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    lines,
    text: () => lines.join('\n'),
  };
}

/** Clients on the shared Redis plus the keys a test made, all cleaned up by `close()`. */
export interface SharedRedisKit {
  /** A plain client for commands and checks. */
  redis: Redis;
  /** A fresh unique key, deleted at `close()`. */
  key(label: string): string;
  /** Another client (for blocking reads), quit at `close()`. */
  client(): Redis;
  /** Keys made by the code under test (derived from a {@link key}), deleted at `close()` too. */
  track(...extra: string[]): void;
  close(): Promise<void>;
}

/** Opens a {@link SharedRedisKit} on the shared test Redis. */
export function sharedRedisKit(): SharedRedisKit {
  const clients: Redis[] = [];
  const keys: string[] = [];
  const client = () => {
    const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };
  const redis = client();
  return {
    redis,
    client,
    key(label) {
      const key = uniqueKey(label);
      keys.push(key);
      return key;
    },
    track(...extra) {
      keys.push(...extra);
    },
    async close() {
      if (keys.length > 0) await redis.del(...keys);
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/** Waits `ms` (only ever used to let entries become idle, never to assert on timing). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
