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

/** What was done to a dead letter, by whom, and how: one element of `dead_letters.history`. */
export interface DeadLetterHistoryEntry {
  at: string;
  action: 'redrive' | 'purge' | 'resolve';
  via: 'cli' | 'board' | 'api' | 'worker';
  by: string;
}

/** The states of an archived dead letter. */
export type DeadLetterState = 'failed' | 'redriven' | 'resolved' | 'purged';

/** `dead_letters`: the archive of every dead letter, keyed by its BullMQ job id. */
export interface DeadLetterTable {
  job_id: string;
  event_id: string | null;
  event_type: string | null;
  stream: string;
  entry_id: string;
  fields: Jsonb<Record<string, string>>;
  payload: ColumnType<JsonObject | null, JsonObject | string | null | undefined, JsonObject | string | null>;
  verdict: 'data' | 'code';
  error_message: string;
  error_stack: string | null;
  delivery_count: number;
  dead_lettered_at: Timestamp;
  state: ColumnType<DeadLetterState, DeadLetterState | undefined, DeadLetterState>;
  resolved_at: NullableTimestamp;
  history: ColumnType<DeadLetterHistoryEntry[], string | undefined, string>;
  data: Jsonb<JsonObject>;
}

/** The Kysely database type. */
export interface Database {
  events: EventTable;
  sessions: SessionTable;
  transcripts: TranscriptTable;
  dead_letters: DeadLetterTable;
}

/** A stored event. */
export type EventRow = Selectable<EventTable>;
/** An event as inserted. */
export type NewEventRow = Insertable<EventTable>;
/** A stored session. */
export type SessionRow = Selectable<SessionTable>;
/** A stored transcript. */
export type TranscriptRow = Selectable<TranscriptTable>;
/** An archived dead letter. */
export type DeadLetterRow = Selectable<DeadLetterTable>;
/** A dead letter as archived. */
export type NewDeadLetterRow = Insertable<DeadLetterTable>;
