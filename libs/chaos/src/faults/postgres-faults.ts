import pg from 'pg';
import { DATABASE } from '../pipeline.js';
import type { Fault } from './fault.js';
import { seconds, sleep } from './fault.js';

/** Runs `work` with a superuser connection to the pipeline's database. */
async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  // A connection cut by a fault must not crash the run; the query in flight fails with it.
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Ends every other session on the database, so the apps' pools reconnect and pick up per-database settings. */
async function cutSessions(client: pg.Client): Promise<number> {
  const { rowCount } = await client.query(
    'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  return rowCount ?? 0;
}

/** Postgres stopped at once (connections cut, like a crash) and started again after `holdMs`. */
const postgresRestart: Fault = {
  kind: 'postgres-restart',
  resources: ['postgres'],
  async run({ pipeline: { postgres } }, fault) {
    postgres.stop();
    await sleep(fault.holdMs);
    postgres.start();
    return `Postgres stopped (immediate), down ${seconds(fault.holdMs)}, started`;
  },
};

/** The database read-only for `holdMs`, as after a failover to a replica (SQLSTATE 25006): a stall, not dead letters. */
const postgresReadOnly: Fault = {
  kind: 'postgres-read-only',
  resources: ['postgres'],
  async run({ pipeline: { databaseUrl } }, fault) {
    const cut = await withAdmin(databaseUrl, async (client) => {
      await client.query(`alter database ${DATABASE} set default_transaction_read_only = on`);
      return cutSessions(client);
    });
    await sleep(fault.holdMs);
    await withAdmin(databaseUrl, async (client) => {
      // This new session is read-only by default too; it opts out before it can lift the setting.
      await client.query('set default_transaction_read_only = off');
      await client.query(`alter database ${DATABASE} reset default_transaction_read_only`);
      await cutSessions(client);
    });
    return `database read-only for ${seconds(fault.holdMs)} (${cut} sessions cut to pick it up)`;
  },
};

/** An ACCESS EXCLUSIVE lock on events for `holdMs`, past the consumer's statement timeout (57014): a stall. */
const postgresLock: Fault = {
  kind: 'postgres-lock',
  resources: ['postgres'],
  async run({ pipeline: { databaseUrl } }, fault) {
    const waitedMs = await withAdmin(databaseUrl, async (client) => {
      const started = Date.now();
      await client.query('begin');
      await client.query('lock table events in access exclusive mode');
      const waited = Date.now() - started;
      await sleep(fault.holdMs);
      await client.query('commit');
      return waited;
    });
    return `lock on events held ${seconds(fault.holdMs)} (got it after ${seconds(waitedMs)})`;
  },
};

/** The Postgres faults. */
export const POSTGRES_FAULTS: readonly Fault[] = [postgresRestart, postgresReadOnly, postgresLock];
