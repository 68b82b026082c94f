import { sql, type Kysely } from 'kysely';
import type { Database, JsonObject, SessionRow } from './database.js';

/** What a `session.start` event contributes to its session. */
export interface SessionStartRow {
  session_id: string;
  source: string | null;
  started_at: Date | string;
  metadata: JsonObject | null;
}

/** What a `session.end` event contributes to its session. */
export interface SessionEndRow {
  session_id: string;
  /** Kept on the stub row when the end arrives before the start; the start's own source replaces it. */
  source?: string | null;
  ended_at: Date | string;
}

/**
 * Starts many sessions in one statement. Idempotent: a session that has already started is left as it is, so a
 * replayed `session.start` changes nothing. A stub row left by an earlier `session.end` (no `started_at` yet) gets its
 * start filled in, and its `ended_at` is not touched. Within one call the first row per session wins.
 */
export async function startSessions(db: Kysely<Database>, rows: readonly SessionStartRow[]): Promise<void> {
  if (rows.length === 0) return;
  // `ord` keeps the caller's order through `distinct on`; sorting by session_id also fixes the lock order.
  const json = JSON.stringify(rows.map((row, ord) => ({ ...row, ord })));
  await sql`
    insert into sessions (session_id, source, started_at, metadata)
    select distinct on (session_id) session_id, source, started_at, metadata
    from jsonb_to_recordset(${json}::jsonb) as t(session_id text, source text, started_at timestamptz, metadata jsonb, ord int)
    order by session_id, ord
    on conflict (session_id) do update
      set source = excluded.source, started_at = excluded.started_at, metadata = excluded.metadata, updated_at = now()
      where sessions.started_at is null`.execute(db);
}

/**
 * Ends many sessions in one statement. A session not started yet gets a stub row holding `ended_at`, which a later
 * `session.start` completes. When several ends meet, the latest `ended_at` wins, whatever order they arrive in.
 */
export async function endSessions(db: Kysely<Database>, rows: readonly SessionEndRow[]): Promise<void> {
  if (rows.length === 0) return;
  const json = JSON.stringify(rows.map((row) => ({ source: null, ...row })));
  await sql`
    insert into sessions (session_id, source, ended_at)
    select distinct on (session_id) session_id, source, ended_at
    from jsonb_to_recordset(${json}::jsonb) as t(session_id text, source text, ended_at timestamptz)
    order by session_id, ended_at desc
    on conflict (session_id) do update
      set ended_at = greatest(sessions.ended_at, excluded.ended_at), updated_at = now()`.execute(db);
}

/** The session, or `undefined` when no event has created it yet. */
export async function findSessionById(db: Kysely<Database>, sessionId: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
}
