import { createDb, migrateToLatest } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createHandlerRegistry, PermanentError } from '@sluice/process-event';
import {
  captureLogs,
  createTestDatabase,
  type TestDatabase,
  testRedisUrl,
  uniqueKey,
  waitFor,
} from '@sluice/test-support';
import { Queue, type Job, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeadLetterProcessor, type DeadLetterResult } from '../src/dead-letter.processor.js';
import { createDeadLetterWorker } from '../src/dead-letter.worker.js';
import { createWorkerMetrics, type WorkerMetrics } from '../src/worker-metrics.js';
import { addDeadLetter, deadLetterData, eventDeadLetter, streamEvent } from './dead-letter-fixtures.js';

const PREFIX = 'bull';
const ATTEMPTS = 3;

describe('dead-letter worker', () => {
  let testDb: TestDatabase;
  let db: ReturnType<typeof createDb>;
  let redis: Redis;
  let queue: Queue<DeadLetterData, DeadLetterResult>;
  let worker: Worker<DeadLetterData, DeadLetterResult>;
  let metrics: WorkerMetrics;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = createDb({ url: testDb.url });
    await migrateToLatest(db);
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    redis.disconnect();
    await db.destroy();
    await testDb.drop();
  });

  beforeEach(() => {
    const handlers = createHandlerRegistry();
    handlers.register('test.rejected', async () => {
      throw new PermanentError('the handler rejects this event');
    });
    handlers.register('test.broken', async () => {
      // A plain error: neither the event's fault nor the sink's, so a code fault.
      throw new TypeError('the handler broke in a way nobody classified');
    });
    const queueName = uniqueKey('dlq');
    logs = captureLogs();
    metrics = createWorkerMetrics({ defaultMetrics: false });
    queue = new Queue(queueName, { connection: redis, prefix: PREFIX });
    worker = createDeadLetterWorker({
      queueName,
      prefix: PREFIX,
      connection: redis,
      logger: logs.logger,
      processor: createDeadLetterProcessor({
        db,
        handlers,
        attempts: ATTEMPTS,
        logger: logs.logger,
        metrics,
        pause: (ms) => queue.rateLimit(ms),
      }),
    });
  });

  afterEach(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });

  async function finished(job: Job): Promise<Job<DeadLetterData, DeadLetterResult>> {
    return waitFor(
      async () => {
        const current = await queue.getJob(job.id as string);
        const state = await current?.getState();
        return state === 'completed' || state === 'failed' ? current : undefined;
      },
      { what: `job ${job.id} to finish`, timeoutMs: 15_000 },
    );
  }

  it('stores the event with the entry id as its stream id, and completes a second copy as a duplicate', async () => {
    const event = streamEvent();
    const first = eventDeadLetter(event);
    const done = await finished(await addDeadLetter(queue, first));
    expect(await done.getState()).toBe('completed');
    expect(done.returnvalue).toEqual({ status: 'processed', eventId: event.event_id, eventType: 'test.thing' });
    const row = await db
      .selectFrom('events')
      .selectAll()
      .where('event_id', '=', String(event.event_id))
      .executeTakeFirstOrThrow();
    expect(row.stream_id).toBe(first.entryId);
    expect(row.event_type).toBe('test.thing');

    const again = await finished(await addDeadLetter(queue, eventDeadLetter(event)));
    expect(again.returnvalue).toMatchObject({ status: 'duplicate', eventId: event.event_id });
    const text = await metrics.registry.metrics();
    expect(text).toContain('sluice_dead_letter_completed_total{status="processed"} 1');
    expect(text).toContain('sluice_dead_letter_completed_total{status="duplicate"} 1');
    // One structured line per job, naming it.
    expect(logs.entries()).toContainEqual(
      expect.objectContaining({
        msg: 'Dead letter processed',
        jobId: done.id,
        eventId: event.event_id,
        eventType: 'test.thing',
        attempt: 1,
      }),
    );
  });

  it.each([
    ['without an event field', { other: 'x' }, /missing field 'event'/],
    ['whose event is not JSON', { event: '{not json' }, /invalid JSON in 'event'/],
  ])('fails an entry %s at once and keeps its raw fields', async (_label, fields, reason) => {
    const data = deadLetterData(fields);
    const job = await finished(await addDeadLetter(queue, data, 5));
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.name).toBe('undecodable');
    expect(job.failedReason).toMatch(reason);
    expect(job.data.fields).toEqual(fields);
    expect(job.stacktrace).toHaveLength(1);
    const { logs: lines } = await queue.getJobLogs(job.id as string);
    expect(lines).toEqual([
      expect.stringMatching(/attempt 1\/3 data fault, failed for good: PermanentError: Undecodable/),
    ]);
    expect(await queue.getFailedCount()).toBe(1);
  });

  it('fails a schema failure and a handler rejection at once', async () => {
    const invalid = await finished(
      await addDeadLetter(queue, eventDeadLetter(streamEvent({ event_type: '', payload: 'nope' }))),
    );
    const rejected = await finished(
      await addDeadLetter(queue, eventDeadLetter(streamEvent({ event_type: 'test.rejected' }))),
    );
    for (const job of [invalid, rejected]) {
      expect(await job.getState()).toBe('failed');
      expect(job.attemptsMade).toBe(1);
    }
    expect(rejected.failedReason).toMatch(/the handler rejects this event/);
    expect(await metrics.registry.metrics()).toContain(
      'sluice_dead_letter_failures_total{verdict="data",final="true"} 2',
    );
  });

  it('retries a code fault, and stops at DEAD_LETTER_ATTEMPTS even when the job allows more', async () => {
    const event = streamEvent({ event_type: 'test.broken' });
    const job = await finished(await addDeadLetter(queue, eventDeadLetter(event), 10, 20));
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(ATTEMPTS);
    expect(job.failedReason).toMatch(/nobody classified/);
    expect(job.stacktrace).toHaveLength(ATTEMPTS);
    const { logs: lines } = await queue.getJobLogs(job.id as string);
    expect(lines).toEqual([
      expect.stringMatching(/attempt 1\/3 code fault, will retry/),
      expect.stringMatching(/attempt 2\/3 code fault, will retry/),
      expect.stringMatching(/attempt 3\/3 code fault, attempts exhausted, failed for good/),
    ]);
    const failures = logs
      .entries()
      .filter((entry) => String(entry.msg).startsWith('Dead letter failed') && entry.eventId === event.event_id);
    expect(failures.map((entry) => [entry.attempt, entry.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
  });
});
