import { randomUUID } from 'node:crypto';
import { createDb, findDeadLetterByEventId, migrateToLatest, type Database, type Kysely } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import {
  appEntry,
  createTestDatabase,
  freePort,
  spawnApp,
  testRedisUrl,
  uniqueKey,
  waitFor,
  type SpawnedApp,
  type TestDatabase,
} from '@sluice/test-support';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFlakyConsumer, type FlakyMode } from './flaky-consumer.js';

type Status = { event_id: string; state: string; [field: string]: unknown };

// One event followed through every state GET /api/v1/events/:id/status can report, with the built API and
// dead-letter worker, and a consumer in-process whose handler for `test.flaky` fails on demand.
describe('event status: one event through every state', () => {
  const stream = uniqueKey('status-stream');
  const group = uniqueKey('status-group');
  const queueName = uniqueKey('status-dlq');
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  let consumerDb: Kysely<Database>;
  let redis: Redis;
  let locker: pg.Client;
  let queue: Queue<DeadLetterData>;
  let consumer: Awaited<ReturnType<typeof startFlakyConsumer>> | undefined;
  const apps: SpawnedApp[] = [];
  let base = '';
  // How the flaky handler fails: a code fault (retried), a data fault (dead-lettered), or not at all.
  let mode: FlakyMode = 'code';

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = createDb({ url: testDb.url, max: 2 });
    await migrateToLatest(db);
    // The consumer's own pool, with a short statement timeout so a held lock turns into a stall within a second.
    consumerDb = createDb({ url: testDb.url, max: 4, statementTimeoutMillis: 1000, onPoolError: () => {} });
    redis = new Redis(testRedisUrl());
    locker = new pg.Client({ connectionString: testDb.url });
    await locker.connect();
    queue = new Queue<DeadLetterData>(queueName, {
      connection: new Redis(testRedisUrl(), { maxRetriesPerRequest: null }),
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    apps.push(
      spawnApp(appEntry('@sluice/ingest-api'), {
        DATABASE_URL: testDb.url,
        REDIS_URL: testRedisUrl(),
        PORT: String(port),
        HOST: '127.0.0.1',
        STREAM_KEY: stream,
        CONSUMER_GROUP: group,
        DEAD_LETTER_QUEUE: queueName,
      }),
    );
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
      what: 'the API ready',
      timeoutMs: 15_000,
    });
  }, 60_000);

  afterAll(async () => {
    await consumer?.close();
    for (const app of apps) app.kill();
    await locker?.end();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    const keys = await redis.keys(`*${stream}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis?.disconnect();
    await consumerDb?.destroy();
    await db?.destroy();
    await testDb?.drop();
  }, 30_000);

  const status = async (id: string): Promise<{ code: number; body: Status }> => {
    const response = await fetch(`${base}/api/v1/events/${id}/status`);
    return { code: response.status, body: (await response.json()) as Status };
  };
  const untilState = (id: string, state: string, timeoutMs = 15_000) =>
    waitFor(
      async () => {
        const { body } = await status(id);
        return body.state === state ? body : undefined;
      },
      { what: `event ${id} ${state}`, timeoutMs, intervalMs: 50 },
    );

  it('answers 400 for a malformed id and 404 when there is no trace of the event', async () => {
    expect((await status('not-a-uuid')).body).toMatchObject({ error: { code: 'invalid_event_id' } });
    const unknown = await status(randomUUID());
    expect(unknown.code).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'event_not_found' } });
  });

  it('queued, processing, stalled, retrying, dead_lettered, then stored once the dead-letter worker redrives it', async () => {
    const id = randomUUID();
    const [single, batched] = [randomUUID(), randomUUID()];
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (
        await post('/api/v1/events', {
          event_id: id,
          event_type: 'test.flaky',
          source: 'e2e',
          payload: { user: 'ada' },
        })
      ).status,
    ).toBe(202);
    // The same look-up works for an event of a batch.
    const batch = await post('/api/v1/events/batch', {
      events: [single, batched].map((event_id) => ({ event_id, event_type: 'test.thing', source: 'e2e', payload: {} })),
    });
    expect(batch.status).toBe(202);

    // An id the API assigns (UUID v7) is found by its timestamp, with no index written for it.
    const assigned = await post('/api/v1/events', { event_type: 'test.thing', source: 'e2e', payload: {} });
    const assignedId = ((await assigned.json()) as { event_id: string }).event_id;
    expect((await status(assignedId)).body).toMatchObject({ event_id: assignedId, state: 'queued' });

    // No consumer yet: in the stream, not delivered.
    expect((await status(id)).body).toMatchObject({ event_id: id, state: 'queued', entry_id: expect.any(String) });
    expect((await status(batched)).body).toMatchObject({ state: 'queued' });

    // Postgres blocked by a lock: delivered and waiting (processing), then the statement times out (stalled).
    await locker.query('begin');
    // EXCLUSIVE blocks inserts but not the look-up's own select.
    await locker.query('lock table events in exclusive mode');
    consumer = await startFlakyConsumer({
      redisUrl: testRedisUrl(),
      db: consumerDb,
      queue,
      stream,
      group,
      mode: () => mode,
    });
    const processing = await untilState(id, 'processing');
    expect(processing).toMatchObject({ consumer: 'e2e-consumer', delivery_count: 1, idle_ms: expect.any(Number) });
    const stalled = await untilState(id, 'stalled');
    expect(stalled).toMatchObject({ consumer: 'e2e-consumer', cause: expect.stringMatching(/statement timeout/) });
    await locker.query('commit');

    // The sink is back; the handler throws (a code fault): waiting for another delivery.
    const retrying = await untilState(id, 'retrying');
    expect(retrying).toMatchObject({ consumer: 'e2e-consumer', error: 'the flaky handler broke' });
    expect((await untilState(batched, 'stored')).stored_at).toEqual(expect.any(String));

    // Now it refuses the event (a data fault): dead-lettered at once, and the job waits for the dead-letter worker.
    mode = 'data';
    const dead = await untilState(id, 'dead_lettered');
    expect(dead).toMatchObject({
      job_id: expect.any(String),
      job_state: 'waiting',
      verdict: 'data',
      error: 'the flaky handler refuses this event',
    });

    // The built dead-letter worker has no handler for test.flaky: it stores the event as it is.
    apps.push(
      spawnApp(appEntry('@sluice/dead-letter-worker'), {
        DATABASE_URL: testDb.url,
        REDIS_URL: testRedisUrl(),
        DEAD_LETTER_QUEUE: queueName,
      }),
    );
    const stored = await untilState(id, 'stored', 20_000);
    expect(stored.stored_at).toEqual(expect.any(String));
    await waitFor(async () => (await findDeadLetterByEventId(db, id))?.state === 'resolved', {
      what: 'the archive row resolved',
    });
    expect((await findDeadLetterByEventId(db, id))?.history).toEqual([
      expect.objectContaining({ action: 'resolve', via: 'worker' }),
    ]);
  }, 90_000);
});
