import type { Kysely } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { findTranscript, saveTranscript, startSessions, type Database } from '../src/index.js';
import { useMigratedDb } from './migrated-db.js';

const migratedDb = useMigratedDb();
let db: Kysely<Database>;
beforeAll(() => {
  db = migratedDb();
});

describe('saveTranscript', () => {
  it('is undefined (and stores nothing) while the session does not exist', async () => {
    expect(await saveTranscript(db, 'later', { lines: [] })).toBeUndefined();
    expect(await findTranscript(db, 'later')).toBeUndefined();
  });

  it('stores the transcript, then replaces it', async () => {
    await startSessions(db, [{ session_id: 's1', source: 'cli', started_at: new Date(), metadata: null }]);
    const first = await saveTranscript(db, 's1', [{ role: 'user', text: 'hi' }]);
    expect(first).toMatchObject({ session_id: 's1', transcript: [{ role: 'user', text: 'hi' }] });
    const second = await saveTranscript(db, 's1', { lines: ['a', 'b'] });
    expect(second?.transcript).toEqual({ lines: ['a', 'b'] });
    expect(second?.created_at).toEqual(first?.created_at);
    expect((await findTranscript(db, 's1'))?.transcript).toEqual({ lines: ['a', 'b'] });
  });
});
