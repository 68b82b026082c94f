import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Any JSON value as `jsonb` stores it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object, the shape of an event payload. */
export type JsonObject = { [key: string]: JsonValue };

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Jsonb<T> = ColumnType<T, T | string, T | string>;

/** `events`: one row per accepted event, keyed by the client's or the API's `event_id`. */
export interface EventTable {
  event_id: string;
  event_type: string;
  source: string;
  session_id: string | null;
  occurred_at: Timestamp;
  payload: Jsonb<JsonObject>;
  stream_id: string | null;
  received_at: NullableTimestamp;
  created_at: Generated<Date>;
}

/** `sessions`: created by `session.start`, closed by `session.end`. */
export interface SessionTable {
  session_id: string;
  source: string | null;
  started_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  metadata: ColumnType<JsonObject | null, JsonObject | string | null | undefined, JsonObject | string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** `transcripts`: one transcript per session. */
export interface TranscriptTable {
  session_id: string;
  transcript: Jsonb<JsonValue>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** The Kysely database type. */
export interface Database {
  events: EventTable;
  sessions: SessionTable;
  transcripts: TranscriptTable;
}

/** A stored event. */
export type EventRow = Selectable<EventTable>;
/** An event as inserted. */
export type NewEventRow = Insertable<EventTable>;
/** A stored session. */
export type SessionRow = Selectable<SessionTable>;
/** A stored transcript. */
export type TranscriptRow = Selectable<TranscriptTable>;
