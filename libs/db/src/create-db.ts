import { Kysely, PostgresDialect, type KyselyConfig } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';
import { parseDatabaseUrl } from './database-url.js';

/** Options for {@link createDb}. */
export interface CreateDbOptions {
  /** Postgres URL; validated first. */
  url: string;
  /** Pool size. @defaultValue 10 */
  max?: number;
  /** How long to wait for a connection before failing (so an outage surfaces as an error, not a hang). @defaultValue 5000 */
  connectionTimeoutMillis?: number;
  /** Server-side statement timeout. @defaultValue 30000 */
  statementTimeoutMillis?: number;
  /** Called for errors on idle pooled clients (a restarted server); without a listener they would crash the process. */
  onPoolError?: (err: Error) => void;
  /** Kysely's query log (levels or a callback); tests count round trips with it. @defaultValue none */
  log?: KyselyConfig['log'];
}

/** A Kysely instance over a `pg` pool. Whoever calls this calls `db.destroy()`. */
export function createDb(options: CreateDbOptions): Kysely<Database> {
  parseDatabaseUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    statement_timeout: options.statementTimeoutMillis ?? 30_000,
  });
  pool.on('error', (err) => options.onPoolError?.(err));
  // pg-pool listens for client errors only while a client is idle. A connection cut while a client is checked out
  // (a server restart in the middle of a transaction) would emit 'error' with no listener and crash the process.
  // The failure is not lost: the query in flight, or the next one on that client, rejects with it.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
}
