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
 * Eight parameters whatever the batch size: one typed array per scalar column, zipped by `rows from (unnest(...))`,
 * and the payloads as one JSON array text split by `json_array_elements`. Thousands of placeholders would cost more
 * to parse than the insert itself, and this form measured faster than one `jsonb_to_recordset` document (plain `json`
 * is parsed once, each payload becomes `jsonb` once). Rows go in `event_id` order so two transactions inserting
 * overlapping ids lock them in the same order and do not deadlock. Pass a transaction as `db` to join a larger unit.
 */
export async function insertMany(db: Kysely<Database>, rows: readonly EventInsertRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const ordered = sortByEventId(rows);
  const n = ordered.length;
  const ids = new Array<string>(n);
  const types = new Array<string>(n);
  const sources = new Array<string>(n);
  const sessions = new Array<string | null>(n);
  const occurred = new Array<Date | string>(n);
  const payloads = new Array<JsonObject>(n);
  const streams = new Array<string | null>(n);
  const received = new Array<Date | string | null>(n);
  ordered.forEach((row, i) => {
    ids[i] = row.event_id;
    types[i] = row.event_type;
    sources[i] = row.source;
    sessions[i] = row.session_id ?? null;
    occurred[i] = row.occurred_at;
    payloads[i] = row.payload;
    streams[i] = row.stream_id ?? null;
    received[i] = row.received_at ?? null;
  });
  const result = await sql<{ event_id: string }>`
    insert into events (event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at)
    select event_id, event_type, source, session_id, occurred_at, payload::jsonb, stream_id, received_at
    from rows from (
      unnest(${ids}::uuid[]), unnest(${types}::text[]), unnest(${sources}::text[]), unnest(${sessions}::text[]),
      unnest(${occurred}::timestamptz[]), json_array_elements(${JSON.stringify(payloads)}::json),
      unnest(${streams}::text[]), unnest(${received}::timestamptz[])
    ) as t(event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at)
    on conflict (event_id) do nothing
    returning event_id`.execute(db);
  return new Set(result.rows.map((row) => row.event_id));
}

/** The stored event, or `undefined` when it is not there (or `id` is not a UUID, which no stored row can have). */
export async function findEventById(db: Kysely<Database>, id: string): Promise<EventRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return db.selectFrom('events').selectAll().where('event_id', '=', id).executeTakeFirst();
}

function sortByEventId(rows: readonly EventInsertRow[]): readonly EventInsertRow[] {
  if (rows.length === 1) return rows;
  // Keys computed once, not in every comparison: lower case is how Postgres orders (and prints) a uuid.
  const keyed = rows.map((row) => ({ key: row.event_id.toLowerCase(), row }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map(({ row }) => row);
}
