import type { Database } from '@sluice/db';
import { createTestDatabase, testRedisUrl, uniqueKey, waitFor, type TestDatabase } from '@sluice/test-support';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  eventRows,
  migratedDb,
  pendingCount,
  publish,
  startConsumer,
  streamEvent,
  testOptions,
  uniqueNames,
  type TestConsumer,
} from './consumer-fixtures.js';

describe('stream consumer: pending entries, claims and replicas', () => {
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  let redis: Redis;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = await migratedDb(testDb.url);
    redis = new Redis(testRedisUrl());
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.destroy();
    await testDb?.drop();
  });

  function names(label: string) {
    const n = uniqueNames(label);
    cleanups.push(() => redis.del(n.stream));
    return n;
  }

  async function start(n: ReturnType<typeof names>, overrides = {}): Promise<TestConsumer> {
    const consumer = await startConsumer({
      redisUrl: testRedisUrl(),
      db,
      queueName: n.queueName,
      consumerOptions: testOptions(n, overrides),
    });
    cleanups.push(() => consumer.close());
    return consumer;
  }

  it('claims and processes the pending entries of a crashed consumer', async () => {
    const n = names('claim');
    const source = uniqueKey('src');
    await publish(
      redis,
      n.stream,
      Array.from({ length: 250 }, () => streamEvent({ source })),
    );
    await redis.xgroup('CREATE', n.stream, n.group, '0', 'MKSTREAM');
    // Consumer "dead" read everything and died without acking.
    await redis.xreadgroup('GROUP', n.group, 'dead', 'COUNT', 1000, 'STREAMS', n.stream, '>');
    expect(await pendingCount(redis, n.stream, n.group)).toBe(250);

    const { logs } = await start(n, { claimMinIdleMs: 300, claimIntervalMs: 200 });
    await waitFor(
      async () => (await eventRows(db, source)) === 250 && (await pendingCount(redis, n.stream, n.group)) === 0,
      {
        what: 'the claimed entries processed',
        timeoutMs: 15_000,
      },
    );
    expect(logs.entries().some((e) => e.msg === 'Claimed idle entries from other consumers')).toBe(true);
  });

  it('drains its own pending entries first after a restart, and acks entries deleted while pending as lost', async () => {
    const n = names('own');
    const source = uniqueKey('src');
    const ids = await publish(
      redis,
      n.stream,
      Array.from({ length: 5 }, () => streamEvent({ source })),
    );
    await redis.xgroup('CREATE', n.stream, n.group, '0', 'MKSTREAM');
    await redis.xreadgroup('GROUP', n.group, 'consumer-1', 'COUNT', 10, 'STREAMS', n.stream, '>');
    await redis.xdel(n.stream, ids[1] as string);

    const { stats, logs } = await start(n);
    await waitFor(async () => (await pendingCount(redis, n.stream, n.group)) === 0, {
      what: 'the pending list drained',
      timeoutMs: 5000,
    });
    expect(await eventRows(db, source)).toBe(4);
    expect(stats.snapshot()).toMatchObject({ processed: 4, lost: 1 });
    const lost = logs.entries().find((e) => String(e.msg).startsWith('Entries were deleted while pending'));
    expect(lost).toMatchObject({ level: 'warn', ids: [ids[1]] });
  });

  it('two consumers in one group turn 10,000 events into exactly 10,000 rows and leave nothing pending', async () => {
    const n = names('pair');
    const source = uniqueKey('src');
    const first = await start(n, { consumer: 'consumer-1', readCount: 500 });
    const second = await start(n, { consumer: 'consumer-2', readCount: 500 });
    for (let i = 0; i < 10; i += 1)
      await publish(
        redis,
        n.stream,
        Array.from({ length: 1000 }, () => streamEvent({ source })),
      );
    await waitFor(
      async () => (await eventRows(db, source)) === 10_000 && (await pendingCount(redis, n.stream, n.group)) === 0,
      {
        what: '10,000 rows and nothing pending',
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );
    const processed = first.stats.snapshot().processed + second.stats.snapshot().processed;
    expect(processed).toBe(10_000);
    expect(first.stats.snapshot().processed).toBeGreaterThan(0);
    expect(second.stats.snapshot().processed).toBeGreaterThan(0);
  });
});
