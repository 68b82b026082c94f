import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '@sluice/db';
import {
  createTestDatabase,
  freePort,
  spawnApp,
  startPrivateRedis,
  testRedisUrl,
  waitFor,
  type SpawnedApp,
  type TestDatabase,
} from '@sluice/test-support';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventRows, migratedDb, openQueue, publish, streamEvent, uniqueNames } from './consumer-fixtures.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

const spawnConsumer = (env: Record<string, string>) => spawnApp(MAIN, env);

describe('the built consumer (node dist/main.js)', () => {
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  let redis: Redis;
  const apps: SpawnedApp[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  /** A consumer on `redisUrl` with the names `n` (and `extra` settings), stopped after the test. */
  const startConsumer = (redisUrl: string, n: ReturnType<typeof uniqueNames>, extra: Record<string, string> = {}) => {
    const app = spawnConsumer({
      DATABASE_URL: testDb.url,
      REDIS_URL: redisUrl,
      STREAM_KEY: n.stream,
      CONSUMER_GROUP: n.group,
      DEAD_LETTER_QUEUE: n.queueName,
      ...extra,
    });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = await migratedDb(testDb.url);
    redis = new Redis(testRedisUrl());
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) app.kill();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.destroy();
    await testDb?.drop();
  });

  it('persists events, logs handler types and stats, serves /metrics, /healthz and /readyz, and exits 0 within 10 s of SIGTERM', async () => {
    const n = uniqueNames('main');
    const dlq = openQueue(testRedisUrl(), n.queueName);
    cleanups.push(() => redis.del(n.stream), dlq.cleanup);
    const metricsPort = await freePort();
    const app = startConsumer(testRedisUrl(), n, {
      CONSUMER_NAME: 'main-test',
      METRICS_PORT: String(metricsPort),
      STATS_INTERVAL_MS: '300',
    });
    await waitFor(() => app.output().includes('Event consumer started'), {
      what: 'the start-up line',
      timeoutMs: 15_000,
    });
    expect(app.lines().find((l) => l.msg === 'Event consumer started')).toMatchObject({
      stream: n.stream,
      group: n.group,
      consumer: 'main-test',
      handlerTypes: ['session.end', 'session.start'],
    });

    const sessionId = `sess_${randomUUID()}`;
    const event = streamEvent({ event_type: 'session.start', session_id: sessionId });
    await publish(redis, n.stream, [event]);
    await waitFor(
      () => db.selectFrom('sessions').select('session_id').where('session_id', '=', sessionId).executeTakeFirst(),
      { what: 'the session row', timeoutMs: 5000 },
    );
    expect(
      await db.selectFrom('events').select('event_id').where('event_id', '=', String(event.event_id)).execute(),
    ).toHaveLength(1);

    await waitFor(() => app.lines().some((l) => l.msg === 'Consumer stats' && l.processed === 1), {
      what: 'a stats line',
      timeoutMs: 5000,
    });
    expect(
      app
        .lines()
        .filter((l) => l.msg === 'Consumer stats')
        .at(-1),
    ).toMatchObject({ processed: 1, duplicates: 0, errors: 0, deadLettered: 0, lost: 0, pending: 0, lag: 0 });

    const live = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok', loop: 'running' });
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ok',
      ok: true,
      redis: 'PONG',
      postgres: 'ok',
      group: 'exists',
      loop: 'running',
    });
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('sluice_consumer_events_total{outcome="processed"} 1');
    expect(metrics).toContain(`sluice_consumer_pending{stream="${n.stream}"} 0`);
    expect(metrics).toContain('sluice_consumer_batch_duration_seconds_count{source="read"} 1');

    // The read is blocked (BLOCK_MS 5000 by default): stopping must not wait for it.
    const signalledAt = Date.now();
    app.proc.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(app.output()).toContain('Stopped cleanly');
    expect(app.output()).not.toContain(testDb.url);
  });

  it('started while Redis is down, stores and dead-letters once Redis is up', async () => {
    const server = await startPrivateRedis();
    await server.stop();
    cleanups.push(() => server.destroy());
    const n = uniqueNames('main-late-redis');
    const app = startConsumer(server.url, n);
    await waitFor(() => app.output().includes('redis reconnecting'), { what: 'the refused connection noticed' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await server.start();
    const late = new Redis(server.url);
    const dlq = openQueue(server.url, n.queueName);
    // Before the server goes: a queue cleanup against a stopped Redis would wait for ever.
    cleanups.unshift(async () => late.disconnect(), dlq.cleanup);
    const source = `late-redis-${randomUUID()}`;
    await publish(late, n.stream, [
      ...Array.from({ length: 5 }, () => streamEvent({ source })),
      ['event', 'not json at all'],
    ]);
    // BullMQ must not keep the first refused connect for ever ("Connection is closed." on every dead letter).
    await waitFor(
      async () => (await eventRows(db, source)) === 5 && (await dlq.queue.getJobCounts('waiting')).waiting === 1,
      { what: 'the 5 rows stored and the undecodable entry dead-lettered', timeoutMs: 20_000 },
    );
    expect(app.proc.exitCode).toBeNull();
  });

  it('exits 0 within 10 s of SIGTERM while Redis is down', async () => {
    const server = await startPrivateRedis({ password: 's3cret-pw' });
    cleanups.push(() => server.destroy());
    const n = uniqueNames('main-down');
    const app = startConsumer(server.url, n);
    await waitFor(() => app.output().includes('Event consumer started'), {
      what: 'the start-up line',
      timeoutMs: 15_000,
    });
    await server.stop();
    await waitFor(() => app.output().includes('redis reconnecting'), { what: 'the lost connection noticed' });
    const signalledAt = Date.now();
    app.proc.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(app.output()).not.toContain('s3cret-pw');
  });
});
