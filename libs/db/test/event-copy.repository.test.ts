import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyInsertMany, findEventById, insertMany, type Database, type EventInsertRow } from '../src/index.js';
import { useMigratedDb } from './migrated-db.js';

const migratedDb = useMigratedDb();
let db: Kysely<Database>;
let client: pg.Client;
let connect: () => Promise<pg.Client>;
beforeAll(async () => {
  db = migratedDb();
  // copyInsertMany takes a plain pg client: one on the database useMigratedDb made, on the server the tests use.
  const { name } = await db
    .selectNoFrom((eb) => eb.fn<string>('current_database', []).as('name'))
    .executeTakeFirstOrThrow();
  const url = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/${name}`;
  connect = async () => {
    const fresh = new pg.Client({ connectionString: url.toString() });
    await fresh.connect();
    return fresh;
  };
  client = await connect();
});
afterAll(async () => {
  await client?.end();
});

function row(overrides: Partial<EventInsertRow> = {}): EventInsertRow {
  return {
    event_id: randomUUID(),
    event_type: 'test.thing',
    source: 'copy-test',
    occurred_at: '2026-11-22T10:00:00.123456+01:00',
    payload: { n: 1, nested: { list: [1, 'two', null, true] } },
    ...overrides,
  };
}

describe('copyInsertMany', () => {
  it('returns the ids that were new and skips the ones already stored, by either write path', async () => {
    const a = row();
    const b = row({ session_id: 'sess-1', stream_id: '1-0', received_at: new Date('2026-11-22T09:00:01Z') });
    expect(await copyInsertMany(client, [a, b])).toEqual(new Set([a.event_id, b.event_id]));
    const c = row();
    expect(await copyInsertMany(client, [b, c, a])).toEqual(new Set([c.event_id]));
    const d = row();
    await insertMany(db, [d]);
    expect(await copyInsertMany(client, [d])).toEqual(new Set());
    expect(await copyInsertMany(client, [])).toEqual(new Set());
  });

  it('stores text that COPY must escape (tabs, newlines, backslashes) exactly as given', async () => {
    const tricky = row({
      source: 'tab\there, line\nbreak, back\\slash, \\N, cr\r',
      session_id: 'NULL',
      stream_id: '',
      payload: { text: 'a\tb\\n"c"', unicode: 'é漢🙂' },
    });
    await copyInsertMany(client, [tricky, row()]);
    expect(await findEventById(db, tricky.event_id)).toMatchObject({
      source: tricky.source,
      session_id: 'NULL',
      stream_id: '',
      payload: tricky.payload,
    });
    const stored = await findEventById(db, tricky.event_id);
    expect(stored?.occurred_at.toISOString()).toBe('2026-11-22T09:00:00.123Z');
  });

  it('fails the whole batch on a row Postgres refuses, leaving nothing behind, and works again after', async () => {
    const good = row();
    const bad = row({ occurred_at: 'not a date' });
    await expect(copyInsertMany(client, [good, bad])).rejects.toMatchObject({ code: '22007' });
    expect(await findEventById(db, good.event_id)).toBeUndefined();
    const later = row();
    expect(await copyInsertMany(client, [later])).toEqual(new Set([later.event_id]));
  });

  it('joins a transaction: a rollback takes its rows away', async () => {
    const a = row();
    await client.query('begin');
    expect(await copyInsertMany(client, [a])).toEqual(new Set([a.event_id]));
    await client.query('rollback');
    expect(await findEventById(db, a.event_id)).toBeUndefined();
  });

  it('makes the staging table again when the transaction that made it rolled back', async () => {
    const fresh = await connect();
    try {
      await fresh.query('begin');
      await copyInsertMany(fresh, [row()]);
      await fresh.query('rollback');
      const b = row();
      expect(await copyInsertMany(fresh, [b])).toEqual(new Set([b.event_id]));
    } finally {
      await fresh.end();
    }
  });
});
