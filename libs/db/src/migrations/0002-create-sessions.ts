import { sql, type Kysely } from 'kysely';

/** `sessions` and their `transcripts`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('session_id', 'text', (col) => col.primaryKey())
    .addColumn('source', 'text')
    .addColumn('started_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('metadata', 'jsonb')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('sessions_created_at_idx').on('sessions').column('created_at').execute();
  await db.schema
    .createTable('transcripts')
    .addColumn('session_id', 'text', (col) => col.primaryKey().references('sessions.session_id').onDelete('cascade'))
    .addColumn('transcript', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

/** Drops `transcripts` and `sessions`. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('transcripts').execute();
  await db.schema.dropTable('sessions').execute();
}
