import type { Database } from '@sluice/db';
import { startPrivatePostgres, testRedisUrl, uniqueKey, waitFor, type PrivatePostgres } from '@sluice/test-support';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetterJobs,
  eventRows,
  migratedDb,
  openQueue,
  pendingCount,
  publish,
  startConsumer,
  streamEvent,
  testOptions,
  uniqueNames,
  type TestConsumer,
} from './consumer-fixtures.js';

type PendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

describe('stream consumer: a Postgres outage', () => {
  let pg: PrivatePostgres;
  let db: Kysely<Database>;
  let redis: Redis;
  const n = uniqueNames('pg-outage');
  const dlq = openQueue(testRedisUrl(), n.queueName);
  const consumers: TestConsumer[] = [];

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    db = await migratedDb(pg.url);
    redis = new Redis(testRedisUrl());
  }, 60_000);

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.close()));
    await dlq.cleanup();
    await redis?.del(n.stream);
    redis?.disconnect();
    await db?.destroy();
    pg?.destroy();
  });

  it('longer than MAX_DELIVERIES x the claim interval loses nothing and dead-letters nothing', async () => {
    const source = uniqueKey('src');
    // Two replicas, claiming every 200 ms anything idle for 1 s: an outage of several seconds must not make either
    // dead-letter, nor let one take over (and re-deliver) the batch the other holds.
    const overrides = { readCount: 50, maxDeliveries: 3, claimIntervalMs: 200, claimMinIdleMs: 1000 };
    for (const consumer of ['consumer-1', 'consumer-2']) {
      consumers.push(
        await startConsumer({
          redisUrl: testRedisUrl(),
          db,
          queueName: n.queueName,
          consumerOptions: testOptions(n, { ...overrides, consumer }),
        }),
      );
    }
    await publish(
      redis,
      n.stream,
      Array.from({ length: 100 }, () => streamEvent({ source })),
    );
    await waitFor(async () => (await eventRows(db, source)) === 100, {
      what: 'the rows before the outage',
      timeoutMs: 10_000,
    });

    pg.stop();
    await publish(
      redis,
      n.stream,
      Array.from({ length: 400 }, () => streamEvent({ source })),
    );
    await waitFor(() => consumers.some((c) => c.logs.text().includes('Sink fault: the consumer is stalled')), {
      what: 'the outage noticed',
    });
    // Several claim intervals and more than MAX_DELIVERIES x CLAIM_MIN_IDLE_MS. Meanwhile a third replica, one whose
    // loop is free, keeps trying to claim whatever has been idle for CLAIM_MIN_IDLE_MS: it must find nothing.
    const stolen: string[] = [];
    for (const until = Date.now() + 4000; Date.now() < until;) {
      const [, claimed] = (await redis.xautoclaim(
        n.stream,
        n.group,
        'thief',
        1000,
        '0-0',
        'COUNT',
        1000,
        'JUSTID',
      )) as [string, string[]];
      stolen.push(...claimed);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(stolen).toEqual([]);
    const held = (await redis.xpending(n.stream, n.group, '-', '+', 1000)) as PendingRow[];
    expect(held.length).toBeGreaterThan(0);
    // Held batches are kept fresh (XCLAIM JUSTID) and retried in place: no entry was delivered a second time.
    expect(Math.max(...held.map(([, , , deliveries]) => Number(deliveries)))).toBe(1);
    expect(await deadLetterJobs(dlq.queue)).toHaveLength(0);

    pg.start();
    await waitFor(
      async () => (await eventRows(db, source)) === 500 && (await pendingCount(redis, n.stream, n.group)) === 0,
      {
        what: 'every event stored after the outage',
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    expect(await deadLetterJobs(dlq.queue)).toHaveLength(0);
    for (const { stats } of consumers) expect(stats.snapshot().deadLettered).toBe(0);
    expect(consumers.some((c) => c.logs.text().includes('Sink fault cleared'))).toBe(true);
  }, 60_000);

  it('holds a poison entry until its dead letter is archived in Postgres too, then acks it', async () => {
    const source = uniqueKey('src');
    const names = uniqueNames('pg-outage-poison');
    const queue = openQueue(testRedisUrl(), names.queueName);
    const consumer = await startConsumer({
      redisUrl: testRedisUrl(),
      db,
      queueName: names.queueName,
      consumerOptions: testOptions(names, { readCount: 50 }),
    });
    consumers.push(consumer);
    try {
      pg.stop();
      const [poisonId] = await publish(redis, names.stream, [
        ['event', 'not json at all'],
        ...Array.from({ length: 5 }, () => streamEvent({ source })),
      ]);
      // The job is queued, but with the archive out of reach the entry stays pending: Redis is not its only copy.
      await waitFor(async () => (await deadLetterJobs(queue.queue)).length === 1, { what: 'the dead-letter job' });
      await waitFor(() => consumer.logs.text().includes('Sink fault: the consumer is stalled'), { what: 'the stall' });
      const pending = (await redis.xpending(names.stream, names.group, '-', '+', 100)) as PendingRow[];
      expect(pending.map(([id]) => id)).toContain(poisonId);
      expect(consumer.logs.text()).not.toContain('Dead-lettered entries');

      pg.start();
      await waitFor(
        async () => (await eventRows(db, source)) === 5 && (await pendingCount(redis, names.stream, names.group)) === 0,
        { what: 'the rows stored and everything acked', timeoutMs: 30_000, intervalMs: 200 },
      );
      const archived = await db
        .selectFrom('dead_letters')
        .select(['entry_id', 'verdict'])
        .where('stream', '=', names.stream)
        .execute();
      expect(archived).toEqual([{ entry_id: poisonId, verdict: 'data' }]);
      expect(await deadLetterJobs(queue.queue)).toHaveLength(1);
    } finally {
      await queue.cleanup();
      await redis.del(names.stream);
    }
  }, 60_000);
});
