import type { Database } from '@sluice/db';
import {
  createTestDatabase,
  startPrivateRedis,
  uniqueKey,
  waitFor,
  type PrivateRedis,
  type TestDatabase,
} from '@sluice/test-support';
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

describe('stream consumer: Redis restarts, lost connections and lost groups (private redis-server)', () => {
  let server: PrivateRedis;
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  let redis: Redis;
  const running: TestConsumer[] = [];

  beforeAll(async () => {
    server = await startPrivateRedis();
    testDb = await createTestDatabase();
    db = await migratedDb(testDb.url);
    // A client that rides out the restarts below.
    redis = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    redis.on('error', () => undefined);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.destroy();
    await testDb?.drop();
    await server?.destroy();
  });

  async function start(label: string) {
    const n = uniqueNames(label);
    const consumer = await startConsumer({
      redisUrl: server.url,
      db,
      queueName: n.queueName,
      consumerOptions: testOptions(n, { readCount: 50 }),
    });
    running.push(consumer);
    return { ...n, ...consumer };
  }

  /** Publishes `batches` batches of `size` events of `source`, `gapMs` apart; resolves with how many were published. */
  async function publishUnderLoad(
    stream: string,
    source: string,
    batches: number,
    size: number,
    gapMs: number,
  ): Promise<number> {
    let published = 0;
    for (let i = 0; i < batches; i += 1) {
      await publish(
        redis,
        stream,
        Array.from({ length: size }, () => streamEvent({ source })),
      );
      published += size;
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    return published;
  }

  it('carries on after its connections are killed (CLIENT KILL)', async () => {
    const { stream, group } = await start('kill');
    const source = uniqueKey('src');
    await publish(
      redis,
      stream,
      Array.from({ length: 20 }, () => streamEvent({ source })),
    );
    await waitFor(async () => (await eventRows(db, source)) === 20, { what: 'rows before the kill' });
    await redis.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await publish(
      redis,
      stream,
      Array.from({ length: 20 }, () => streamEvent({ source })),
    );
    await waitFor(
      async () => (await eventRows(db, source)) === 40 && (await pendingCount(redis, stream, group)) === 0,
      { what: 'rows after the kill', timeoutMs: 15_000 },
    );
  });

  it('re-creates its group after a Redis restart and persists what is published afterwards', async () => {
    const { stream, group, logs } = await start('restart');
    const source = uniqueKey('src');
    await publish(redis, stream, [streamEvent({ source })]);
    await waitFor(async () => (await eventRows(db, source)) === 1, { what: 'the row before the restart' });
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.start();
    await publish(
      redis,
      stream,
      Array.from({ length: 10 }, () => streamEvent({ source })),
    );
    await waitFor(
      async () => (await eventRows(db, source)) === 11 && (await pendingCount(redis, stream, group)) === 0,
      { what: 'rows after the restart', timeoutMs: 20_000 },
    );
    expect(logs.text()).toContain('Consumer group missing (NOGROUP)');
  });

  it('after FLUSHALL under load, re-creates its group and persists everything published afterwards', async () => {
    const { stream, group, logs } = await start('flush');
    const before = uniqueKey('before');
    const after = uniqueKey('after');
    const load = publishUnderLoad(stream, before, 20, 50, 20);
    await waitFor(async () => (await eventRows(db, before)) > 0, { what: 'the load flowing' });
    await redis.flushall();
    await load;
    const published = await publishUnderLoad(stream, after, 10, 50, 20);
    await waitFor(
      async () => (await eventRows(db, after)) === published && (await pendingCount(redis, stream, group)) === 0,
      {
        what: 'everything published after FLUSHALL',
        timeoutMs: 20_000,
      },
    );
    expect(logs.text()).toContain('Consumer group missing (NOGROUP)');
  });

  it('after XGROUP DESTROY under load, re-creates the group at 0 and skips nothing still in the stream', async () => {
    const { stream, group, stats } = await start('destroy');
    const source = uniqueKey('src');
    const load = publishUnderLoad(stream, source, 20, 50, 20);
    await waitFor(async () => (await eventRows(db, source)) > 0, { what: 'the load flowing' });
    await redis.xgroup('DESTROY', stream, group);
    const published = await load;
    await waitFor(
      async () => (await eventRows(db, source)) === published && (await pendingCount(redis, stream, group)) === 0,
      {
        what: 'every event of the stream stored',
        timeoutMs: 20_000,
      },
    );
    // Re-created at 0, the group re-delivered what had been processed already: duplicates, not losses.
    expect(stats.snapshot().duplicates).toBeGreaterThan(0);
  });

  it('does not spin when its group keeps disappearing, and carries on once it stays', async () => {
    const { stream, group, logs } = await start('vanish');
    const source = uniqueKey('src');
    // Destroy the group as fast as Redis allows for a second and a half: without backoff this would be a hot loop.
    for (const until = Date.now() + 1500; Date.now() < until;) {
      await redis.xgroup('DESTROY', stream, group).catch(() => undefined);
      await publish(redis, stream, [streamEvent({ source })]);
    }
    const recoveries = logs
      .entries()
      .filter((e) => e.msg === 'Consumer group missing (NOGROUP); re-creating it at id 0');
    expect(recoveries.length).toBeGreaterThan(0);
    expect(recoveries.length).toBeLessThan(200);
    expect(recoveries.some((e) => Number(e.repeats) > 0)).toBe(true);
    await publish(redis, stream, [streamEvent({ source })]);
    const published = Number(await redis.xlen(stream));
    await waitFor(
      async () => (await eventRows(db, source)) === published && (await pendingCount(redis, stream, group)) === 0,
      {
        what: 'every event of the stream stored',
        timeoutMs: 20_000,
      },
    );
  });
});
