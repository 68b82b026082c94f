import { sql, type Kysely } from 'kysely';

/**
 * `dead_letters`: every dead letter also as a row, so it can be searched (by type, error text, payload), keeps the
 * history of who redrove or purged it, and survives a Redis that lost its data.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dead_letters')
    .addColumn('job_id', 'text', (col) => col.primaryKey())
    .addColumn('event_id', 'text')
    .addColumn('event_type', 'text')
    .addColumn('stream', 'text', (col) => col.notNull())
    .addColumn('entry_id', 'text', (col) => col.notNull())
    .addColumn('fields', 'jsonb', (col) => col.notNull())
    // The decoded event's payload, when the entry could be decoded: what `payload @> ...` searches.
    .addColumn('payload', 'jsonb')
    .addColumn('verdict', 'text', (col) => col.notNull().check(sql`verdict in ('data', 'code')`))
    .addColumn('error_message', 'text', (col) => col.notNull())
    .addColumn('error_stack', 'text')
    .addColumn('delivery_count', 'integer', (col) => col.notNull())
    .addColumn('dead_lettered_at', 'timestamptz', (col) => col.notNull())
    .addColumn('state', 'text', (col) =>
      col
        .notNull()
        .defaultTo('failed')
        .check(sql`state in ('failed', 'redriven', 'resolved', 'purged')`),
    )
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('history', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    // The whole job data, so a dead letter whose job is gone (Redis lost its data) can be queued again as it was.
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('dead_letters_event_id_idx').on('dead_letters').column('event_id').execute();
  await sql`create index dead_letters_dead_lettered_at_idx on dead_letters (dead_lettered_at desc, job_id desc)`.execute(
    db,
  );
  await sql`create index dead_letters_payload_idx on dead_letters using gin (payload jsonb_path_ops)`.execute(db);
}

/** Drops `dead_letters`. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dead_letters').execute();
}
