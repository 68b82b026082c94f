import type { Kysely } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { endSessions, findSessionById, startSessions, type Database } from '../src/index.js';
import { useMigratedDb } from './migrated-db.js';

const migratedDb = useMigratedDb();
let db: Kysely<Database>;
beforeAll(() => {
  db = migratedDb();
});

const T1 = '2026-11-22T10:00:00Z';
const T2 = '2026-11-22T11:00:00Z';
const T3 = '2026-11-22T12:00:00Z';

describe('startSessions', () => {
  it('creates a session once; a replay changes nothing', async () => {
    await startSessions(db, [{ session_id: 'a', source: 'cli', started_at: T1, metadata: { user: 'x' } }]);
    await startSessions(db, [{ session_id: 'a', source: 'web', started_at: T2, metadata: { user: 'y' } }]);
    expect(await findSessionById(db, 'a')).toMatchObject({
      session_id: 'a',
      source: 'cli',
      started_at: new Date(T1),
      ended_at: null,
      metadata: { user: 'x' },
    });
  });

  it('keeps the first row per session within one call', async () => {
    await startSessions(db, [
      { session_id: 'b', source: 'first', started_at: T2, metadata: null },
      { session_id: 'b', source: 'second', started_at: T1, metadata: null },
    ]);
    expect(await findSessionById(db, 'b')).toMatchObject({ source: 'first', started_at: new Date(T2) });
  });
});

describe('endSessions', () => {
  it('leaves a stub when the end comes first, which the start completes without touching ended_at', async () => {
    await endSessions(db, [{ session_id: 'c', source: 'ender', ended_at: T3 }]);
    expect(await findSessionById(db, 'c')).toMatchObject({ started_at: null, ended_at: new Date(T3), source: 'ender' });
    await startSessions(db, [{ session_id: 'c', source: 'cli', started_at: T1, metadata: { k: 1 } }]);
    expect(await findSessionById(db, 'c')).toMatchObject({
      source: 'cli',
      started_at: new Date(T1),
      ended_at: new Date(T3),
      metadata: { k: 1 },
    });
  });

  it('keeps the latest end, whatever the order', async () => {
    await endSessions(db, [
      { session_id: 'd', ended_at: T2 },
      { session_id: 'd', ended_at: T3 },
    ]);
    await endSessions(db, [{ session_id: 'd', ended_at: T1 }]);
    expect((await findSessionById(db, 'd'))?.ended_at).toEqual(new Date(T3));
  });

  it('finds nothing for an unknown session', async () => {
    expect(await findSessionById(db, 'nope')).toBeUndefined();
  });
});
