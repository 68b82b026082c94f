import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventInsertRow } from './event.repository.js';

const COLUMNS = 'event_id, event_type, source, session_id, occurred_at, payload, stream_id, received_at';
const STAGING = 'sluice_event_staging';
const UNDEFINED_TABLE = '42P01';
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Clients known to hold the session's staging table (a temporary table lives as long as its connection). */
const staged = new WeakSet<pg.ClientBase>();

/**
 * The COPY write path, the same contract as `insertMany` (returns the ids that were new; ids already stored are
 * skipped): `COPY ... FROM STDIN` into a temporary staging table of this connection, then one statement that empties
 * the staging table into `events` (`insert ... select ... order by event_id on conflict (event_id) do nothing`).
 * Two round trips per call (three the first time on a connection). Works inside a transaction or without one: the only
 * durable effect is the one insert statement, and a failed insert leaves the staging table empty again.
 *
 * Measured against `insertMany` by `npm run bench` (its ceilings rows); the consumer keeps `insertMany` (see
 * docs/benchmarks.md), so this takes a `pg` client rather than Kysely.
 */
export async function copyInsertMany(client: pg.ClientBase, rows: readonly EventInsertRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  try {
    await copyRows(client, rows);
  } catch (err) {
    // The table went with a rolled-back transaction or a reset session: create it again and retry once.
    if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
    staged.delete(client);
    await copyRows(client, rows);
  }
  try {
    const result = await client.query<{ event_id: string }>(
      `with moved as (delete from ${STAGING} returning ${COLUMNS})
       insert into events (${COLUMNS}) select ${COLUMNS} from moved order by event_id
       on conflict (event_id) do nothing returning event_id`,
    );
    return new Set(result.rows.map((row) => row.event_id));
  } catch (err) {
    // Outside a transaction the copied rows stay behind when the insert fails; inside one this fails too (the
    // transaction is aborted) and the rollback takes them away.
    await client.query(`delete from ${STAGING}`).catch(() => {});
    throw err;
  }
}

async function copyRows(client: pg.ClientBase, rows: readonly EventInsertRow[]): Promise<void> {
  if (!staged.has(client)) {
    // The eight columns with their types and nothing else (no constraints): created_at is filled by the insert.
    await client.query(`create temporary table if not exists ${STAGING} as select ${COLUMNS} from events with no data`);
    staged.add(client);
  }
  const text = rows.map(copyLine).join('');
  await pipeline(Readable.from([text]), client.query(copyFrom(`copy ${STAGING} (${COLUMNS}) from stdin`)));
}

/** One row in COPY's text format: tab-separated, `\N` for null, backslash escapes. */
function copyLine(row: EventInsertRow): string {
  const values = [
    row.event_id,
    row.event_type,
    row.source,
    row.session_id ?? null,
    timestamp(row.occurred_at),
    JSON.stringify(row.payload),
    row.stream_id ?? null,
    row.received_at == null ? null : timestamp(row.received_at),
  ];
  return `${values.map((value) => (value === null ? '\\N' : value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] ?? c))).join('\t')}\n`;
}

function timestamp(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : value;
}
