import { createTestDatabase, startPrivatePostgres, type PrivatePostgres, type TestDatabase } from '@sluice/test-support';
import { createDb, ensureDatabase, migrateToLatest, parseDatabaseUrl, sql, type Database, type Kysely } from '@sluice/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlerRegistry, processBatch, TransientError, type BatchItem, type ProcessLogger } from '../src/index.js';
import { batchOf, streamEvent } from './fixtures.js';

async function countEvents(db: Kysely<Database>, items: BatchItem[]): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('event_id', 'in', items.map((item) => item.event.event_id))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A logger that keeps the messages, to show a transient failure is not split into smaller attempts. */
function recordingLogger(): ProcessLogger & { messages: string[] } {
  const messages: string[] = [];
  const record = (_obj: object, msg?: string) => void messages.push(msg ?? '');
  return { messages, debug: record, info: record, warn: record, error: record };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('Postgres unreachable (a private server that is stopped)', () => {
  let server: PrivatePostgres;
  let db: Kysely<Database>;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    const url = parseDatabaseUrl(server.url).withDatabase('sluice');
    await ensureDatabase(url);
    // Idle clients of a stopped server emit errors; without a listener they would crash the test process.
    db = createDb({ url, max: 2, connectionTimeoutMillis: 2000, onPoolError: () => {} });
    await migrateToLatest(db);
  });

  afterAll(async () => {
    await db?.destroy();
    server?.destroy();
  });

  it('fails the whole batch as transient, writes nothing, and works again once the server is back', async () => {
    const handlers = createHandlerRegistry();
    expect((await processBatch({ db, handlers }, batchOf(3))).map((r) => r.status)).toEqual(['processed', 'processed', 'processed']);

    const items = batchOf(200);
    const logger = recordingLogger();
    server.stop();
    try {
      const error = await rejection(processBatch({ db, handlers, logger }, items));
      expect(error).toBeInstanceOf(TransientError);
      expect((error as TransientError).cause).toBeDefined();
      expect(logger.messages.some((m) => /splitting/.test(m))).toBe(false);
    } finally {
      server.start();
    }
    expect(await countEvents(db, items)).toBe(0);
    expect((await processBatch({ db, handlers }, items)).every((r) => r.status === 'processed')).toBe(true);
  });

  it('a server that goes down mid-batch (after the insert, before the commit) leaves nothing behind', async () => {
    const handlers = createHandlerRegistry().register('test.crash', async () => {
      server.stop();
    });
    const items = [...batchOf(100), { event: streamEvent({ event_type: 'test.crash' }) }];
    try {
      const error = await rejection(processBatch({ db, handlers }, items));
      expect(error).toBeInstanceOf(TransientError);
    } finally {
      server.start();
    }
    expect(await countEvents(db, items)).toBe(0);
  });
});

describe('connection terminated mid-batch (pg_terminate_backend)', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb({ url: database.url, max: 2, onPoolError: () => {} });
    await migrateToLatest(db);
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('fails as transient (57P01) without splitting and rolls the whole batch back; a retry stores it', async () => {
    let terminate = true;
    const handlers = createHandlerRegistry().register('test.terminate', async (trx) => {
      if (terminate) await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);
    });
    const items = [...batchOf(300), { event: streamEvent({ event_type: 'test.terminate' }) }, ...batchOf(300)];
    const logger = recordingLogger();
    const error = await rejection(processBatch({ db, handlers, logger }, items));
    expect(error).toBeInstanceOf(TransientError);
    expect(logger.messages.some((m) => /splitting/.test(m))).toBe(false);
    expect(await countEvents(db, items)).toBe(0);

    terminate = false;
    expect((await processBatch({ db, handlers }, items)).every((r) => r.status === 'processed')).toBe(true);
    expect(await countEvents(db, items)).toBe(items.length);
  });
});
