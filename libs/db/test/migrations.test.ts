import { createTestDatabase, type TestDatabase } from '@sluice/test-support';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDb,
  DatabaseUrlError,
  ensureDatabase,
  migrateToLatest,
  parseDatabaseUrl,
  type Database,
} from '../src/index.js';

let database: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, max: 2 });
});

afterAll(async () => {
  await db.destroy();
  await database.drop();
});

describe('migrations', () => {
  it('create the contract tables and columns, and a second run changes nothing', async () => {
    const first = await migrateToLatest(db);
    expect(first.map((r) => r.status)).toEqual(['Success', 'Success', 'Success']);
    expect(await migrateToLatest(db)).toEqual([]);

    const columns = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>`
      select table_name, column_name, data_type, is_nullable from information_schema.columns
      where table_schema = 'public' and table_name in ('events', 'sessions', 'transcripts', 'dead_letters')
      order by table_name, ordinal_position`.execute(db);
    const events = columns.rows
      .filter((c) => c.table_name === 'events')
      .map((c) => [c.column_name, c.data_type, c.is_nullable]);
    expect(events).toEqual([
      ['event_id', 'uuid', 'NO'],
      ['event_type', 'text', 'NO'],
      ['source', 'text', 'NO'],
      ['session_id', 'text', 'YES'],
      ['occurred_at', 'timestamp with time zone', 'NO'],
      ['payload', 'jsonb', 'NO'],
      ['stream_id', 'text', 'YES'],
      ['received_at', 'timestamp with time zone', 'YES'],
      ['created_at', 'timestamp with time zone', 'NO'],
    ]);
    const sessions = columns.rows.filter((c) => c.table_name === 'sessions').map((c) => c.column_name);
    expect(sessions).toEqual([
      'session_id',
      'source',
      'started_at',
      'ended_at',
      'metadata',
      'created_at',
      'updated_at',
    ]);
    expect(columns.rows.some((c) => c.table_name === 'transcripts' && c.column_name === 'session_id')).toBe(true);
    const deadLetters = columns.rows
      .filter((c) => c.table_name === 'dead_letters')
      .map((c) => [c.column_name, c.data_type]);
    // The contract's columns, plus the decoded payload (searched with @>) and the whole job data (for redrives).
    expect(deadLetters).toEqual([
      ['job_id', 'text'],
      ['event_id', 'text'],
      ['event_type', 'text'],
      ['stream', 'text'],
      ['entry_id', 'text'],
      ['fields', 'jsonb'],
      ['payload', 'jsonb'],
      ['verdict', 'text'],
      ['error_message', 'text'],
      ['error_stack', 'text'],
      ['delivery_count', 'integer'],
      ['dead_lettered_at', 'timestamp with time zone'],
      ['state', 'text'],
      ['resolved_at', 'timestamp with time zone'],
      ['history', 'jsonb'],
      ['data', 'jsonb'],
    ]);

    const indexes = await sql<{
      indexname: string;
    }>`select indexname from pg_indexes where tablename = 'events' order by 1`.execute(db);
    expect(indexes.rows.map((r) => r.indexname)).toEqual([
      'events_created_at_idx',
      'events_event_type_idx',
      'events_pkey',
      'events_session_id_idx',
    ]);
  });
});

describe('ensureDatabase', () => {
  it('creates a missing database once', async () => {
    const target = parseDatabaseUrl(database.url).withDatabase(`${database.name}_ensure`);
    try {
      expect(await ensureDatabase(target)).toBe(true);
      expect(await ensureDatabase(target)).toBe(false);
    } finally {
      await sql`drop database if exists ${sql.id(`${database.name}_ensure`)} with (force)`.execute(db);
    }
  });
});

describe('parseDatabaseUrl', () => {
  it('names the problem in one line, without the password', () => {
    expect(() => parseDatabaseUrl('')).toThrowError(DatabaseUrlError);
    expect(() => parseDatabaseUrl('not a url')).toThrowError(/not a valid URL/);
    expect(() => parseDatabaseUrl('mysql://u:secret@h/db')).toThrowError(/must start with postgres/);
    expect(() => parseDatabaseUrl('postgres://u:secret@h:5432/')).toThrowError(/must name a database/);
    expect(parseDatabaseUrl('postgres://u:secret@h:5432/db').display).toBe('h:5432/db');
  });
});
