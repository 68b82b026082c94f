import pg from 'pg';
import { parseDatabaseUrl } from './database-url.js';

const DUPLICATE_DATABASE = '42P04';

/** Creates the database named in `url` when it does not exist yet. Returns whether it was created. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const parts = parseDatabaseUrl(url);
  const client = new pg.Client({ connectionString: parts.withDatabase('postgres'), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [parts.database]);
    if (found.rowCount) return false;
    await client.query(`create database ${client.escapeIdentifier(parts.database)}`);
    return true;
  } catch (err) {
    // Another process created it between our check and our create: that is what we wanted.
    if ((err as { code?: string }).code === DUPLICATE_DATABASE) return false;
    throw err;
  } finally {
    await client.end();
  }
}
