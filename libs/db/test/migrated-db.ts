import { createTestDatabase, type TestDatabase } from '@sluice/test-support';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { createDb, migrateToLatest, type Database } from '../src/index.js';

/**
 * Gives the calling test file a database of its own, migrated before its tests and dropped after them. Returns a
 * getter: the database exists only once `beforeAll` has run.
 */
export function useMigratedDb(): () => Kysely<Database> {
  let database: TestDatabase | undefined;
  let db: Kysely<Database> | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb({ url: database.url, max: 2 });
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });
  return () => {
    if (db === undefined) throw new Error('the test database is not ready: use it inside a test or hook');
    return db;
  };
}
