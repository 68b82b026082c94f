import {
  createTestDatabase,
  startPrivatePostgres,
  type PrivatePostgres,
  type TestDatabase,
} from '@sluice/test-support';
import {
  createDb,
  ensureDatabase,
  migrateToLatest,
  parseDatabaseUrl,
  sql,
  type Database,
  type Kysely,
} from '@sluice/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHandlerRegistry,
  processEntries,
  type EntryOutcome,
  type ProcessLogger,
  type RawEntry,
} from '../src/index.js';
import { batchOf, entryOf, idsOf, streamEvent } from './fixtures.js';

async function countEvents(db: Kysely<Database>, entries: RawEntry[]): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('event_id', 'in', idsOf(entries))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every outcome stalled on a sink fault (the cause kept), nothing failed. */
function expectAllStalled(outcomes: EntryOutcome[]): void {
  expect(outcomes.every((o) => o.status === 'stalled')).toBe(true);
  expect(outcomes[0]).toMatchObject({ status: 'stalled', cause: expect.any(Error) });
}

/** A logger that keeps the messages, to show a sink fault is not split into smaller attempts. */
function recordingLogger(): ProcessLogger & { messages: string[] } {
  const messages: string[] = [];
  const record = (_obj: object, msg?: string) => void messages.push(msg ?? '');
  return { messages, debug: record, info: record, warn: record, error: record };
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

  it('stalls the whole call on a sink fault, writes nothing, and works again once the server is back', async () => {
    const handlers = createHandlerRegistry();
    expect((await processEntries({ db, handlers }, batchOf(3))).map((o) => o.status)).toEqual([
      'processed',
      'processed',
      'processed',
    ]);

    const entries = batchOf(200);
    const logger = recordingLogger();
    server.stop();
    try {
      expectAllStalled(await processEntries({ db, handlers, logger }, entries));
      expect(logger.messages.some((m) => /splitting/.test(m))).toBe(false);
    } finally {
      server.start();
    }
    expect(await countEvents(db, entries)).toBe(0);
    expect((await processEntries({ db, handlers }, entries)).every((o) => o.status === 'processed')).toBe(true);
  });

  it('a server that goes down mid-batch (after the insert, before the commit) leaves nothing behind', async () => {
    const handlers = createHandlerRegistry().register('test.crash', async () => {
      server.stop();
    });
    const entries = [...batchOf(100), entryOf(streamEvent({ event_type: 'test.crash' }))];
    try {
      expectAllStalled(await processEntries({ db, handlers }, entries));
    } finally {
      server.start();
    }
    expect(await countEvents(db, entries)).toBe(0);
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

  it('stalls on 57P01 without splitting and rolls the whole batch back; a retry stores it', async () => {
    let terminate = true;
    const handlers = createHandlerRegistry().register('test.terminate', async (trx) => {
      if (terminate) await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);
    });
    const entries = [...batchOf(300), entryOf(streamEvent({ event_type: 'test.terminate' })), ...batchOf(300)];
    const logger = recordingLogger();
    expectAllStalled(await processEntries({ db, handlers, logger }, entries));
    expect(logger.messages.some((m) => /splitting/.test(m))).toBe(false);
    expect(await countEvents(db, entries)).toBe(0);

    terminate = false;
    expect((await processEntries({ db, handlers }, entries)).every((o) => o.status === 'processed')).toBe(true);
    expect(await countEvents(db, entries)).toBe(entries.length);
  });
});
