import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { findEventById, insertMany, type Database, type EventInsertRow } from '../src/index.js';
import { useMigratedDb } from './migrated-db.js';

const migratedDb = useMigratedDb();
let db: Kysely<Database>;
beforeAll(() => {
  db = migratedDb();
});

function row(overrides: Partial<EventInsertRow> = {}): EventInsertRow {
  return {
    event_id: randomUUID(),
    event_type: 'test.thing',
    source: 'repo-test',
    occurred_at: '2026-11-22T10:00:00.123456+01:00',
    payload: { n: 1, nested: { list: [1, 'two', null, true] } },
    ...overrides,
  };
}

describe('insertMany', () => {
  it('returns the ids that were new and skips the ones already stored', async () => {
    const a = row();
    const b = row({ session_id: 'sess-1', stream_id: '1-0', received_at: new Date('2026-11-22T09:00:01Z') });
    expect(await insertMany(db, [a, b])).toEqual(new Set([a.event_id, b.event_id]));
    const c = row();
    expect(await insertMany(db, [b, c, a])).toEqual(new Set([c.event_id]));
    expect(await insertMany(db, [])).toEqual(new Set());
  });

  it('stores every column as given, microseconds included', async () => {
    const a = row({ session_id: 's', stream_id: '5-1', received_at: '2026-11-22T09:00:00.000001Z' });
    await insertMany(db, [a]);
    const stored = await findEventById(db, a.event_id);
    expect(stored).toMatchObject({
      event_id: a.event_id,
      event_type: 'test.thing',
      source: 'repo-test',
      session_id: 's',
      stream_id: '5-1',
      payload: a.payload,
    });
    expect(stored?.occurred_at.toISOString()).toBe('2026-11-22T09:00:00.123Z');
    expect(stored?.created_at).toBeInstanceOf(Date);
  });

  it('stores text that needs escaping in an array literal exactly as given', async () => {
    const tricky = row({ source: 'a "quoted", {braced} \\ back\\slash\'s', session_id: 'NULL', stream_id: '' });
    await insertMany(db, [tricky, row()]);
    expect(await findEventById(db, tricky.event_id)).toMatchObject({
      source: tricky.source,
      session_id: 'NULL',
      stream_id: '',
    });
  });

  it('matches ids whatever their case, and returns them lower case', async () => {
    const id = randomUUID();
    expect(await insertMany(db, [row({ event_id: id.toUpperCase() })])).toEqual(new Set([id]));
    expect(await insertMany(db, [row({ event_id: id })])).toEqual(new Set());
  });
});

describe('findEventById', () => {
  it('is undefined for an unknown id and for a string that is not a UUID', async () => {
    expect(await findEventById(db, randomUUID())).toBeUndefined();
    expect(await findEventById(db, 'not-a-uuid')).toBeUndefined();
  });
});
