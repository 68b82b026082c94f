import { archiveDeadLetters, findDeadLetterByEventId } from '@sluice/db';
import {
  deadLetterJobId,
  deadLetterJobName,
  deadLetterJobOptions,
  toArchiveRow,
  type DeadLetterData,
} from '@sluice/dead-letter';
import { testRedisUrl, uniqueKey, waitFor } from '@sluice/test-support';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDb, createTestApp, type TestApp, type TestDb } from './support/test-env.js';

const ADMIN_USER = 'board-admin';
const ADMIN_PASSWORD = 'board-history-pw-77';
const auth = `Basic ${Buffer.from(`${ADMIN_USER}:${ADMIN_PASSWORD}`).toString('base64')}`;

// What an admin does in Bull Board to a dead letter is recorded in its archive row, with the admin's user name.
describe('Bull Board actions in the dead-letter archive', () => {
  let testDb: TestDb;
  let redis: Redis;
  let queue: Queue<DeadLetterData>;
  let t: TestApp;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue<DeadLetterData>(uniqueKey('dlq-history'), { connection: redis });
    t = await createTestApp({ db: testDb.db, env: { ADMIN_USER, ADMIN_PASSWORD }, deadLetterQueue: queue });
  });

  afterAll(async () => {
    await queue?.obliterate({ force: true });
    await queue?.close();
    redis?.disconnect();
    await t?.close();
    await testDb?.close();
  });

  /** `count` dead letters, archived and failed for good (as the consumer and the worker leave them). */
  async function failedDeadLetters(count: number): Promise<DeadLetterData[]> {
    const now = new Date().toISOString();
    const letters = Array.from({ length: count }, (_, i): DeadLetterData => {
      const eventId = crypto.randomUUID();
      return {
        fields: { event: JSON.stringify({ event_id: eventId, event_type: 'test.thing', payload: { i } }) },
        stream: t.stream,
        entryId: `${Date.now()}-${i}`,
        group: 'event-processors',
        consumer: 'c1',
        deliveryCount: 1,
        error: { class: 'PermanentError', message: 'rejected', verdict: 'data' },
        firstFailedAt: now,
        lastFailedAt: now,
        eventId,
        eventType: 'test.thing',
      };
    });
    const jobs = await queue.addBulk(
      letters.map((data) => ({
        name: deadLetterJobName(data),
        data,
        opts: { ...deadLetterJobOptions(1), jobId: deadLetterJobId(data.stream, data.entryId) },
      })),
    );
    await archiveDeadLetters(
      testDb.db,
      letters.map((data) => toArchiveRow(deadLetterJobId(data.stream, data.entryId), data)),
    );
    const worker = new Worker<DeadLetterData>(
      queue.name,
      async (job) => Promise.reject(new UnrecoverableError(job.data.error.message)),
      {
        connection: redis.duplicate(),
      },
    );
    await waitFor(async () => (await Promise.all(jobs.map((job) => job.isFailed()))).every(Boolean), {
      what: 'the jobs failed',
    });
    await worker.close();
    return letters;
  }

  it('records a retry and a removal of one job, and a retry of all failed jobs, under the admin user', async () => {
    const [one, two, three] = await failedDeadLetters(3);
    const jobId = (data: DeadLetterData | undefined) => deadLetterJobId(String(data?.stream), String(data?.entryId));
    const history = async (data: DeadLetterData | undefined) =>
      findDeadLetterByEventId(testDb.db, String(data?.eventId));

    const base = `/admin/queues/api/queues/${encodeURIComponent(queue.name)}`;
    expect((await t.http.put(`${base}/${jobId(one)}/retry`).set('authorization', auth)).status).toBeLessThan(300);
    expect(await history(one)).toMatchObject({
      state: 'redriven',
      history: [{ action: 'redrive', via: 'board', by: ADMIN_USER }],
    });

    expect((await t.http.put(`${base}/${jobId(two)}/clean`).set('authorization', auth)).status).toBeLessThan(300);
    expect(await history(two)).toMatchObject({
      state: 'purged',
      history: [{ action: 'purge', via: 'board', by: ADMIN_USER }],
    });

    expect((await t.http.put(`${base}/retry/failed`).set('authorization', auth)).status).toBeLessThan(300);
    expect(await history(three)).toMatchObject({ state: 'redriven', history: [{ action: 'redrive', via: 'board' }] });
    // Without credentials nothing happens and nothing is recorded.
    expect((await t.http.put(`${base}/${jobId(three)}/clean`)).status).toBe(401);
    expect((await history(three))?.history).toHaveLength(1);
  });
});
