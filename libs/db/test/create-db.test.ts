import { createTestDatabase, type TestDatabase } from '@sluice/test-support';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Database } from '../src/index.js';

let database: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, max: 2 });
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('createDb', () => {
  it('survives a connection cut while a client is checked out: the transaction rejects, the process does not crash', async () => {
    // Without a listener on checked-out clients, pg emits "Connection terminated unexpectedly" as an uncaught
    // exception after the query has already failed; vitest reports that as an unhandled error and fails the run.
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);
      }),
    ).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
  });

  it('counts queries through the log option', async () => {
    const seen: string[] = [];
    const logged = createDb({ url: database.url, max: 1, log: (event) => void seen.push(event.query.sql) });
    try {
      await sql`select 1`.execute(logged);
      expect(seen).toEqual(['select 1']);
    } finally {
      await logged.destroy();
    }
  });
});
