import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '@sluice/db';
import {
  createTestDatabase,
  spawnApp,
  testRedisUrl,
  uniqueKey,
  waitFor,
  type SpawnedApp,
  type TestDatabase,
} from '@sluice/test-support';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetterJobs,
  eventRows,
  migratedDb,
  openQueue,
  pendingCount,
  publish,
  streamEvent,
  uniqueNames,
} from './consumer-fixtures.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

describe('consumer hygiene: restarts under new names (the default CONSUMER_NAME is <hostname>-<pid>)', () => {
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  let redis: Redis;
  let locker: pg.Client;
  const n = uniqueNames('restarts');
  const dlq = openQueue(testRedisUrl(), n.queueName);
  const apps: SpawnedApp[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = await migratedDb(testDb.url);
    redis = new Redis(testRedisUrl());
    locker = new pg.Client({ connectionString: testDb.url });
    await locker.connect();
  });

  afterEach(() => apps.forEach((app) => app.kill()));

  afterAll(async () => {
    await locker?.end();
    await dlq.cleanup();
    await redis?.del(n.stream);
    redis?.disconnect();
    await db?.destroy();
    await testDb?.drop();
  });

  const consumersOfGroup = async () =>
    ((await redis.xinfo('CONSUMERS', n.stream, n.group)) as unknown[][]).map((flat) => ({
      name: String(flat[1]),
      pending: Number(flat[3]),
    }));
  const pendingOf = async (name: string) => (await consumersOfGroup()).find((c) => c.name === name)?.pending ?? 0;

  it('after ten restarts, some by kill -9 with entries pending, the group lists only the live consumer and every event is a row', async () => {
    const source = uniqueKey('src');
    const env = {
      DATABASE_URL: testDb.url,
      REDIS_URL: testRedisUrl(),
      STREAM_KEY: n.stream,
      CONSUMER_GROUP: n.group,
      DEAD_LETTER_QUEUE: n.queueName,
      READ_COUNT: '50',
      BLOCK_MS: '200',
      CLAIM_MIN_IDLE_MS: '1000',
      CLAIM_INTERVAL_MS: '300',
      TRIM_INTERVAL_MS: '500',
      GONE_CONSUMER_IDLE_MS: '2000',
      DB_STATEMENT_TIMEOUT_MS: '60000',
    };
    let published = 0;
    const names: string[] = [];
    for (let round = 1; round <= 11; round++) {
      const app = spawnApp(MAIN, env);
      apps.push(app);
      await waitFor(() => app.lines().find((l) => l.msg === 'Event consumer started'), {
        what: `consumer ${round} started`,
        timeoutMs: 15_000,
      });
      const name = String(app.lines().find((l) => l.msg === 'Event consumer started')?.consumer);
      names.push(name);
      if (round === 11) break;
      if (round % 2 === 1) {
        // Postgres blocked: the batches this consumer reads stay pending with it, and then it dies without a word.
        await locker.query('begin');
        await locker.query('lock table events in access exclusive mode');
        await publish(
          redis,
          n.stream,
          Array.from({ length: 100 }, () => streamEvent({ source })),
        );
        published += 100;
        await waitFor(async () => (await pendingOf(name)) > 0, { what: `entries pending with ${name}` });
        app.proc.kill('SIGKILL');
        await app.exited;
        await locker.query('commit');
      } else {
        await publish(
          redis,
          n.stream,
          Array.from({ length: 100 }, () => streamEvent({ source })),
        );
        published += 100;
        await new Promise((resolve) => setTimeout(resolve, 300));
        app.proc.kill('SIGTERM');
        expect(await app.exited).toBe(0);
      }
    }
    expect(new Set(names).size).toBe(11);
    const live = names.at(-1) as string;

    // The live consumer claims what the dead ones left, stores it, and removes each once it is idle and holds nothing.
    await waitFor(
      async () => (await eventRows(db, source)) === published && (await pendingCount(redis, n.stream, n.group)) === 0,
      {
        what: 'every event stored',
        timeoutMs: 30_000,
      },
    );
    await waitFor(async () => (await consumersOfGroup()).every((c) => c.name === live), {
      what: 'only the live consumer listed',
      timeoutMs: 15_000,
    });
    expect(await deadLetterJobs(dlq.queue)).toHaveLength(0);
    const removed = (apps.at(-1) as SpawnedApp)
      .lines()
      .filter((l) => l.msg === 'Removed consumers that are gone (idle, nothing pending)')
      .flatMap((l) => l.removed as string[]);
    expect(removed).toEqual(expect.arrayContaining(names.slice(0, -1).filter((_, i) => i % 2 === 0)));
    expect(removed).not.toContain(live);
  }, 120_000);
});
