import { sql, type Kysely } from 'kysely';
import type {
  Database,
  DeadLetterHistoryEntry,
  DeadLetterRow,
  DeadLetterState,
  JsonObject,
  NewDeadLetterRow,
} from './database.js';

/** Archives dead letters; a job id already archived is left as it is (dead-lettering again after a crash is a no-op). */
export async function archiveDeadLetters(db: Kysely<Database>, rows: readonly NewDeadLetterRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db
    .insertInto('dead_letters')
    .values([...rows])
    .onConflict((oc) => oc.column('job_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** Of `jobIds`, those that have an archive row. */
export async function archivedJobIds(db: Kysely<Database>, jobIds: readonly string[]): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('dead_letters')
    .select('job_id')
    .where('job_id', 'in', [...jobIds])
    .execute();
  return new Set(rows.map((row) => row.job_id));
}

/**
 * Moves dead letters to `state` and appends `entry` to their history, in one statement. `resolve` also sets
 * `resolved_at`. Returns the job ids that were changed (unknown ones are not).
 */
export async function recordDeadLetterAction(
  db: Kysely<Database>,
  jobIds: readonly string[],
  state: DeadLetterState,
  entry: DeadLetterHistoryEntry,
): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const rows = await db
    .updateTable('dead_letters')
    .set({
      state,
      history: sql`history || ${JSON.stringify([entry])}::jsonb`,
      ...(entry.action === 'resolve' ? { resolved_at: entry.at } : {}),
    })
    .where('job_id', 'in', [...jobIds])
    .returning('job_id')
    .execute();
  return rows.map((row) => row.job_id);
}

/** Sets the state of dead letters without a history entry (a redriven job that failed again is `failed` again). */
export async function setDeadLetterState(db: Kysely<Database>, jobId: string, state: DeadLetterState): Promise<void> {
  await db.updateTable('dead_letters').set({ state }).where('job_id', '=', jobId).execute();
}

/** The newest archived dead letter of an event (ids compared case-insensitively, as Postgres compares uuids). */
export async function findDeadLetterByEventId(
  db: Kysely<Database>,
  eventId: string,
): Promise<DeadLetterRow | undefined> {
  return db
    .selectFrom('dead_letters')
    .selectAll()
    .where(sql<string>`lower(event_id)`, '=', eventId.toLowerCase())
    .orderBy('dead_lettered_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** What {@link searchDeadLetters} filters on; every field is optional and they combine with AND. */
export interface DeadLetterFilter {
  /** An event type, or null for entries that could not be decoded (no type). */
  eventType?: string | null;
  verdict?: 'data' | 'code';
  state?: DeadLetterState;
  /** Dead-lettered at or after. */
  since?: Date;
  /** Dead-lettered before. */
  until?: Date;
  /** A case-insensitive substring of the error message. */
  error?: string;
  /** Rows whose decoded event's payload contains this (jsonb `@>`). */
  payload?: JsonObject;
  /** @defaultValue 50 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** One page of {@link searchDeadLetters}, newest first. */
export interface DeadLetterPage {
  items: DeadLetterRow[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Thrown for a cursor this code did not make. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

function encodeCursor(row: DeadLetterRow): string {
  return Buffer.from(`${row.dead_lettered_at.toISOString()}|${row.job_id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; jobId: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const at = new Date(text.slice(0, bar));
  if (bar < 0 || Number.isNaN(at.getTime())) throw new InvalidCursorError('cursor is not one this API returned');
  return { at, jobId: text.slice(bar + 1) };
}

/** `%`, `_` and `\` match themselves in the ILIKE pattern. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Searches the archive, newest first, one page at a time (keyset on dead_lettered_at, then job_id). */
export async function searchDeadLetters(db: Kysely<Database>, filter: DeadLetterFilter = {}): Promise<DeadLetterPage> {
  const limit = filter.limit ?? 50;
  let query = db.selectFrom('dead_letters').selectAll();
  if (filter.eventType === null) query = query.where('event_type', 'is', null);
  else if (filter.eventType !== undefined) query = query.where('event_type', '=', filter.eventType);
  if (filter.verdict !== undefined) query = query.where('verdict', '=', filter.verdict);
  if (filter.state !== undefined) query = query.where('state', '=', filter.state);
  if (filter.since !== undefined) query = query.where('dead_lettered_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('dead_lettered_at', '<', filter.until);
  if (filter.error !== undefined) query = query.where('error_message', 'ilike', `%${likeLiteral(filter.error)}%`);
  if (filter.payload !== undefined)
    query = query.where(sql<boolean>`payload @> ${JSON.stringify(filter.payload)}::jsonb`);
  if (filter.cursor !== undefined) {
    const { at, jobId } = decodeCursor(filter.cursor);
    query = query.where(sql<boolean>`(dead_lettered_at, job_id) < (${at}, ${jobId})`);
  }
  const rows = await query
    .orderBy('dead_lettered_at', 'desc')
    .orderBy('job_id', 'desc')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
