import { deadLetterJobId, deadLetterJobName, deadLetterJobOptions, type DeadLetterData } from '@sluice/dead-letter';
import { findDeadLetterByEventId, type Database } from '@sluice/db';
import { createHandlerRegistry, PermanentError, type HandlerRegistry } from '@sluice/process-event';
import { createTestDatabase, testRedisUrl, uniqueKey, waitFor, type TestDatabase } from '@sluice/test-support';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

/** A PermanentError thrown by a handler is a rejection: a data fault. */
function rejectingHandlers(): HandlerRegistry {
  return createHandlerRegistry().register('test.reject', async () => {
    throw new PermanentError('rejected by the test handler', { code: 'rejected' });
  });
}

/** A plain error that is neither the event's fault nor the sink's: a code fault. */
function codeFault(): Error {
  return Object.assign(new TypeError('flaky for the test'), { code: 'ERR_TEST_FLAKY' });
}

describe('stream consumer: failures', () => {
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

  function setUp(label: string) {
    const names = uniqueNames(label);
    const dlq = openQueue(testRedisUrl(), names.queueName);
    cleanups.push(() => redis.del(names.stream), dlq.cleanup);
    return { ...names, queue: dlq.queue };
  }

  async function start(
    names: ReturnType<typeof setUp>,
    handlers?: HandlerRegistry,
    overrides = {},
  ): Promise<TestConsumer> {
    const consumer = await startConsumer({
      redisUrl: testRedisUrl(),
      db,
      queueName: names.queueName,
      consumerOptions: testOptions(names, overrides),
      ...(handlers ? { handlers } : {}),
    });
    cleanups.push(() => consumer.close());
    return consumer;
  }

  it('a handler that throws puts the event in the dead-letter queue with its error, and acks the entry', async () => {
    const names = setUp('reject');
    const consumer = await start(names, rejectingHandlers());
    const event = streamEvent({ event_type: 'test.reject' });
    const [entryId] = await publish(redis, names.stream, [event]);
    const job = await waitFor(() => names.queue.getJob(deadLetterJobId(names.stream, entryId as string)), {
      what: 'the dead letter',
      timeoutMs: 5000,
    });
    expect(job.name).toBe('test.reject');
    expect(job.opts.attempts).toBe(1);
    expect(job.data).toMatchObject({
      fields: { event: JSON.stringify(event) },
      stream: names.stream,
      entryId,
      group: names.group,
      consumer: 'consumer-1',
      deliveryCount: 1,
      eventId: event.event_id,
      eventType: 'test.reject',
      error: { class: 'PermanentError', verdict: 'data', code: 'rejected', message: 'rejected by the test handler' },
    });
    expect(job.data.error.stack).toContain('PermanentError');
    await waitFor(async () => (await pendingCount(redis, names.stream, names.group)) === 0, { what: 'the ack' });
    // The archive row follows the job, with the payload decoded for search.
    const archived = await findDeadLetterByEventId(db, String(event.event_id));
    expect(archived).toMatchObject({
      job_id: job.id,
      entry_id: entryId,
      stream: names.stream,
      event_type: 'test.reject',
      verdict: 'data',
      state: 'failed',
      payload: event.payload,
      fields: { event: JSON.stringify(event) },
      error_message: 'rejected by the test handler',
      delivery_count: 1,
    });
    expect(
      await db.selectFrom('events').select('event_id').where('event_id', '=', String(event.event_id)).execute(),
    ).toHaveLength(0);
    expect(consumer.stats.snapshot()).toMatchObject({ deadLettered: 1, processed: 0 });
  });

  it('dead-letters undecodable entries and schema failures at once, keeping the raw fields', async () => {
    const names = setUp('undecodable');
    await start(names);
    const [noField, badJson, badSchema] = await publish(redis, names.stream, [
      ['other', 'x'],
      ['event', '{not json'],
      streamEvent({ event_type: 'has spaces' }),
    ]);
    await waitFor(async () => (await deadLetterJobs(names.queue)).length === 3, {
      what: 'three dead letters',
      timeoutMs: 5000,
    });
    const byEntry = new Map((await deadLetterJobs(names.queue)).map((job) => [job.data.entryId, job]));
    expect(byEntry.get(noField as string)?.data).toMatchObject({
      fields: { other: 'x' },
      deliveryCount: 1,
      error: { verdict: 'data', code: 'undecodable' },
    });
    expect(byEntry.get(noField as string)?.name).toBe('undecodable');
    expect(byEntry.get(badJson as string)?.data).toMatchObject({
      fields: { event: '{not json' },
      error: { class: 'PermanentError', code: 'undecodable' },
    });
    expect(byEntry.get(badSchema as string)?.data).toMatchObject({
      eventType: 'has spaces',
      error: { class: 'PermanentError', verdict: 'data', code: 'schema' },
    });
    await waitFor(async () => (await pendingCount(redis, names.stream, names.group)) === 0, { what: 'the acks' });
  });

  it('one poison event in a batch of 1,000 gives 999 rows and one dead letter, and pending returns to 0', async () => {
    const names = setUp('poison');
    const source = uniqueKey('src');
    const handlers = createHandlerRegistry().register('test.thing', async (_trx, events) => {
      if (events.some((e) => e.payload.poison === true)) throw new PermanentError('poison');
    });
    const events = Array.from({ length: 1000 }, (_, i) =>
      streamEvent({ source, payload: { n: i, poison: i === 617 } }),
    );
    const ids = await publish(redis, names.stream, events);
    const consumer = await start(names, handlers, { readCount: 1000 });
    await waitFor(
      async () =>
        (await deadLetterJobs(names.queue)).length === 1 &&
        (await pendingCount(redis, names.stream, names.group)) === 0,
      {
        what: 'the dead letter and the acks',
        timeoutMs: 20_000,
      },
    );
    expect(await eventRows(db, source)).toBe(999);
    const [job] = await deadLetterJobs(names.queue);
    expect(job?.data).toMatchObject({ entryId: ids[617], eventId: events[617]?.event_id, error: { verdict: 'data' } });
    expect(consumer.stats.snapshot()).toMatchObject({ processed: 999, deadLettered: 1 });
  });

  it('delivers a code fault again and dead-letters it when its delivery count reaches MAX_DELIVERIES', async () => {
    const names = setUp('unknown');
    let calls = 0;
    const handlers = createHandlerRegistry().register('test.flaky', async () => {
      calls += 1;
      throw codeFault();
    });
    const consumer = await start(names, handlers);
    const [entryId] = await publish(redis, names.stream, [streamEvent({ event_type: 'test.flaky' })]);
    const job = await waitFor(() => names.queue.getJob(deadLetterJobId(names.stream, entryId as string)), {
      what: 'the dead letter',
      timeoutMs: 10_000,
    });
    expect(calls).toBe(3);
    expect(job.data).toMatchObject({
      deliveryCount: 3,
      error: { class: 'TypeError', verdict: 'code', code: 'ERR_TEST_FLAKY', message: 'flaky for the test' },
    });
    expect(Date.parse(job.data.firstFailedAt)).toBeLessThan(Date.parse(job.data.lastFailedAt));
    await waitFor(async () => (await pendingCount(redis, names.stream, names.group)) === 0, { what: 'the ack' });
    expect(consumer.stats.snapshot()).toMatchObject({ deadLettered: 1, errors: 3 });
  });

  it('a code fault that clears on the next delivery ends as a row, with no dead letter', async () => {
    const names = setUp('recover');
    let calls = 0;
    const handlers = createHandlerRegistry().register('test.flaky', async () => {
      calls += 1;
      if (calls === 1) throw codeFault();
    });
    const consumer = await start(names, handlers);
    const event = streamEvent({ event_type: 'test.flaky' });
    await publish(redis, names.stream, [event]);
    await waitFor(
      () =>
        db.selectFrom('events').select('event_id').where('event_id', '=', String(event.event_id)).executeTakeFirst(),
      { what: 'the row', timeoutMs: 10_000 },
    );
    await waitFor(async () => (await pendingCount(redis, names.stream, names.group)) === 0, { what: 'the ack' });
    expect(await deadLetterJobs(names.queue)).toHaveLength(0);
    expect(consumer.stats.snapshot()).toMatchObject({ processed: 1, deadLettered: 0, errors: 1 });
  });

  it('a crash between adding the dead-letter job and the XACK leaves exactly one job after restart', async () => {
    const names = setUp('crash');
    const event = streamEvent({ event_type: 'test.reject' });
    const [entryId] = (await publish(redis, names.stream, [event])) as [string];
    // What the crashed process did: read the entry as consumer-1 and add its dead letter, but never acked.
    await redis.xgroup('CREATE', names.stream, names.group, '0', 'MKSTREAM');
    await redis.xreadgroup('GROUP', names.group, 'consumer-1', 'COUNT', 10, 'STREAMS', names.stream, '>');
    const now = new Date().toISOString();
    const data: DeadLetterData = {
      fields: { event: JSON.stringify(event) },
      stream: names.stream,
      entryId,
      group: names.group,
      consumer: 'consumer-1',
      deliveryCount: 1,
      error: { class: 'PermanentError', message: 'rejected', verdict: 'data' },
      firstFailedAt: now,
      lastFailedAt: now,
    };
    await names.queue.add(deadLetterJobName(data), data, {
      ...deadLetterJobOptions(1),
      jobId: deadLetterJobId(names.stream, entryId),
    });
    expect(await pendingCount(redis, names.stream, names.group)).toBe(1);

    const consumer = await start(names, rejectingHandlers());
    await waitFor(async () => (await pendingCount(redis, names.stream, names.group)) === 0, {
      what: 'the entry acked after the restart',
      timeoutMs: 5000,
    });
    expect(consumer.stats.snapshot().deadLettered).toBe(1);
    expect(await deadLetterJobs(names.queue)).toHaveLength(1);
  });
});
