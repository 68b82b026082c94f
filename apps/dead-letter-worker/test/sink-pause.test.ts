import { createDb, migrateToLatest } from '@sluice/db';
import type { DeadLetterData } from '@sluice/dead-letter';
import { createHandlerRegistry } from '@sluice/process-event';
import {
  captureLogs,
  type PrivatePostgres,
  startPrivatePostgres,
  testRedisUrl,
  uniqueKey,
  waitFor,
} from '@sluice/test-support';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterProcessor, type DeadLetterResult } from '../src/dead-letter.processor.js';
import { createDeadLetterWorker } from '../src/dead-letter.worker.js';
import { addDeadLetter, eventDeadLetter, streamEvent } from './dead-letter-fixtures.js';

const PREFIX = 'bull';
const BASE_DELAY_MS = 100;

// A Postgres of this file's own, stopped and started to make a real outage.
describe('dead-letter worker during a Postgres outage (a sink fault)', () => {
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
      processor: createDeadLetterProcessor({
        db,
        handlers: createHandlerRegistry(),
        attempts: 3,
        logger,
        pause: (ms) => queue.rateLimit(ms),
        maxPauseMs: 500,
      }),
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

  it('pauses the queue while Postgres is down, spending no attempt, and stores the event once it is back', async () => {
    postgres.stop();
    const failed: string[] = [];
    let starts = 0;
    worker.on('active', () => (starts += 1));
    worker.on('failed', (job) => failed.push(String(job?.id)));
    const event = streamEvent();
    // Three attempts allowed: an outage that spent them would fail the job for good within a second or two.
    const added = await addDeadLetter(queue, eventDeadLetter(event), 3, BASE_DELAY_MS);

    await waitFor(() => starts >= 5, { what: 'five tries against the stopped server', timeoutMs: 20_000 });
    const during = await queue.getJob(added.id as string);
    expect(during?.attemptsMade).toBe(0);
    expect(failed).toEqual([]);
    expect(await queue.getFailedCount()).toBe(0);

    postgres.start();
    const done = await waitFor(
      async () => ((await added.isCompleted()) ? queue.getJob(added.id as string) : undefined),
      {
        what: 'the dead letter to complete after Postgres is back',
        timeoutMs: 30_000,
      },
    );
    expect(done?.returnvalue).toMatchObject({ status: 'processed', eventId: event.event_id });
    expect(failed).toEqual([]);
    const row = await db
      .selectFrom('events')
      .select(['event_id'])
      .where('event_id', '=', String(event.event_id))
      .executeTakeFirst();
    expect(row).toBeDefined();
  });
});
