import { randomUUID } from 'node:crypto';
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

describe('stream consumer: the happy path', () => {
  let testDb: TestDatabase;
  let db: Kysely<Database>;
  let redis: Redis;
  const running: TestConsumer[] = [];
  const streams: string[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = await migratedDb(testDb.url);
    redis = new Redis(testRedisUrl());
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.close()));
    if (streams.length > 0) await redis.del(...streams.splice(0));
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.destroy();
    await testDb?.drop();
  });

  async function start(label: string, overrides = {}) {
    const names = uniqueNames(label);
    streams.push(names.stream);
    const consumer = await startConsumer({
      redisUrl: testRedisUrl(),
      db,
      queueName: names.queueName,
      consumerOptions: testOptions(names, overrides),
    });
    running.push(consumer);
    return { ...names, ...consumer };
  }

  it('turns a published event into a row within a second or two, and acks it', async () => {
    const { stream, group } = await start('one');
    const source = uniqueKey('src');
    const event = streamEvent({ source });
    await publish(redis, stream, [event]);
    await waitFor(async () => (await eventRows(db, source)) === 1, { what: 'the row', timeoutMs: 5000 });
    const row = await db
      .selectFrom('events')
      .selectAll()
      .where('event_id', '=', String(event.event_id))
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ event_type: 'test.thing', source, payload: { n: 1 } });
    expect(row.stream_id).toMatch(/^\d+-\d+$/);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { what: 'the ack' });
  });

  it('session.start creates the event row and the session row', async () => {
    const { stream } = await start('session');
    const sessionId = `sess_${randomUUID()}`;
    const event = streamEvent({ event_type: 'session.start', session_id: sessionId, payload: { user: 'ada' } });
    await publish(redis, stream, [event]);
    await waitFor(() => db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst(), {
      what: 'the session row',
      timeoutMs: 5000,
    });
    const rows = await db
      .selectFrom('events')
      .select('event_id')
      .where('event_id', '=', String(event.event_id))
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('a duplicate event (same event_id twice) gives one row and counts a duplicate', async () => {
    const { stream, group, stats } = await start('dup');
    const source = uniqueKey('src');
    const event = streamEvent({ source });
    await publish(redis, stream, [event, event]);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0 && stats.snapshot().processed === 1, {
      what: 'both entries acked',
    });
    await publish(redis, stream, [event]);
    await waitFor(() => stats.snapshot().duplicates === 2, { what: 'the later duplicate' });
    expect(await eventRows(db, source)).toBe(1);
  });

  it('logs its handler types at start and a stats line with totals, pending and lag', async () => {
    const { stream, logs } = await start('stats', { statsIntervalMs: 200 });
    await publish(redis, stream, [streamEvent(), streamEvent()]);
    await waitFor(() => logs.entries().some((e) => e.msg === 'Consumer stats' && e.processed === 2), {
      what: 'a stats line',
      timeoutMs: 5000,
    });
    const started = logs.entries().find((e) => e.msg === 'Event consumer started');
    expect(started).toMatchObject({
      stream,
      consumer: 'consumer-1',
      handlerTypes: expect.arrayContaining(['session.start', 'session.end']),
    });
    const stats = logs
      .entries()
      .filter((e) => e.msg === 'Consumer stats')
      .at(-1);
    expect(stats).toMatchObject({
      processed: 2,
      duplicates: 0,
      errors: 0,
      deadLettered: 0,
      lost: 0,
      pending: 0,
      lag: 0,
    });
  });

  it('trims what the group has acknowledged', async () => {
    const { stream, group } = await start('trim', { trimIntervalMs: 200 });
    await publish(
      redis,
      stream,
      Array.from({ length: 50 }, () => streamEvent()),
    );
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0 && (await redis.xlen(stream)) === 0, {
      what: 'the stream trimmed',
      timeoutMs: 5000,
    });
  });
});
