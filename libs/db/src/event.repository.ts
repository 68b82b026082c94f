import { sql, type Kysely } from 'kysely';
import type { Database, EventRow, JsonObject } from './database.js';

/** One event as {@link insertMany} writes it; timestamps may be RFC 3339 strings, which Postgres parses (keeping microseconds). */
export interface EventInsertRow {
  event_id: string;
  event_type: string;
  source: string;
  session_id?: string | null;
  occurred_at: Date | string;
  payload: JsonObject;
  stream_id?: string | null;
  received_at?: Date | string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Inserts many events in one statement and returns the ids (lower case, as Postgres prints a uuid) of the rows that
 * were new; ids already stored are skipped (`on conflict (event_id) do nothing`), which is what makes a retry safe.
 *
 * The whole batch travels as one `jsonb` parameter unpacked by `jsonb_to_recordset`: one parameter instead of nine per
 * row, because parsing thousands of placeholders costs more than the insert itself. Rows go in `event_id` order so two
 * transactions inserting overlapping ids lock them in the same order and cannot deadlock on each other.
 * Pass a transaction as `db` to make the insert part of a larger unit.
 */
export async function insertMany(db: Kysely<Database>, rows: readonly EventInsertRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const ordered = rows.length === 1 ? rows : [...rows].sort(byEventId);
  const result = await sql<{ event_id: string }>`
    insert into events (event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at)
    select event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at
    from jsonb_to_recordset(${JSON.stringify(ordered)}::jsonb) as t(
      event_id uuid, event_type text, source text, session_id text, occurred_at timestamptz,
      payload jsonb, stream_id text, received_at timestamptz)
    on conflict (event_id) do nothing
    returning event_id`.execute(db);
  return new Set(result.rows.map((row) => row.event_id));
}

/** Alias of {@link insertMany}, named for what it stores. */
export const insertEvents = insertMany;

/** The stored event, or `undefined` when it is not there (or `id` is not a UUID, which no stored row can have). */
export async function findEventById(db: Kysely<Database>, id: string): Promise<EventRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return db.selectFrom('events').selectAll().where('event_id', '=', id).executeTakeFirst();
}

function byEventId(a: EventInsertRow, b: EventInsertRow): number {
  const x = a.event_id.toLowerCase();
  const y = b.event_id.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}
