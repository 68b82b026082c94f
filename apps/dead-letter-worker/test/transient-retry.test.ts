import { createDb, migrateToLatest } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { captureLogs } from '@sluice/logger';
import { createHandlerRegistry } from '@sluice/process-event';
import { startPrivatePostgres, testRedisUrl, uniqueKey, waitFor, type PrivatePostgres } from '@sluice/test-support';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterProcessor, type DeadLetterResult } from '../src/dead-letter.processor.js';
import { createDeadLetterWorker } from '../src/dead-letter.worker.js';
import { addDeadLetter, eventDeadLetter, streamEvent } from './dead-letter-fixtures.js';

const PREFIX = 'bull';
const BASE_DELAY_MS = 100;

// A Postgres of this file's own, stopped and started to make a real outage.
describe('dead-letter worker during a Postgres outage', () => {
  let postgres: PrivatePostgres;
  let db: ReturnType<typeof createDb>;
  let redis: Redis;
  let queue: Queue<DeadLetterData, DeadLetterResult>;
  let worker: Worker<DeadLetterData, DeadLetterResult>;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    db = createDb({ url: postgres.url, connectionTimeoutMillis: 2000, onPoolError: () => {} });
    await migrateToLatest(db);
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queueName = uniqueKey('dlq-outage');
    queue = new Queue(queueName, { connection: redis, prefix: PREFIX });
    const logger = captureLogs().logger;
    worker = createDeadLetterWorker({
      queueName,
      prefix: PREFIX,
      connection: redis,
      logger,
      processor: createDeadLetterProcessor({ db, handlers: createHandlerRegistry(), attempts: 10, logger }),
    });
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    redis?.disconnect();
    await db?.destroy();
    postgres?.destroy();
  });

  it('retries with growing delays while Postgres is down and stores the event once it is back', async () => {
    postgres.stop();
    const delays: number[] = [];
    const starts: number[] = [];
    worker.on('active', () => starts.push(Date.now()));
    worker.on('failed', (job) => {
      if (job) delays.push(job.delay);
    });
    const event = streamEvent();
    const added = await addDeadLetter(queue, eventDeadLetter(event), 10, BASE_DELAY_MS);

    await waitFor(() => delays.length >= 3, { what: 'three failed attempts', timeoutMs: 20_000 });
    const job = await queue.getJob(added.id as string);
    expect(job?.failedReason).toBeTruthy();
    const { logs } = await queue.getJobLogs(added.id as string);
    expect(logs.slice(0, 3)).toEqual([
      expect.stringMatching(/attempt 1\/10 transient error, will retry/),
      expect.stringMatching(/attempt 2\/10 transient error, will retry/),
      expect.stringMatching(/attempt 3\/10 transient error, will retry/),
    ]);
    // Exponential backoff with 50% jitter: attempt n waits between base*2^(n-1)/2 and base*2^(n-1).
    for (const [index, delay] of delays.slice(0, 3).entries()) {
      const max = BASE_DELAY_MS * 2 ** index;
      expect(delay).toBeGreaterThanOrEqual(max / 2);
      expect(delay).toBeLessThanOrEqual(max);
      // BullMQ never starts the next attempt before the delay is over.
      const gap = (starts[index + 1] ?? Infinity) - (starts[index] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(delay - 5);
    }
    expect(delays[2]).toBeGreaterThan(delays[0] as number);

    postgres.start();
    const done = await waitFor(async () => ((await added.isCompleted()) ? queue.getJob(added.id as string) : undefined), {
      what: 'the dead letter to complete after Postgres is back',
      timeoutMs: 30_000,
    });
    expect(done?.returnvalue).toMatchObject({ status: 'processed', eventId: event.event_id });
    expect(done?.attemptsMade).toBeGreaterThan(3);
    const row = await db.selectFrom('events').select(['event_id']).where('event_id', '=', String(event.event_id)).executeTakeFirst();
    expect(row).toBeDefined();
  });
});
