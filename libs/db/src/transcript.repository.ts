import { sql, type Kysely } from 'kysely';
import type { Database, JsonValue, TranscriptRow } from './database.js';

/**
 * Stores (or replaces) the transcript of a session and returns the row. Returns `undefined` when the session does not
 * exist yet, so the caller can answer "try again later" instead of catching a foreign-key violation.
 */
export async function saveTranscript(
  db: Kysely<Database>,
  sessionId: string,
  transcript: JsonValue,
): Promise<TranscriptRow | undefined> {
  // Always a JSON string: pg would turn a JS array into a Postgres array literal, not JSON.
  const json = JSON.stringify(transcript);
  return db
    .insertInto('transcripts')
    .columns(['session_id', 'transcript'])
    .expression((eb) =>
      eb
        .selectFrom('sessions')
        .select(['session_id', sql<JsonValue>`${json}::jsonb`.as('transcript')])
        .where('session_id', '=', sessionId),
    )
    .onConflict((oc) =>
      oc
        .column('session_id')
        .doUpdateSet({ transcript: (eb) => eb.ref('excluded.transcript'), updated_at: sql`now()` }),
    )
    .returningAll()
    .executeTakeFirst();
}

/** The session's transcript, or `undefined` when none was stored. */
export async function findTranscript(db: Kysely<Database>, sessionId: string): Promise<TranscriptRow | undefined> {
  return db.selectFrom('transcripts').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
}
