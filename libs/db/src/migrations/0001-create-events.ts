import { sql, type Kysely } from 'kysely';

/** `events`, with the indexes the look-ups need; `created_at` gets a BRIN index because rows arrive in time order. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('event_id', 'uuid', (col) => col.primaryKey())
    .addColumn('event_type', 'text', (col) => col.notNull())
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('session_id', 'text')
    .addColumn('occurred_at', 'timestamptz', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('stream_id', 'text')
    .addColumn('received_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('events_event_type_idx').on('events').column('event_type').execute();
  await db.schema
    .createIndex('events_session_id_idx')
    .on('events')
    .column('session_id')
    .where(sql.ref('session_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('events_created_at_idx').on('events').using('brin').column('created_at').execute();
}

/** Drops `events`. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('events').execute();
}
