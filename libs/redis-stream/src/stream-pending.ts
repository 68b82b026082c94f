import type { RedisClient } from './redis-client.js';
import { ensureConnected } from './redis-connect.js';
import { toStreamError } from './redis-error-kinds.js';

type XPendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

/**
 * Delivery count per id from the group's pending list (XPENDING s g id id 1 for each id, one pipelined round trip).
 * Counts live in Redis, so they survive consumer restarts. Ids not pending (acked, never delivered) are absent.
 */
export async function deliveryCounts(
  redis: RedisClient,
  stream: string,
  group: string,
  ids: string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (ids.length === 0) return counts;
  const unique = [...new Set(ids)];
  let replies: Array<[Error | null, unknown]> | null;
  try {
    await ensureConnected(redis);
    const pipeline = redis.pipeline();
    for (const id of unique) pipeline.xpending(stream, group, id, id, 1);
    replies = await pipeline.exec();
  } catch (err) {
    throw toStreamError(err, `XPENDING on ${stream}/${group}`);
  }
  for (const [err, rows] of replies ?? []) {
    if (err) throw toStreamError(err, `XPENDING on ${stream}/${group}`);
    for (const [id, , , n] of rows as XPendingRow[]) counts.set(id, Number(n));
  }
  return counts;
}

/** One row of the extended XPENDING form. */
export interface PendingEntryInfo {
  id: string;
  consumer: string;
  idleMs: number;
  deliveryCount: number;
}

/** A page of the group's pending list (XPENDING s g start + count [consumer]); `start` may be exclusive: `(id`. */
export async function pendingRange(
  redis: RedisClient,
  options: { stream: string; group: string; start?: string; count: number; consumer?: string },
): Promise<PendingEntryInfo[]> {
  const { stream, group, count, consumer } = options;
  const start = options.start ?? '-';
  let rows: unknown;
  try {
    await ensureConnected(redis);
    rows =
      consumer === undefined
        ? await redis.xpending(stream, group, start, '+', count)
        : await redis.xpending(stream, group, start, '+', count, consumer);
  } catch (err) {
    throw toStreamError(err, `XPENDING on ${stream}/${group}`);
  }
  return (rows as XPendingRow[]).map(([id, owner, idle, n]) => ({
    id,
    consumer: owner,
    idleMs: Number(idle),
    deliveryCount: Number(n),
  }));
}
