import type { Redis } from 'ioredis';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';

/** XACKs `ids` in one call and returns how many were pending; no call at all for an empty list. */
export async function ack(redis: Redis, stream: string, group: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  try {
    await ensureConnected(redis);
    return await redis.xack(stream, group, ...ids);
  } catch (err) {
    throw toStreamError(err, `XACK on ${stream}/${group}`);
  }
}
