import { testRedisUrl, uniqueKey } from '@sluice/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type PendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

/**
 * The delivery-counter behaviour the consumer relies on, checked against the real server (Redis 7): retries of unknown
 * failures use XCLAIM (counts +1), held batches are refreshed with XCLAIM ... JUSTID (counts unchanged).
 */
describe('Redis delivery counters', () => {
  let redis: Redis;
  const stream = uniqueKey('semantics');

  beforeAll(async () => {
    redis = new Redis(testRedisUrl());
    await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    await redis.xadd(stream, '*', 'event', '{}');
  });

  afterAll(async () => {
    await redis.del(stream);
    redis.disconnect();
  });

  const count = async () => {
    const [row] = (await redis.xpending(stream, 'g', '-', '+', 1)) as PendingRow[];
    return Number(row?.[3]);
  };

  it('counts XREADGROUP >, XREADGROUP 0 and XCLAIM as deliveries, but not XCLAIM JUSTID', async () => {
    await redis.xreadgroup('GROUP', 'g', 'c', 'STREAMS', stream, '>');
    expect(await count()).toBe(1);
    // Re-reading one's own pending entries by id is a delivery too.
    await redis.xreadgroup('GROUP', 'g', 'c', 'STREAMS', stream, '0');
    expect(await count()).toBe(2);
    const [first] = (await redis.xpending(stream, 'g', '-', '+', 1)) as PendingRow[];
    const id = String(first?.[0]);
    await redis.xclaim(stream, 'g', 'c', 0, id, 'JUSTID');
    expect(await count()).toBe(2);
    await redis.xclaim(stream, 'g', 'c', 0, id);
    expect(await count()).toBe(3);
  });
});
