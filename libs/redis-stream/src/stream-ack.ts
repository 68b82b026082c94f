import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';
import { indexKey } from './stream-index.js';

/**
 * XACKs `ids` in one call and returns how many were pending; no call at all for an empty list. With `eventIds`, the
 * same round trip removes those events from the stream's index (they are no longer in the stream's care).
 */
export async function ack(
  redis: RedisClient,
  stream: string,
  group: string,
  ids: string[],
  eventIds: string[] = [],
): Promise<number> {
  if (ids.length === 0) return 0;
  try {
    await ensureConnected(redis);
    if (eventIds.length === 0) return await redis.xack(stream, group, ...ids);
    const replies = await redis
      .pipeline()
      .xack(stream, group, ...ids)
      .hdel(indexKey(stream), ...eventIds.map((id) => id.toLowerCase()))
      .exec();
    const [[err, acked] = [null, 0]] = replies ?? [];
    if (err) throw err;
    return Number(acked);
  } catch (err) {
    throw toStreamError(err, `XACK on ${stream}/${group}`);
  }
}
