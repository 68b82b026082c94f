import { archiveDeadLetters, createDb, findDeadLetterByEventId, migrateToLatest } from '@sluice/db';
import { toArchiveRow, type DeadLetterData } from '@sluice/dead-letter';
import {
  captureLogs,
  createTestDatabase,
  testRedisUrl,
  uniqueKey,
  waitFor,
  type TestDatabase,
} from '@sluice/test-support';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchiveUpkeep } from '../src/archive-upkeep.js';
import { addDeadLetter, eventDeadLetter, streamEvent } from './dead-letter-fixtures.js';

describe('archive upkeep', () => {
  let testDb: TestDatabase;
  let db: ReturnType<typeof createDb>;
  let redis: Redis;
  let queue: Queue<DeadLetterData>;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = createDb({ url: testDb.url });
    await migrateToLatest(db);
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue<DeadLetterData>(uniqueKey('dlq-upkeep'), { connection: redis });
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await db.destroy();
    await testDb.drop();
  });

  it('archives the dead letters that reached the queue but not the archive, and leaves the others alone', async () => {
    // Three dead letters waiting in the queue; Postgres took the row of only the first (an outage hit the others).
    const letters = [eventDeadLetter(streamEvent()), eventDeadLetter(streamEvent()), eventDeadLetter(streamEvent())];
    const jobs = await Promise.all(letters.map((data) => addDeadLetter(queue, data)));
    const [first] = letters as [DeadLetterData];
    await archiveDeadLetters(db, [
      { ...toArchiveRow(String(jobs[0]?.id), first), error_message: 'archived at the time' },
    ]);
    // A job added by hand in Bull Board, without the dead-letter shape, is not archived.
    await queue.add('by-hand', { anything: true } as unknown as DeadLetterData);

    const logs = captureLogs('upkeep');
    const upkeep = startArchiveUpkeep({
      queue: queue as Queue<Partial<DeadLetterData> | undefined>,
      db,
      logger: logs.logger,
      intervalMs: 60_000,
    });
    try {
      await waitFor(
        () => logs.entries().some((line) => line.msg === 'Archived dead letters that had no archive row yet'),
        {
          what: 'the reconciliation',
        },
      );
    } finally {
      upkeep.stop();
    }
    for (const data of letters.slice(1)) {
      expect(await findDeadLetterByEventId(db, String(data.eventId))).toMatchObject({
        state: 'failed',
        entry_id: data.entryId,
        history: [],
      });
    }
    expect((await findDeadLetterByEventId(db, String(first.eventId)))?.error_message).toBe('archived at the time');
    expect(
      logs.entries().find((line) => line.msg === 'Archived dead letters that had no archive row yet'),
    ).toMatchObject({
      added: 2,
    });
  });
});
