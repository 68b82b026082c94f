import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
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
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterProcessor, type DeadLetterResult } from '../src/dead-letter.processor.js';
import { createDeadLetterWorker } from '../src/dead-letter.worker.js';
import { addDeadLetter, eventDeadLetter, streamEvent } from './dead-letter-fixtures.js';

const PREFIX = 'bull';
const BASE = '/admin/queues';

describe('redrive through Bull Board', () => {
  let testDb: TestDatabase;
  let db: ReturnType<typeof createDb>;
  let redis: Redis;
  let queueName: string;
  let queue: Queue<DeadLetterData, DeadLetterResult>;
  let worker: Worker<DeadLetterData, DeadLetterResult>;
  let app: Koa;
  // The cause of the failure: while set, the handler rejects every event.
  let broken = true;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = createDb({ url: testDb.url });
    await migrateToLatest(db);
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queueName = uniqueKey('dlq-board');
    queue = new Queue(queueName, { connection: redis, prefix: PREFIX });
    const handlers = createHandlerRegistry();
    handlers.register('test.flaky', async () => {
      if (broken) throw new PermanentError('test.flaky is broken');
    });
    const logger = captureLogs().logger;
    worker = createDeadLetterWorker({
      queueName,
      prefix: PREFIX,
      connection: redis,
      logger,
      processor: createDeadLetterProcessor({ db, handlers, attempts: 5, logger, pause: (ms) => queue.rateLimit(ms) }),
    });

    const serverAdapter = new KoaAdapter();
    serverAdapter.setBasePath(BASE);
    createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter });
    app = new Koa();
    app.use(serverAdapter.registerPlugin());
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    redis?.disconnect();
    await db?.destroy();
    await testDb?.drop();
  });

  async function rowExists(eventId: unknown): Promise<boolean> {
    const row = await db
      .selectFrom('events')
      .select('event_id')
      .where('event_id', '=', String(eventId))
      .executeTakeFirst();
    return row !== undefined;
  }

  it('retries one failed job once its handler is fixed, and the event ends as a row', async () => {
    broken = true;
    const event = streamEvent({ event_type: 'test.flaky' });
    const job = await addDeadLetter(queue, eventDeadLetter(event));
    await waitFor(() => job.isFailed(), { what: 'the job to fail' });
    expect((await queue.getJob(job.id as string))?.attemptsMade).toBe(1);
    expect(await rowExists(event.event_id)).toBe(false);

    broken = false;
    await request(app.callback()).put(`${BASE}/api/queues/${queueName}/${job.id}/retry`).expect(204);
    await waitFor(() => job.isCompleted(), { what: 'the retried job to complete' });
    expect(await rowExists(event.event_id)).toBe(true);
    const done = await queue.getJob(job.id as string);
    expect(done?.returnvalue).toMatchObject({ status: 'processed' });
    // The first failure stays in the job's history.
    expect(done?.stacktrace).toHaveLength(1);
    const { logs } = await queue.getJobLogs(job.id as string);
    expect(logs).toEqual([
      expect.stringMatching(/attempt 1\/5 data fault, failed for good/),
      expect.stringMatching(/attempt 2: processed/),
    ]);
  });

  it('retries every failed job through "retry all"', async () => {
    broken = true;
    const events = [streamEvent({ event_type: 'test.flaky' }), streamEvent({ event_type: 'test.flaky' })];
    const jobs = await Promise.all(events.map((event) => addDeadLetter(queue, eventDeadLetter(event))));
    await waitFor(async () => (await queue.getFailedCount()) === 2, { what: 'both jobs to fail' });

    broken = false;
    const response = await request(app.callback()).put(`${BASE}/api/queues/${queueName}/retry/failed`).expect(200);
    expect(response.body).toMatchObject({ retried: 2 });
    await waitFor(async () => (await Promise.all(jobs.map((job) => job.isCompleted()))).every(Boolean), {
      what: 'both jobs to complete',
    });
    for (const event of events) expect(await rowExists(event.event_id)).toBe(true);
    expect(await queue.getFailedCount()).toBe(0);
  });
});
